/**
 * Request bodies under a size limit, counted as they stream in, so a chunked body (which declares
 * no length) is cut as soon as it passes the limit rather than after it has been buffered.
 */
import type { IncomingMessage } from "node:http";

/** True when a request carries a body: a length above 0, or a chunked one. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/**
 * Reads a body whole as UTF-8 text; resolves undefined, reading no further, once it passes
 * `maxBytes`. Rejects when the client goes away mid-body.
 */
export function readBodyWithin(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) reject(new Error("the client went away mid-body"));
    });
  });
}

/**
 * Counts a body as it streams through to somewhere else (a proxy's upstream), calling `over` once
 * it passes `maxBytes`. Attach it in the same tick as the pipe, so no chunk flows unseen.
 */
export function watchBodySize(req: IncomingMessage, maxBytes: number, over: () => void): void {
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBytes) return;
    req.off("data", onData);
    over();
  };
  req.on("data", onData);
}
