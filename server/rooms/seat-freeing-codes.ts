import { CloseCode as ColyseusCloseCode } from "@colyseus/core";
import { CloseCode } from "../../shared/protocol.ts";

/**
 * Closes after which a room frees the player's seat at once instead of holding it for a
 * reconnect (SEAT_HOLD_SECONDS): the player left (4000), or the server threw it out, Colyseus for
 * an error (4002), the frame gate (4415, 4430) or the arena's input guard (4404, 4422, 4429).
 * Every room type frees seats by this one list, which docs/protocol.md's close-code table gives.
 */
export const SEAT_FREEING_CODES: ReadonlySet<number> = new Set([ColyseusCloseCode.CONSENTED, ColyseusCloseCode.WITH_ERROR, ...Object.values(CloseCode)]);
