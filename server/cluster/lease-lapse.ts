/**
 * What becomes of a room whose lease this node could not prove in time. The lease keeper stops
 * such a room before its lease can lapse in Redis (so no other node can have claimed it while it
 * still steps), but a lease that lapsed because Redis was away (an outage, a Sentinel failover)
 * is no takeover: the room is paused, its players connected and its time standing still, and the
 * next renewal decides. Renewed under the same epoch (nobody claimed the room meanwhile: the
 * renew script takes a lapsed lease back only then) it steps on where it stopped; refused
 * (another node claimed it) it is fenced and its players go to the new owner.
 *
 * While a room is paused nothing of it is written (no step, so no journal; no checkpoint), so a
 * paused room can never write under an epoch that is no longer its own.
 *
 * A pause is bounded: a room still unproven after MAX_PAUSE_MS is fenced as before this module
 * existed. A renewal can tell "nobody claimed the room" only while the room's epoch counter is in
 * Redis, and a room that ended elsewhere keeps its counter for one minute only (redis-scripts.ts,
 * `release`); past that, a renewal would bring back a room that has ended.
 */
import type { Logger } from "pino";
import type { OwnedRoom } from "./owned-room.ts";

/** Well inside the minute an ended room's epoch outlives it. */
export const MAX_PAUSE_MS = 30_000;

export class LeaseLapses {
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** The room's local lease deadline has passed without a renewal that reached Redis: asked after every renewal attempt. */
  lapsed(entry: OwnedRoom, leaseMs: number): void {
    if (entry.fenced) return;
    if (entry.paused) {
      if (entry.pausedFor > MAX_PAUSE_MS) entry.fence(`lease not renewed for ${MAX_PAUSE_MS} ms of pause`);
      return;
    }
    entry.pause();
    this.log.warn({ event: "room_paused", room: entry.lease.roomId, epoch: entry.lease.epoch }, `lease not renewed for ${leaseMs} ms: room paused until its lease is renewed or claimed elsewhere`);
  }

  /** A renewal under the room's own epoch reached Redis and was granted. */
  renewed(entry: OwnedRoom): void {
    if (!entry.paused) return;
    const pausedMs = entry.unpause();
    this.log.info({ event: "room_resumed", room: entry.lease.roomId, epoch: entry.lease.epoch, pausedMs }, "lease renewed under the same epoch: room resumed");
  }
}
