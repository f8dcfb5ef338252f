/**
 * A room running on this node under a lease its claim won. Once fenced it never runs here again:
 * the lease was lost or given away, and nothing more is renewed or written for it.
 */
import type { HostedRoom } from "../durable/room-host.ts";
import type { Lease } from "./ownership.ts";

export class OwnedRoom {
  readonly room: HostedRoom;
  readonly lease: Lease;
  private isFenced = false;

  constructor(room: HostedRoom, lease: Lease) {
    this.room = room;
    this.lease = lease;
  }

  get fenced(): boolean {
    return this.isFenced;
  }

  /** The room stops simulating and sends its players off to reconnect to whoever owns it now. */
  fence(reason: string): void {
    if (this.isFenced) return;
    this.isFenced = true;
    this.room.fence(reason);
  }
}
