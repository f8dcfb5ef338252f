/**
 * Every Colyseus internal Locus relies on (a private field or undocumented behaviour), one small
 * function each, so that an upgrade of Colyseus breaks here and nowhere else.
 */
import type { IncomingMessage, RequestListener, Server as HttpServer, ServerResponse } from "node:http";
import { matchMaker } from "@colyseus/core";

/**
 * Read from @colyseus/core 0.18.17 (router/index.mjs `bindRouterToTransport`, router/node.mjs):
 * every HTTP answer, on every route and not only matchmaking, carries
 * `controller.DEFAULT_CORS_HEADERS` (`Access-Control-Allow-Origin: *` with credentials) overlaid
 * with `controller.getCorsHeaders(headers)` (which reflects any Origin). Emptying the defaults
 * leaves the CORS headers wholly to `headersFor`.
 */
export function setCorsHeaders(headersFor: (origin: string | null) => Readonly<Record<string, string>>): void {
  (matchMaker.controller as { DEFAULT_CORS_HEADERS: Record<string, string> }).DEFAULT_CORS_HEADERS = {};
  matchMaker.controller.getCorsHeaders = (headers: Headers) => ({ ...headersFor(headers.get("origin")) });
}

/**
 * Read from @colyseus/core 0.18.17 (router/index.mjs `bindRouterToTransport`, run by
 * `Server.listen()` once the port is bound): Colyseus prepends a "request" listener that answers
 * every OPTIONS itself (204) before Express sees it. A request that must be answered before Colyseus
 * (`answer` returns true once it has) is therefore caught ahead of every listener the server has;
 * call this after `listen()` resolves.
 */
export function answerAheadOfColyseus(server: HttpServer, answer: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (answer(req, res)) return;
    for (const listener of listeners) listener.call(server, req, res);
  });
}
