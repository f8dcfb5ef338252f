import { ServerError } from "@colyseus/core";
import type { Logger } from "pino";

/** A room's `onUncaughtException`: the error is logged and the room keeps running. */
export function logUncaught(log: Logger, error: Error, method: string): void {
  // A ServerError thrown on purpose (a refused join or create) already went back to its sender.
  if (error.cause instanceof ServerError) {
    log.info({ event: "refused", method, code: error.cause.code, reason: error.cause.message }, "request refused");
    return;
  }
  log.error({ event: "room_error", method, err: error }, "uncaught error in room; the room keeps running");
}
