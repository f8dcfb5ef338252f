/**
 * What a room needs from the node that runs it, and what the node may ask of a room. In single-node
 * mode the host is trivial; in cluster mode it is where leases, checkpoints and rehydration live,
 * so the room itself never talks to Redis.
 */
import type { Checkpoint } from "../cluster/checkpoint.ts";
import type { RoomCap } from "../edge/room-cap.ts";

export interface HostedRoom {
  readonly roomId: string;
  readonly playerCount: number;
  /** The room as plain data, taken between two ticks. */
  checkpoint(nodeId: string, epoch: number): Checkpoint;
  /** Stops the simulation after the current tick, players still connected, and returns its checkpoint: the start of a hand-off. */
  freeze(nodeId: string, epoch: number): Checkpoint;
  /** Ownership is lost: stop simulating and send the players off to reconnect to the new owner. */
  fence(reason: string): void;
}

export interface RoomHost {
  /**
   * Awaited in onCreate. Resolves with the checkpoint to rebuild from when this room is a
   * rehydration, undefined for a new room; rejects (with a ServerError) to refuse the room.
   */
  admit(roomId: string): Promise<Checkpoint | undefined>;
  started(room: HostedRoom): void;
  disposed(room: HostedRoom): void;
  /** A seat was taken, reconnected or freed: its reconnection token changed. */
  seatsChanged(room: HostedRoom): void;
  /** Why the node cannot take a join right now, or undefined when it can. */
  joinRefusal(): string | undefined;
  /** The rooms this node runs. */
  list(): HostedRoom[];
}

/** Single-node mode: every room is new, nothing outlives the process. */
export class LocalRoomHost implements RoomHost {
  readonly rooms = new Set<HostedRoom>();
  private readonly cap: RoomCap;
  /** Rooms admitted whose onCreate has not finished yet: they count against the cap too. */
  private starting = 0;

  constructor(cap: RoomCap) {
    this.cap = cap;
  }

  async admit(): Promise<undefined> {
    this.cap.check(this.rooms.size + this.starting);
    this.starting++;
    return undefined;
  }

  started(room: HostedRoom): void {
    this.starting--;
    this.rooms.add(room);
  }

  disposed(room: HostedRoom): void {
    this.rooms.delete(room);
  }

  seatsChanged(): void {}

  joinRefusal(): undefined {
    return undefined;
  }

  list(): HostedRoom[] {
    return [...this.rooms];
  }
}
