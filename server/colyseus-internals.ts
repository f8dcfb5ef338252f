/**
 * Every Colyseus internal Locus relies on (a private field or undocumented behaviour), one small
 * function each, so that an upgrade of Colyseus breaks here and nowhere else.
 */
import type { IncomingMessage, RequestListener, Server as HttpServer, ServerResponse } from "node:http";
import { matchMaker } from "@colyseus/core";
import type { WebSocketTransport } from "@colyseus/ws-transport";
import type { WebSocketServer } from "ws";

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

/**
 * The ws server a transport accepts sockets with. @colyseus/ws-transport 0.18.4 keeps it in the
 * protected `wss`, built with the transport's own options (so a `WebSocket` class given to the
 * transport is the class of every socket), and emits `connection` with each socket and its
 * upgrade request before any frame of that socket is read.
 */
export function socketServerOf(transport: WebSocketTransport): WebSocketServer {
  return (transport as unknown as { wss: WebSocketServer }).wss;
}

// @colyseus/ws-transport 0.18.4, WebSocketTransport.onConnection.
const ROOM_SOCKET_PATH = /\/[a-zA-Z0-9_-]+\/([a-zA-Z0-9_-]+)$/;

/**
 * Which room a socket's upgrade URL asks for, as the transport reads it: the last segment of
 * `/<processId>/<roomId>`. A socket with neither a room nor a `sessionId` is the transport's
 * latency probe, which it answers with a PING for every frame for a second, then closes
 * (@colyseus/ws-transport 0.18.4).
 */
export function roomOfSocketUrl(url: URL): { roomId: string | undefined; probe: boolean } {
  const roomId = ROOM_SOCKET_PATH.exec(url.pathname)?.[1];
  return { roomId, probe: roomId === undefined && !url.searchParams.get("sessionId") };
}

/** Six bits of field index on the wire. */
const SCHEMA_FIELD_SLOTS = 64;

/**
 * A schema class's fields by wire index, with their declared types. @colyseus/schema 5.0.34
 * keeps them in the class's `Symbol.metadata` as `{ [index]: { name, type, index } }`, and its
 * decoder reads a field's index from the low six bits of the byte that opens the field.
 */
export function schemaFieldTypes(schemaClass: abstract new (...args: any[]) => object): Map<number, unknown> {
  const metadataKey = (Symbol as unknown as { metadata: symbol }).metadata;
  const metadata = (schemaClass as unknown as Record<symbol, Record<number, { type: unknown } | undefined> | undefined>)[metadataKey] ?? {};
  const fields = new Map<number, unknown>();
  for (let index = 0; index < SCHEMA_FIELD_SLOTS; index++) {
    const field = metadata[index];
    if (field) fields.set(index, field.type);
  }
  return fields;
}
