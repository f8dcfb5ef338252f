/**
 * Every Colyseus internal Locus relies on (a private field, or behaviour its documentation does
 * not promise), one small function each, with the version it was read from. A Colyseus upgrade
 * that changes one of them breaks here, in one place.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Room } from "@colyseus/core";

/**
 * Read from @colyseus/core 0.18.17, `Transport.mjs` `resolveClientIp`: an auth context's `ip` is
 * `X-Real-IP` when the request has one, before the first hop of `X-Forwarded-For` (which any
 * client can write) and the socket's address. Set to the address the edge resolved, `context.ip`
 * in `onAuth` is the real client's, on matchmaking requests and websocket upgrades alike.
 */
export function setAuthContextIp(headers: IncomingHttpHeaders, address: string): void {
  headers["x-real-ip"] = address;
}

/**
 * Read from @colyseus/better-call's node adapter `getRequest`, which @colyseus/core 0.18.17's
 * router uses for `/matchmake/*`: a request whose `body` property is set is not read from the
 * socket again (Colyseus's own `prereadRequestBodies` relies on it). The edge reads bodies itself,
 * under its size limit, and hands them over this way.
 */
export function handBodyToColyseus(req: IncomingMessage, body: string): void {
  (req as IncomingMessage & { body?: string }).body = body;
}

/** A seat reservation as `Room._reservedSeats` holds it: join options, auth data, consumed, held for a reconnect. */
type ReservedSeat = [unknown, unknown, boolean, boolean];
type ReserveSeat = (sessionId: string, joinOptions?: unknown, authData?: unknown, seconds?: number, allowReconnection?: boolean, ...rest: unknown[]) => Promise<boolean>;

/**
 * Read from @colyseus/core 0.18.17, `Room.mjs`: `_reserveSeat(sessionId, joinOptions, authData,
 * seconds, allowReconnection)` is what the matchmaker calls (in process or over IPC) to reserve a
 * seat, and a `false` answer makes it refuse the join as "already full"; `_reservedSeats` maps each
 * session to `[joinOptions, authData, consumed, allowReconnection]` until its socket joins or the
 * reservation lapses. `refuse` sees the new seat's auth data and that of every reservation not yet
 * connected (seats held for a reconnect excluded), and says whether to refuse it.
 */
export function guardSeatReservations(room: Room, refuse: (authData: unknown, pending: unknown[]) => boolean): void {
  const internals = room as unknown as { _reserveSeat: ReserveSeat; _reservedSeats: Record<string, ReservedSeat> };
  const reserve = internals._reserveSeat.bind(room);
  internals._reserveSeat = (sessionId, joinOptions, authData, seconds, allowReconnection, ...rest) => {
    if (!allowReconnection) {
      const pending = Object.values(internals._reservedSeats)
        .filter(([, , consumed, reconnection]) => !consumed && !reconnection)
        .map(([, auth]) => auth);
      if (refuse(authData, pending)) return Promise.resolve(false);
    }
    return reserve(sessionId, joinOptions, authData, seconds, allowReconnection, ...rest);
  };
}
