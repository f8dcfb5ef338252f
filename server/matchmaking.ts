/**
 * Locus's entry to Colyseus matchmaking (POST /matchmake/*): the options a client sends are
 * cleaned of keys named like Object.prototype members (Colyseus calls `options.hasOwnProperty`,
 * so `{"hasOwnProperty":1}` threw a TypeError at the client), and every failure is answered as
 * client-errors.ts says, the internal ones logged in full.
 */
import type { Logger } from "pino";
import { clientError } from "./client-errors.ts";
import { routeMatchmaking } from "./colyseus-internals.ts";

export function installMatchmaking(log: Logger): void {
  routeMatchmaking(async (call, method, roomName, options, auth) => {
    try {
      return await call(method, roomName, cleanOptions(options), auth);
    } catch (err) {
      const { error, internal } = clientError(err);
      if (internal) log.error({ event: "internal_error", where: `matchmake ${method}`, err }, "matchmaking failed; the client was told only \"internal error\"");
      throw error;
    }
  });
}

/** Join options with the keys the protocol ignores anyway and Colyseus would trip on taken out. */
export function cleanOptions(options: unknown): unknown {
  if (typeof options !== "object" || options === null || Array.isArray(options)) return options;
  return Object.fromEntries(Object.entries(options).filter(([key]) => !(key in Object.prototype)));
}
