/**
 * What a room needs from the node that runs it, and what the node may ask of a room. In single-node
 * mode the host is trivial; in cluster mode it is where leases, checkpoints and rehydration live,
 * so the room itself never talks to Redis.
 */
import { ServerError } from "@colyseus/core";
import { JoinErrorCode } from "../../shared/protocol.ts";
import type { Checkpoint } from "./checkpoint.ts";
import type { JournalTail } from "./journal.ts";
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
  /**
   * Ownership cannot be proven just now (Redis unreachable past the lease): no step and no change
   * until `unpause`, the players staying connected; the room's time stands still meanwhile.
   */
  pause(): void;
  /** Ownership is proven again, under the same epoch: the game goes on from where it paused. */
  unpause(): void;
}

export interface RoomHost {
  /**
   * Awaited in onCreate. Resolves with the checkpoint to rebuild from when this room is a
   * rehydration, undefined for a new room; rejects (with a ServerError) to refuse the room.
   */
  admit(roomId: string): Promise<Checkpoint | undefined>;
  /** The room could not be rebuilt from the checkpoint `admit` gave it (its onCreate then fails): why. */
  checkpointUnusable(roomId: string, reason: string): void;
  started(room: HostedRoom): void;
  disposed(room: HostedRoom): void;
  /** A seat was taken, reconnected or freed: its reconnection token changed. */
  seatsChanged(room: HostedRoom): void;
  /**
   * Writes the room's checkpoint now, after any write of it still in flight, and resolves with the
   * checkpoint once it is stored; with undefined when it was not, because this node no longer owns
   * the room. Rejects when the store could not be reached, having counted and logged the failure.
   */
  commit(room: HostedRoom): Promise<Checkpoint | undefined>;
  /** Whether periodic rooms here keep an input journal (journal.ts): never on a lone node, and not when switched off. */
  readonly journals: boolean;
  /**
   * Adds one record to the room's next journal batch; the node writes every room's batch in one
   * call per tick, beside the loop. Never waits.
   */
  record(room: HostedRoom, journalId: string, seq: number, tick: number, record: unknown): void;
  /**
   * Called before each patch of the room's state at `tick` goes out: the room's records of earlier
   * ticks are handed to Redis first, so players never see two ticks that a node killed then would
   * not have journaled. Never waits.
   */
  patching(room: HostedRoom, tick: number): void;
  /** For a room being rebuilt (between `admit` and `started`): its journal after the checkpoint, read with it. */
  journalFor(roomId: string): JournalTail | undefined;
  /** Why the node cannot take a join right now, or undefined when it can. */
  joinRefusal(): string | undefined;
  /**
   * Whether the room may step now; asked before every step, so it never waits. In cluster mode,
   * while the node can prove it holds the room's lease: a room past its proof is fenced first.
   */
  mayRun(room: HostedRoom): boolean;
  /** The rooms this node runs. */
  list(): HostedRoom[];
}

/** Single-node mode: every room is new, nothing outlives the process. */
export class LocalRoomHost implements RoomHost {
  readonly rooms = new Set<HostedRoom>();
  private readonly cap: RoomCap;
  /**
   * Ids of the rooms here and of those being created: a create with a taken roomId is refused, and
   * every one counts against the cap.
   */
  private readonly ids = new Set<string>();

  constructor(cap: RoomCap) {
    this.cap = cap;
  }

  async admit(roomId: string): Promise<undefined> {
    // Left to Colyseus, a second create with the id would join the existing room.
    if (this.ids.has(roomId)) throw new ServerError(JoinErrorCode.CONFLICT, `room ${roomId} already exists`);
    this.cap.check(this.ids.size);
    this.ids.add(roomId);
    return undefined;
  }

  /** Never called: a lone node rebuilds no rooms. */
  checkpointUnusable(): void {}

  started(room: HostedRoom): void {
    this.rooms.add(room);
  }

  disposed(room: HostedRoom): void {
    this.rooms.delete(room);
    this.ids.delete(room.roomId);
  }

  seatsChanged(): void {}

  readonly journals = false;

  record(): void {}

  patching(): void {}

  journalFor(): undefined {
    return undefined;
  }

  /** Nothing outlives a lone node: the checkpoint is taken, and kept nowhere. */
  async commit(room: HostedRoom): Promise<Checkpoint> {
    return room.checkpoint("local", 0);
  }

  joinRefusal(): undefined {
    return undefined;
  }

  /** A lone node's rooms answer to nobody else. */
  mayRun(): boolean {
    return true;
  }

  list(): HostedRoom[] {
    return [...this.rooms];
  }
}
