/**
 * Every place Locus reaches into Colyseus beyond its documented API: private fields and
 * undocumented behaviour, one small function each, with the version it was read from. A Colyseus
 * upgrade breaks here, in one place, or nowhere.
 */
import { ErrorCode, matchMaker, type Room, ServerError } from "@colyseus/core";

type Deferred = { then(onFulfilled: () => void, onRejected: () => void): unknown };

interface RoomInternals {
  /** Seats held for a reconnect, by the reconnection token that may take them: [sessionId, deferred]. */
  _reconnections: Record<string, [string, Deferred]>;
  /** Reserved seats by session id: [options, auth, consumed, waitingForReconnection]. */
  _reservedSeats: Record<string, [unknown, unknown, boolean, boolean]>;
  _onJoin(...args: unknown[]): Promise<void>;
}

const internals = (room: Room) => room as unknown as RoomInternals;

/**
 * The session whose held seat `token` takes, if any. Read from @colyseus/core 0.18.17, Room.mjs
 * `checkReconnectionToken`, without its second half (which force-closes a live client holding the
 * token: Locus decides that itself).
 */
export function heldSeatFor(room: Room, token: string): string | undefined {
  const { _reconnections, _reservedSeats } = internals(room);
  if (!Object.hasOwn(_reconnections, token)) return undefined;
  const sessionId = _reconnections[token]![0];
  return Object.hasOwn(_reservedSeats, sessionId) && _reservedSeats[sessionId]![3] ? sessionId : undefined;
}

/**
 * Lets `token` take the seat held under `heldUnder`. Colyseus 0.18.17 finds a held seat only by
 * the token itself (`_reconnections[token]`, read by `hasReservedSeat` on the websocket path and
 * `checkReconnectionToken` on POST /matchmake/reconnect), and a room rebuilt from a checkpoint
 * knows only the token's hash: so the seat is held under a random key, and the token is added
 * beside it once it has been checked against the hash. The added entry goes with the seat (taken
 * or expired), so the token never replays.
 */
export function admitToHeldSeat(room: Room, heldUnder: string, token: string): void {
  const { _reconnections } = internals(room);
  if (!Object.hasOwn(_reconnections, heldUnder) || Object.hasOwn(_reconnections, token)) return;
  const entry = _reconnections[heldUnder]!;
  // defineProperty: a token spelt like an Object.prototype member must stay an own key.
  Object.defineProperty(_reconnections, token, { value: entry, writable: true, enumerable: true, configurable: true });
  const drop = () => {
    if (_reconnections[token] === entry) delete _reconnections[token];
  };
  entry[1].then(drop, drop);
}

/**
 * Passes what a websocket join or reconnect throws through `map` before Colyseus sends it to the
 * client. Read from 0.18.17: every join and reconnect runs `Room._onJoin`, and
 * `WebSocketTransport.onConnection` sends whatever it throws as an ERROR frame (code, message).
 */
export function mapJoinErrors(room: Room, map: (err: unknown) => unknown): void {
  const r = internals(room);
  const onJoin = r._onJoin.bind(room);
  r._onJoin = (...args) =>
    onJoin(...args).catch((err: unknown) => {
      throw map(err);
    });
}

export type MatchmakeCall = (method: string, roomName: string, options: unknown, auth: unknown) => Promise<unknown>;

/**
 * Runs every `POST /matchmake/:method/:roomName` through `handle`. Read from 0.18.17:
 * `matchMaker.controller.invokeMethod` serves each call (router/default_routes.mjs answers with
 * the status and `{ code, error }` of what it throws), and re-throws any exception as a
 * ServerError carrying the exception's own message; so it is replaced, not wrapped. `handle` gets
 * the original call, which checks the method against the exposed ones as before.
 */
export function routeMatchmaking(handle: (call: MatchmakeCall, method: string, roomName: string, options: unknown, auth: unknown) => Promise<unknown>): void {
  const { controller } = matchMaker;
  const call: MatchmakeCall = async (method, roomName, options, auth) => {
    if (!controller.exposedMethods.includes(method)) throw new ServerError(ErrorCode.MATCHMAKE_NO_HANDLER, `invalid method "${method}"`);
    const run = (matchMaker as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!;
    return run(roomName, options, auth);
  };
  controller.invokeMethod = (method, roomName, options, auth) => handle(call, method, roomName, options, auth);
}
