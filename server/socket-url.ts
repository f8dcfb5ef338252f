/**
 * Which room a websocket upgrade asks for, read as the Colyseus transport reads it. Plain URL
 * parsing with no Colyseus code, so a gateway that routes sockets loads none.
 */

// @colyseus/ws-transport 0.18.4, WebSocketTransport.onConnection.
const ROOM_SOCKET_PATH = /\/[a-zA-Z0-9_-]+\/([a-zA-Z0-9_-]+)$/;

/**
 * A websocket upgrade's URL as @colyseus/ws-transport 0.18.4 parses it (`parseUrl`: the request
 * target appended to `ws://server`), so that whoever routes or classifies a socket reads the same
 * room the transport will. Undefined, never thrown, for a target no URL parser takes: an upgrade
 * listener that throws on what a client wrote would write a stack trace per request.
 */
export function socketUrlOf(requestTarget: string | undefined): URL | undefined {
  return URL.parse(`ws://server${requestTarget ?? "/"}`) ?? undefined;
}

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
