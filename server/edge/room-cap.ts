/**
 * The most rooms one node runs (MAX_ROOMS_PER_NODE). Placement already sends a new room to the
 * node with the fewest; this is what a node answers when even that one is full: a 503 with a
 * message the SDK shows. Rooms rebuilt from a checkpoint are never refused: turning one away
 * would lose its players' game, and a node that crashed left its rooms to the others.
 */
import { ServerError } from "@colyseus/core";
import { JoinErrorCode } from "../../shared/protocol.ts";
import type { RefusalLog } from "./refusal-log.ts";

/** The refusal: a 503 the SDK shows, already counted and logged (once per interval) by the cap. */
export class RoomCapReached extends ServerError {}

export class RoomCap {
  readonly max: number;
  private readonly refusals: RefusalLog;
  private readonly nodeId: string;

  constructor(max: number, refusals: RefusalLog, nodeId: string) {
    this.max = max;
    this.refusals = refusals;
    this.nodeId = nodeId;
  }

  /** Throws the refusal when this node, running or starting `rooms` rooms, may take no new one. */
  check(rooms: number): void {
    if (rooms < this.max) return;
    const message = `no room for a new game: node ${this.nodeId} already runs ${this.max} rooms (MAX_ROOMS_PER_NODE) and it is the least busy; try again shortly`;
    this.refusals.refused("rooms_per_node", this.nodeId, message);
    throw new RoomCapReached(JoinErrorCode.UNAVAILABLE, message);
  }
}
