/**
 * A room running on this node under a lease its claim won. Once fenced it never runs here again:
 * the lease was lost or given away, and nothing more is renewed or written for it. Paused, it
 * waits, players connected, for its lease to be proven again (lease-lapse.ts).
 */
import type { HostedRoom } from "../durable/room-host.ts";
import type { Lease } from "./ownership.ts";

export class OwnedRoom {
  readonly room: HostedRoom;
  readonly lease: Lease;
  private isFenced = false;
  /** When the room was paused (Date.now()), or undefined while it runs. */
  private pausedSince: number | undefined;
  /** Called when the pause ends, resumed or fenced: what `paused()` waiters wait on. */
  private pauseEnded: (() => void) | undefined;
  private pauseOver: Promise<void> = Promise.resolve();

  constructor(room: HostedRoom, lease: Lease) {
    this.room = room;
    this.lease = lease;
  }

  get fenced(): boolean {
    return this.isFenced;
  }

  get paused(): boolean {
    return this.pausedSince !== undefined;
  }

  /** How long the room has been paused (ms), 0 while it runs. */
  get pausedFor(): number {
    return this.pausedSince === undefined ? 0 : Date.now() - this.pausedSince;
  }

  /** Resolves once the room is not paused (at once while it runs): resumed, or fenced. */
  unpaused(): Promise<void> {
    return this.pauseOver;
  }

  /** The room stops simulating and sends its players off to reconnect to whoever owns it now. */
  fence(reason: string): void {
    if (this.isFenced) return;
    this.isFenced = true;
    this.endPause();
    this.room.fence(reason);
  }

  /** The room stops stepping, its players staying: this node cannot prove its lease right now. */
  pause(): void {
    if (this.isFenced || this.pausedSince !== undefined) return;
    this.pausedSince = Date.now();
    this.pauseOver = new Promise((resolve) => (this.pauseEnded = resolve));
    this.room.pause();
  }

  /** The lease is proven again under the same epoch: the room steps on. Returns how long it was paused (ms). */
  unpause(): number {
    if (this.pausedSince === undefined) return 0;
    const pausedMs = Date.now() - this.pausedSince;
    this.endPause();
    this.room.unpause();
    return pausedMs;
  }

  private endPause(): void {
    this.pausedSince = undefined;
    this.pauseEnded?.();
    this.pauseEnded = undefined;
  }
}
