/**
 * Wires a node into the cluster: Colyseus's Redis presence and driver for matchmaking across
 * nodes, placement by players, the node's heartbeat, the room host (leases and checkpoints),
 * failure detection, and the guard that tells a reconnecting SDK to retry while its room is
 * still being rebuilt here.
 */
import { matchMaker } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { JoinErrorCode } from "../../shared/protocol.ts";
import { roomOfSocketUrl } from "../colyseus-internals.ts";
import type { RoomCap } from "../edge/room-cap.ts";
import { LogOnce } from "../log-once.ts";
import type { NodeMetrics } from "../metrics.ts";
import { redactUrl } from "../redact.ts";
import { BadRecordLog } from "./bad-records.ts";
import { ClusterRoomHost } from "./cluster-host.ts";
import { type Heartbeat, type NodeState, readNodes, startHeartbeat } from "./node-registry.ts";
import { Drain } from "./drain.ts";
import { OrphanWatch } from "./orphan-watch.ts";
import { type AdoptRequest, channels, type OwnershipChange, type RehydrateRequest } from "./redis-keys.ts";
import { withScripts } from "./redis-scripts.ts";
import type { TokenHash } from "./token-hash.ts";

export const NODE_HEARTBEAT_MS = 250;
export const NODE_TTL_MS = 1000;
export const ORPHAN_SCAN_MS = 250;
/** Two missed heartbeats and a bit: then the node's port is probed. */
export const SUSPECT_AFTER_MS = 600;
/** How long a reconnect is held open for a room this node is rebuilding right now. */
const REHYDRATION_HOLD_MS = 3000;
const REDIS_START_TIMEOUT_MS = 10_000;

export interface ClusterModeOptions {
  readonly redisUrl: string;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly checkpointMs: number;
  readonly drainTimeoutMs: number;
  readonly drainParallelism: number;
  readonly roomCap: RoomCap;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly tokenHash: TokenHash;
}

/**
 * A command connection fails fast while Redis is away, so no renewal or checkpoint queues up
 * behind an outage; a subscriber connection keeps its queue, so it resubscribes when Redis returns.
 */
export function connectRedis(url: string, log: Logger, name: string, kind: "commands" | "subscriber" = "commands"): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "subscriber" ? null : 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    connectionName: name,
  });
  let down = false;
  redis.on("error", (err) => {
    if (!down) log.warn({ event: "redis_unreachable", err: err.message }, "Redis unreachable; rooms keep running");
    down = true;
  });
  redis.on("ready", () => {
    if (down) log.info({ event: "redis_back" }, "Redis reachable again");
    down = false;
  });
  return redis;
}

export function startClusterMode(options: ClusterModeOptions) {
  const { redisUrl, nodeId, log } = options;
  const redis = withScripts(connectRedis(redisUrl, log, `locus-node-${nodeId}`));
  const subscriber = connectRedis(redisUrl, log, `locus-node-${nodeId}-sub`, "subscriber");
  let heartbeat: Heartbeat | undefined;
  const heartbeatFailures = new LogOnce();
  const badRecords = new BadRecordLog(log, (kind) => options.metrics.badRedisRecords.inc({ kind }));
  const host = new ClusterRoomHost({
    redis,
    nodeId,
    leaseMs: options.leaseMs,
    checkpointMs: options.checkpointMs,
    roomCap: options.roomCap,
    metrics: options.metrics,
    log,
    tokenHash: options.tokenHash,
    badRecords,
    onLoadChange: () => heartbeat?.beatSoon(),
  });
  let state: NodeState = "ready";
  const watch = new OrphanWatch({ redis, host, nodeId, scanMs: ORPHAN_SCAN_MS, suspectAfterMs: SUSPECT_AFTER_MS, isReady: () => state === "ready", log, badRecords });
  const drain = new Drain({
    host,
    nodeId,
    parallelism: options.drainParallelism,
    timeoutMs: options.drainTimeoutMs,
    readNodes: () => readNodes(redis, badRecords),
    adopt: (target, roomId) => {
      const request: AdoptRequest = { roomId, nodeId: target.nodeId };
      return redis.publish(channels.adopt, JSON.stringify(request));
    },
    setState: (next) => {
      state = next;
      host.draining = next === "draining";
      heartbeat?.beatSoon();
    },
    log,
  });

  return {
    host,
    drain,
    /** Checkpoints every room and gives up its lease, for the other nodes to recover once they can. */
    leaveAll: async () => {
      await Promise.all(host.liveRoomIds().map((id) => host.abandon(id).catch(() => undefined)));
    },
    /** Resolves once Redis answers; a node that cannot reach it at start does not start. */
    ready: () =>
      new Promise<void>((resolve, reject) => {
        if (redis.status === "ready") return resolve();
        const timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redactUrl(redisUrl)}`)), REDIS_START_TIMEOUT_MS);
        redis.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    serverOptions: {
      presence: new RedisPresence(redisUrl),
      driver: new RedisDriver(redisUrl),
      // The gateway sent the request to the node with the fewest rooms: the room is made here, where
      // MAX_ROOMS_PER_NODE is checked against this node's own exact count (not another's,
      // a heartbeat old) and its refusal stays a 503 (Colyseus drops the status of a refusal
      // that comes back from another node over IPC). Checked now, a refused create costs no room
      // object; the room's admission checks again, for creates that were in flight together.
      selectProcessIdToCreateRoom: async () => {
        options.roomCap.check(host.roomCount);
        return matchMaker.processId;
      },
    },

    /** Refuses (503, so the SDK retries) a reconnect for a room this node does not hold yet. */
    async beforeUpgrade(request: Request): Promise<Response | void> {
      const url = new URL(request.url);
      const { roomId } = roomOfSocketUrl(url);
      if (!roomId || !url.searchParams.has("reconnectionToken") || matchMaker.getLocalRoomById(roomId)) return;
      const until = Date.now() + REHYDRATION_HOLD_MS;
      while (host.owns(roomId) && !matchMaker.getLocalRoomById(roomId) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (matchMaker.getLocalRoomById(roomId)) return;
      return new Response(`room ${roomId} is not on this node; retry`, { status: JoinErrorCode.UNAVAILABLE, headers: { "retry-after": "1" } });
    },

    async started(address: string, adminAddress: string): Promise<void> {
      heartbeat = startHeartbeat(redis, {
        intervalMs: NODE_HEARTBEAT_MS,
        ttlMs: NODE_TTL_MS,
        record: () => ({ nodeId, address, adminAddress, processId: matchMaker.processId, state, players: host.playerCount, rooms: host.roomCount, pid: process.pid }),
        onError: (err) => {
          if (heartbeatFailures.first(err instanceof Error ? err.message : String(err))) log.warn({ event: "heartbeat_failed", err }, "could not publish this node's record; retrying quietly");
        },
      });
      host.start();
      watch.start();
      await subscriber.subscribe(channels.rehydrate, channels.adopt, channels.ownership).catch(() => undefined);
      subscriber.on("message", (channel: string, message: string) => {
        if (channel === channels.ownership) {
          const change = safeParse<OwnershipChange>(message);
          if (change && typeof change.roomId === "string") host.ownershipChanged(change);
        } else if (channel === channels.rehydrate) {
          if (typeof safeParse<RehydrateRequest>(message)?.roomId === "string") void watch.scan();
        } else if (channel === channels.adopt) {
          const request = safeParse<AdoptRequest>(message);
          if (request?.nodeId !== nodeId || typeof request.roomId !== "string") return;
          // A room a draining peer handed to this node; if another node was faster, so be it.
          host.rehydrate(request.roomId, "orphan", 0, undefined).catch((err: unknown) => log.error({ event: "adopt_failed", room: request.roomId, err }, "could not adopt a handed-off room"));
        }
      });
    },

    async stop(): Promise<void> {
      watch.stop();
      host.stop();
      await heartbeat?.stop();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

export type ClusterMode = ReturnType<typeof startClusterMode>;

function safeParse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
