/**
 * What the edge-limit tests attack with: raw HTTP requests and sockets from a loopback address of
 * their own (127.0.0.2 and up), so per-address limits can tell the attacker from the honest
 * players on 127.0.0.1.
 */
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly from: string;
  /** Reuse connections (a client's usual keep-alive pool) rather than open one per request. */
  readonly agent?: Agent;
}

/** A keep-alive pool of `sockets` connections from `from`, as a browser or an HTTP library keeps one. */
export function keepAlive(from: string, sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, localAddress: from });
}

/** One HTTP request from `from`; resolves with the answer (or rejects if the connection fails). */
export function send(url: string, path: string, o: RequestOptions): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path, method: o.method ?? "POST", localAddress: o.from, agent: o.agent ?? false, headers: { "content-type": "application/json", ...o.headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/** A matchmaking call (`joinOrCreate`, `create`, `joinById/<id>`) from `from`, its seat never used. */
export function matchmake(url: string, route: string, from: string, headers: Record<string, string> = {}, agent?: Agent): Promise<Answer> {
  return send(url, `/matchmake/${route}`, { from, headers, body: JSON.stringify({ name: "attacker" }), ...(agent ? { agent } : {}) });
}

/**
 * A POST that declares (or, chunked, just sends) a `bytes`-byte body and streams it in 1 MB
 * chunks for as long as the server reads: resolves with the status the server answered, or 0
 * when it closed the connection without one.
 */
export function postHugeBody(url: string, path: string, bytes: number, from: string, chunked: boolean): Promise<number> {
  const target = new URL(url);
  const chunk = Buffer.alloc(1 << 20, 0x61);
  return new Promise((resolve) => {
    let status = 0;
    const req = request({
      host: target.hostname,
      port: target.port,
      path,
      method: "POST",
      localAddress: from,
      agent: false,
      headers: { "content-type": "application/json", ...(chunked ? {} : { "content-length": String(bytes) }) },
    });
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on("end", () => resolve(status));
    });
    req.on("error", () => resolve(status));
    req.on("close", () => resolve(status));
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** Raw TCP connections from `from` that send nothing: they wait for the server to cut them. */
export async function openIdleSockets(url: string, count: number, from: string): Promise<Socket[]> {
  const target = new URL(url);
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: from });
          socket.once("connect", () => resolve(socket));
          // A listener that refuses at once (a gateway's HAProxy past MAX_SOCKETS_PER_IP) resets the
          // connection as it accepts it, which may reach the socket before its connect does: cut.
          socket.once("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? resolve(socket) : reject(err)));
          socket.on("error", () => undefined);
        }),
    ),
  );
}

/** True once the server has closed the socket (or it never opened). */
export function serverClosed(socket: Socket): boolean {
  return socket.destroyed || socket.readableEnded;
}

/**
 * A websocket upgrade request from `from`, written by hand: resolves with the status line's code
 * (101 when the server accepted it) and the socket, left open.
 */
export function upgrade(url: string, path: string, from: string, headers: Record<string, string> = {}): Promise<{ status: number; socket: Socket; text: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: from });
    socket.on("error", () => undefined);
    let text = "";
    socket.once("connect", () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
      );
    });
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      const line = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (line && text.includes("\r\n\r\n")) resolve({ status: Number(line[1]), socket, text });
    });
    socket.once("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), socket, text }));
    socket.once("error", reject);
  });
}
