/**
 * Where HAProxy asks, for each websocket upgrade, which node to send it to (haproxy-route.lua):
 * a unix socket in the gateway's private directory, one question per connection. The question is
 * `<client address> <client port> <request target> <X-Forwarded-For>`; the answer is
 * `route <ip> <port>`, or `refuse <status> <json>` for HAProxy to answer the client with. The
 * gateway may hold a question while the room has no live owner; a question whose upgrade went away
 * meanwhile (HAProxy closes its end) is answered with nothing.
 */
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { type AddressList, normalizeAddress, resolveClientAddress } from "../edge/client-address.ts";
import type { Refusal } from "../edge/edge.ts";

export interface RouteQuestion {
  /** The client as the public edge resolves it (X-Forwarded-For believed from trusted proxies only). */
  readonly address: string;
  /** The socket's peer and port as HAProxy saw it: how HAProxy's runtime API names the session. */
  readonly source: string;
  readonly target: string;
  /** True once HAProxy gave up on the upgrade (its client left). */
  readonly gone: () => boolean;
}

export type RouteAnswer = { readonly kind: "route"; readonly ip: string; readonly port: number } | { readonly kind: "refuse"; readonly refusal: Refusal };

/** HAProxy's request line and headers fit in its 16 KiB buffer; a question is never longer. */
const MAX_QUESTION_BYTES = 32 * 1024;

export class RouteService {
  private readonly server: Server;

  constructor(trustedProxies: AddressList, answer: (q: RouteQuestion) => Promise<RouteAnswer | undefined>) {
    this.server = createServer((socket) => {
      let text = "";
      socket.on("error", () => socket.destroy());
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        const end = text.indexOf("\n");
        if (end < 0) {
          if (text.length > MAX_QUESTION_BYTES) socket.destroy();
          return;
        }
        socket.removeAllListeners("data");
        const question = parseQuestion(text.slice(0, end), trustedProxies, socket);
        if (!question) return void socket.destroy();
        answer(question).then(
          (a) => {
            if (!a) socket.destroy();
            else socket.end(a.kind === "route" ? `route ${a.ip} ${a.port}\n` : `refuse ${a.refusal.status} ${refusalBody(a.refusal)}\n`);
          },
          () => socket.destroy(),
        );
      });
    });
  }

  listen(path: string): Promise<void> {
    rmSync(path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(path, () => resolve());
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function parseQuestion(line: string, trustedProxies: AddressList, socket: Socket): RouteQuestion | undefined {
  const m = /^(\S+) (\d{1,5}) (\S+) ?(.*)$/.exec(line);
  const peer = m ? normalizeAddress(m[1]!) : undefined;
  if (!m || !peer) return undefined;
  const forwarded = m[4] === "" ? undefined : m[4];
  return { address: resolveClientAddress(peer, forwarded, trustedProxies), source: `${m[1]}:${m[2]}`, target: m[3]!, gone: () => socket.destroyed || socket.readableEnded };
}

/** The body a refused upgrade gets, as the gateway's own refusals (`refuseOnSocket`) have it. */
function refusalBody(refusal: Refusal): string {
  return JSON.stringify({ code: refusal.status, error: refusal.message });
}
