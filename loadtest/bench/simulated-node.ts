/**
 * One Locus node's Redis traffic without its game: the real cluster modules (the room host with its
 * lease keeper, checkpoint writer and journal writer, the heartbeat, the orphan watch, the
 * subscriptions) run here exactly as cluster-mode.ts wires them, over synthetic rooms that tick at
 * the game's rate, record what an arena room records and checkpoint what it checkpoints. Many of
 * them in one process imitate a cluster of nodes for sizing Redis (redis-sizing.ts).
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { pino } from "pino";
import { type Redis } from "ioredis";
import { RoomCap } from "../../server/edge/room-cap.ts";
import { RefusalLog } from "../../server/edge/refusal-log.ts";
import { RepeatLog } from "../../server/repeat-log.ts";
import { createNodeMetrics, type NodeMetrics } from "../../server/metrics.ts";
import { DEFAULT_ROOM_LEASE_MS } from "../../server/config.ts";
import { BadRecordLog } from "../../server/cluster/bad-records.ts";
import { ClusterRoomHost } from "../../server/cluster/cluster-host.ts";
import { NODE_HEARTBEAT_MS, NODE_TTL_MS, ORPHAN_SCAN_MS, SUSPECT_AFTER_MS } from "../../server/cluster/cluster-mode.ts";
import { type Heartbeat, readNodes, startHeartbeat } from "../../server/cluster/node-registry.ts";
import { OrphanWatch } from "../../server/cluster/orphan-watch.ts";
import { Ownership } from "../../server/cluster/ownership.ts";
import { RecoveryFailures } from "../../server/cluster/recovery-failures.ts";
import { connectRedis } from "../../server/cluster/redis-connection.ts";
import { redisAt } from "../../server/cluster/redis-endpoint.ts";
import { channels } from "../../server/cluster/redis-keys.ts";
import { withScripts } from "../../server/cluster/redis-scripts.ts";
import { CHECKPOINT_FORMAT, type Checkpoint } from "../../server/durable/checkpoint.ts";
import type { HostedRoom } from "../../server/durable/room-host.ts";
import { tokenHasher } from "../../server/durable/token-hash.ts";

export interface RoomShape {
  readonly playersPerRoom: number;
  /** A checkpoint's JSON length, as a real room of this size writes it. */
  readonly checkpointBytes: number;
  readonly tickHz: number;
  /** How often the node writes its journal: one tick on a node that keeps up with its ticks. */
  readonly journalFlushMs: number;
}

/** A room that ticks, records the arena's step record (8 bytes of stick a player) and checkpoints a blob of the arena's size. */
class SyntheticRoom implements HostedRoom {
  readonly roomId: string;
  readonly playerCount: number;
  readonly journalId = randomBytes(6).toString("base64url");
  private seq = 0;
  private tick = 0;
  private readonly seats: { sessionId: string; tokenHash: string }[];
  private readonly pad: string;
  /** The sticks of a step: their bytes are what Redis sees, their values matter to nobody here. */
  private readonly sticks: string;

  constructor(roomId: string, shape: RoomShape) {
    this.roomId = roomId;
    this.playerCount = shape.playersPerRoom;
    this.sticks = randomBytes(shape.playersPerRoom * 8).toString("base64");
    this.seats = Array.from({ length: shape.playersPerRoom }, () => ({ sessionId: randomBytes(6).toString("base64url"), tokenHash: randomBytes(32).toString("base64url").slice(0, 43) }));
    const bare = JSON.stringify(this.checkpointWith("", "n", 1)).length;
    this.pad = "x".repeat(Math.max(0, shape.checkpointBytes - bare));
  }

  /** One step: what the arena records for it. */
  step(dtSeconds: number): [string, number, number, unknown] {
    this.tick++;
    return [this.journalId, ++this.seq, this.tick, ["t", dtSeconds, this.sticks]];
  }

  checkpoint(nodeId: string, epoch: number): Checkpoint {
    return this.checkpointWith(this.pad, nodeId, epoch);
  }

  freeze(nodeId: string, epoch: number): Checkpoint {
    return this.checkpoint(nodeId, epoch);
  }

  fence(): void {}

  pause(): void {}

  unpause(): void {}

  private checkpointWith(pad: string, nodeId: string, epoch: number): Checkpoint {
    return {
      format: CHECKPOINT_FORMAT,
      roomId: this.roomId,
      name: "arena",
      nodeId,
      epoch,
      takenAt: Date.now(),
      tick: this.tick,
      nextRefId: 100,
      seats: this.seats,
      game: { version: 1, data: { world: pad } },
      journal: { id: this.journalId, seq: this.seq },
    };
  }
}

/** Where every simulated node says it listens: a port that accepts, so no peer's probe finds a node dead. */
export async function listeningAddress(): Promise<{ address: string; close: () => void }> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export class SimulatedNode {
  readonly nodeId: string;
  /** Commands this node sent on its command connection (the subscriber's few are not counted). */
  requests = 0;
  /** Rooms the orphan watch found to take over: none while every simulated node keeps up. */
  takeovers = 0;
  /** Orphan scans made (each reads the node records once). */
  scans = 0;
  /** Steps its rooms took, all rooms together: what its journal and checkpoints follow. */
  roomTicks = 0;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly host: ClusterRoomHost;
  private readonly watch: OrphanWatch;
  private heartbeat: Heartbeat | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly rooms: SyntheticRoom[] = [];
  private readonly shape: RoomShape;
  private readonly metrics: NodeMetrics;

  constructor(redisUrl: string, nodeId: string, shape: RoomShape) {
    this.nodeId = nodeId;
    this.shape = shape;
    const log = pino({ level: "error", base: { node: nodeId } });
    this.redis = connectRedis(redisAt(redisUrl), log, `locus-node-${nodeId}`);
    this.subscriber = connectRedis(redisAt(redisUrl), log, `locus-node-${nodeId}-sub`, "subscriber");
    const send = this.redis.sendCommand.bind(this.redis);
    this.redis.sendCommand = (...args: Parameters<Redis["sendCommand"]>) => {
      this.requests++;
      return send(...args);
    };
    const redis = withScripts(this.redis);
    const metrics = (this.metrics = createNodeMetrics({ node: nodeId }));
    const failures = new RecoveryFailures(log, () => undefined);
    const bad = new BadRecordLog(log, () => undefined);
    const ownership = new Ownership({ redis, bad, nodeId, leaseMs: DEFAULT_ROOM_LEASE_MS });
    this.host = new ClusterRoomHost({
      ownership,
      checkpointMs: 1000,
      journalFlushMs: shape.journalFlushMs,
      roomCap: new RoomCap(Number.MAX_SAFE_INTEGER, new RefusalLog(new RepeatLog({ log }), { inc: () => undefined }), nodeId),
      metrics,
      log,
      failures,
      tokenHash: tokenHasher("simulated-node-secret"),
      redisReady: () => true,
      draining: () => false,
      onLoadChange: () => this.heartbeat?.beatSoon(),
    });
    this.watch = new OrphanWatch({
      readNodes: () => {
        this.scans++;
        return readNodes(redis, bad);
      },
      ownership,
      host: {
        owns: (roomId) => this.host.owns(roomId),
        rehydrate: async () => {
          this.takeovers++;
          return false;
        },
      },
      nodeId,
      scanMs: ORPHAN_SCAN_MS,
      suspectAfterMs: SUSPECT_AFTER_MS,
      isReady: () => true,
      holdOrphanClaims: () => false,
      log,
    });
  }

  /** Registers, claims `rooms` new rooms and starts ticking them, as a node does when players create them. */
  async start(rooms: number, address: string): Promise<void> {
    // A command connection queues nothing while it connects (redis-connection.ts).
    if (this.redis.status !== "ready") await new Promise((resolve) => this.redis.once("ready", resolve));
    this.heartbeat = startHeartbeat(this.redis, {
      intervalMs: NODE_HEARTBEAT_MS,
      ttlMs: NODE_TTL_MS,
      record: () => ({ nodeId: this.nodeId, address, processId: this.nodeId, state: "ready", players: this.host.playerCount, rooms: this.host.roomCount, pid: process.pid }),
      onBeat: () => undefined,
      onError: () => undefined,
    });
    await this.subscriber.subscribe(channels.rehydrate, channels.adopt, channels.ownership);
    this.host.start();
    this.watch.start();
    for (let i = 0; i < rooms; i++) {
      const room = new SyntheticRoom(`${this.nodeId}r${i}`, this.shape);
      await this.host.admit(room.roomId);
      this.host.started(room);
      this.rooms.push(room);
    }
    const dt = 1 / this.shape.tickHz;
    this.ticker = setInterval(() => {
      for (const room of this.rooms) this.host.record(room, ...room.step(dt));
      this.roomTicks += this.rooms.length;
    }, 1000 / this.shape.tickHz);
  }

  /** Journal writes so far (calls on a plain Redis). */
  async journalWrites(): Promise<number> {
    return (await this.metrics.journalWrites.get()).values[0]?.value ?? 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.watch.stop();
    this.host.stop();
    await this.heartbeat?.stop();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}
