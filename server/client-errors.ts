/**
 * What a client is told when a request fails. A refusal made on purpose (a ServerError with its
 * own code: bad options, a full or unknown room, an expired seat) keeps its code and message;
 * anything else (a TypeError, a Redis error) becomes INTERNAL_ERROR, and only the server's log
 * has the details.
 */
import { ErrorCode, ServerError } from "@colyseus/core";
import { INTERNAL_ERROR, JoinErrorCode } from "../shared/protocol.ts";

/** The codes Colyseus wraps arbitrary exceptions in (onCreate, onJoin, the matchmaker): their text is no refusal. */
const WRAPPER_CODES: ReadonlySet<number> = new Set([ErrorCode.MATCHMAKE_UNHANDLED, ErrorCode.APPLICATION_ERROR]);

/**
 * Refusals that reach here as bare text under a wrapper code, because Colyseus re-wraps them or
 * passes them between processes as a message alone (IPC), each with the code it stands for.
 */
const REFUSALS: readonly (readonly [RegExp, number])[] = [
  // Locus's own refusal of a create with a taken roomId, made on another node.
  [/^room [A-Za-z0-9_-]{1,32} already exists$/, JoinErrorCode.CONFLICT],
  [/^room '[A-Za-z0-9_-]+' not created: shutting down$/, JoinErrorCode.UNAVAILABLE],
  [/^no processId available to create room [A-Za-z0-9_-]+$/, JoinErrorCode.UNAVAILABLE],
  [/^'reconnectionToken' must be provided for reconnection\.$/, JoinErrorCode.INVALID_OPTIONS],
  // A seat the room refused (Colyseus's words, whatever the reason: full, or too many seats of one
  // address not connected yet): worth trying again shortly.
  [/^[A-Za-z0-9_-]{1,32} is already full\.$/, JoinErrorCode.UNAVAILABLE],
];

export function clientError(err: unknown): { readonly error: ServerError; readonly internal: boolean } {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof ServerError && typeof code === "number" && !WRAPPER_CODES.has(code)) return { error: err, internal: false };
  const message = err instanceof Error ? err.message : undefined;
  const refusal = message === undefined ? undefined : REFUSALS.find(([pattern]) => pattern.test(message));
  if (refusal) return { error: new ServerError(refusal[1], message), internal: false };
  return { error: new ServerError(INTERNAL_ERROR.code, INTERNAL_ERROR.message), internal: true };
}
