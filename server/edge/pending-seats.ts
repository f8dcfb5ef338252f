/**
 * Seats reserved in a room whose player has not connected yet, per client address. An honest SDK
 * connects right after its reservation, so a reservation is pending for a round trip; one that
 * never connects holds a seat until the reservation lapses (SEAT_RESERVATION_SECONDS). Capping
 * what one address may hold pending in one room stops it from filling the room with seats nobody
 * takes (seat squatting), and leaves the other seats to everyone else.
 */
import { type AddressList, limitKey } from "./client-address.ts";
import type { RefusalLog } from "./refusal-log.ts";

/** What a room's static onAuth hands the matchmaker for each seat: who asked for it. */
export interface SeatAuth {
  readonly address: string | undefined;
}

export class PendingSeatLimit {
  private readonly maxPerAddress: number;
  private readonly exempt: AddressList;
  private readonly refusals: RefusalLog;

  constructor(maxPerAddress: number, exempt: AddressList, refusals: RefusalLog) {
    this.maxPerAddress = maxPerAddress;
    this.exempt = exempt;
    this.refusals = refusals;
  }

  /** True when `seat` must be refused: its address already holds the most pending seats in room `roomId`. */
  refuses(roomId: string, seat: unknown, pending: readonly unknown[]): boolean {
    const address = addressOf(seat);
    if (address === undefined || this.exempt.has(address)) return false;
    const key = limitKey(address);
    let held = 0;
    for (const other of pending) {
      const a = addressOf(other);
      if (a !== undefined && limitKey(a) === key) held++;
    }
    if (held < this.maxPerAddress) return false;
    this.refusals.refused("pending_seats", address, `${held} seats reserved in room ${roomId} and not connected yet (at most ${this.maxPerAddress})`);
    return true;
  }
}

/** Auth data crosses processes as JSON: read it as untrusted. */
function addressOf(seat: unknown): string | undefined {
  const address = seat !== null && typeof seat === "object" ? (seat as Record<string, unknown>).address : undefined;
  return typeof address === "string" ? address : undefined;
}
