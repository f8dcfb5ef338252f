/**
 * Draining a node: it stops taking rooms and hands every room it runs to the least loaded other
 * ready node, a few at a time, each from the exact tick it froze at. Rooms still here when the
 * deadline passes are checkpointed and left to recovery on the other nodes rather than hanging.
 */
import type { Logger } from "pino";
import { byLoad, type NodeRecord, type NodeState } from "./node-registry.ts";

export type HandOffStatus = "waiting" | "moving" | "moved" | "left" | "failed";

export interface RoomProgress {
  status: HandOffStatus;
  target?: string;
  tick?: number;
  ms?: number;
  error?: string;
}

export interface DrainStatus {
  readonly state: NodeState | "drained";
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly rooms: Readonly<Record<string, RoomProgress>>;
}

/** What a drain needs of the node's rooms. */
export interface DrainableRooms {
  /** Ids of the rooms this node owns and still runs. */
  liveRoomIds(): string[];
  /** Hands the room to the node `adopt` asks; resolves with the tick handed over and the node that took it. */
  handOff(roomId: string, adopt: () => Promise<unknown>): Promise<{ tick: number; newOwner: string | undefined }>;
  /** Checkpoints the room and gives up its lease, for the other nodes to recover. */
  abandon(roomId: string): Promise<void>;
}

export interface DrainOptions {
  readonly host: DrainableRooms;
  readonly nodeId: string;
  readonly parallelism: number;
  readonly timeoutMs: number;
  readonly readNodes: () => Promise<NodeRecord[]>;
  /** Asks a node to rebuild a room whose lease this node just gave up. */
  readonly adopt: (target: NodeRecord, roomId: string) => Promise<unknown>;
  readonly setState: (state: NodeState) => void;
  readonly log: Logger;
}

export class DrainRefused extends Error {
  override name = "DrainRefused";
}

export class Drain {
  private readonly o: DrainOptions;
  private state: DrainStatus["state"] = "ready";
  private startedAt: number | undefined;
  private finishedAt: number | undefined;
  private rooms: Record<string, RoomProgress> = {};
  private running: Promise<void> | undefined;

  constructor(options: DrainOptions) {
    this.o = options;
  }

  status(): DrainStatus {
    return { state: this.state, startedAt: this.startedAt, finishedAt: this.finishedAt, rooms: this.rooms };
  }

  get isServing(): boolean {
    return this.state === "ready";
  }

  /**
   * Starts a drain and resolves when it has begun; `done` resolves when every room has left.
   * Refused, with nothing changed, when no other node is ready to take the rooms.
   */
  async start(): Promise<{ done: Promise<void> }> {
    if (this.running) return { done: this.running };
    const others = await this.readyPeers();
    if (others.length === 0) throw new DrainRefused("no other ready node to take the rooms; nothing changed");
    this.state = "draining";
    this.o.setState("draining");
    this.startedAt = Date.now();
    this.finishedAt = undefined;
    this.rooms = Object.fromEntries(this.o.host.liveRoomIds().map((id) => [id, { status: "waiting" as const }]));
    this.o.log.info({ event: "drain_started", rooms: Object.keys(this.rooms).length }, "drain started");
    this.running = this.run().finally(() => {
      this.state = "drained";
      this.finishedAt = Date.now();
      this.running = undefined;
      this.o.log.info({ event: "drain_finished", ms: this.finishedAt - (this.startedAt ?? 0), rooms: this.rooms }, "drain finished");
    });
    return { done: this.running };
  }

  /** Returns a drained, idle node to service. */
  undrain(): void {
    if (this.state !== "drained") throw new DrainRefused(this.state === "draining" ? "a drain is under way" : "the node is not drained");
    if (this.o.host.liveRoomIds().length > 0) throw new DrainRefused("the node still runs rooms");
    this.state = "ready";
    this.o.setState("ready");
    this.rooms = {};
    this.o.log.info({ event: "undrained" }, "back in service");
  }

  private async run(): Promise<void> {
    const queue = Object.keys(this.rooms);
    const deadline = (this.startedAt ?? Date.now()) + this.o.timeoutMs;
    const worker = async () => {
      for (let roomId = queue.shift(); roomId !== undefined; roomId = queue.shift()) {
        if (Date.now() > deadline) {
          queue.unshift(roomId);
          return;
        }
        await this.handOff(roomId);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"deadline">((resolve) => (timer = setTimeout(() => resolve("deadline"), this.o.timeoutMs)));
    const workers = Promise.all(Array.from({ length: this.o.parallelism }, worker));
    const outcome = await Promise.race([workers.then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "deadline") {
      for (const [roomId, progress] of Object.entries(this.rooms)) {
        if (progress.status !== "waiting" && progress.status !== "moving") continue;
        progress.status = "left";
        await this.o.host.abandon(roomId).catch((err: unknown) => (progress.error = String(err)));
      }
      this.o.log.warn({ event: "drain_deadline", timeoutMs: this.o.timeoutMs }, "drain deadline passed; the rooms left were checkpointed for recovery elsewhere");
    }
  }

  private async handOff(roomId: string): Promise<void> {
    const progress = this.rooms[roomId]!;
    const started = performance.now();
    progress.status = "moving";
    try {
      const target = (await this.readyPeers())[0];
      if (!target) throw new Error("no other ready node");
      progress.target = target.nodeId;
      const { tick, newOwner } = await this.o.host.handOff(roomId, () => this.o.adopt(target, roomId));
      // A drain that ran out of time marked it "left" meanwhile; the hand-off finished all the same.
      progress.status = "moved";
      progress.tick = tick;
      if (newOwner) progress.target = newOwner;
    } catch (err) {
      progress.status = "failed";
      progress.error = err instanceof Error ? err.message : String(err);
    }
    progress.ms = Math.round(performance.now() - started);
  }

  /** Other ready nodes, least loaded first. */
  private async readyPeers(): Promise<NodeRecord[]> {
    return (await this.o.readNodes()).filter((n) => n.state === "ready" && n.nodeId !== this.o.nodeId).sort(byLoad);
  }
}
