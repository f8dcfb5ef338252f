/**
 * Wires a node into the cluster: Colyseus's Redis presence and driver for matchmaking across
 * nodes, placement by players, the node's heartbeat, the room host (leases and checkpoints),
 * failure detection, and the guard that tells a reconnecting SDK to retry while its room is
 * still being rebuilt here.
 */
import { matchMaker } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { JoinErrorCode } from "../../shared/protocol.ts";
import type { RoomCap } from "../edge/room-cap.ts";
import type { NodeMetrics } from "../metrics.ts";
import { roomOfSocketUrl } from "../socket-url.ts";
import { BadRecordLog } from "./bad-records.ts";
import { ClusterRoomHost } from "./cluster-host.ts";
import { type Heartbeat, type NodeState, readNodes, startHeartbeat } from "./node-registry.ts";
import { Drain } from "./drain.ts";
import { OrphanWatch } from "./orphan-watch.ts";
import { Ownership } from "./ownership.ts";
import { RecoveryFailures } from "./recovery-failures.ts";
import { ReconnectGrace } from "./reconnect-grace.ts";
import { connectRedis } from "./redis-connection.ts";
import { describeRedis, newRedis, type RedisEndpoint } from "./redis-endpoint.ts";
import { type AdoptRequest, channels, type OwnershipChange, type RehydrateRequest } from "./redis-keys.ts";
import { withScripts } from "./redis-scripts.ts";
import type { TokenHash } from "../durable/token-hash.ts";

export const NODE_HEARTBEAT_MS = 250;
export const NODE_TTL_MS = 1000;
export const ORPHAN_SCAN_MS = 250;
/** Two missed heartbeats and a bit: then the node's port is probed. */
export const SUSPECT_AFTER_MS = 600;
/** How long a reconnect is held open for a room this node is rebuilding right now. */
const REHYDRATION_HOLD_MS = 3000;
const REDIS_START_TIMEOUT_MS = 10_000;
/**
 * How long a claim waits for a replica to confirm it in Sentinel mode: a replica answers within a
 * millisecond or two; past this one it is gone or far behind, and the claim is given back.
 */
const CLAIM_REPLICA_TIMEOUT_MS = 1000;

export interface ClusterModeOptions {
  readonly redis: RedisEndpoint;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly checkpointMs: number;
  /** How often the node writes its rooms' input journals (one tick), or undefined when the journal is off. */
  readonly journalFlushMs: number | undefined;
  readonly drainTimeoutMs: number;
  readonly drainParallelism: number;
  readonly roomCap: RoomCap;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly tokenHash: TokenHash;
}

export function startClusterMode(options: ClusterModeOptions) {
  const { redis: endpoint, nodeId, log } = options;
  const redis = withScripts(connectRedis(endpoint, log, `locus-node-${nodeId}`));
  const subscriber = connectRedis(endpoint, log, `locus-node-${nodeId}-sub`, "subscriber");
  // Through Sentinel the master may change and lose what it had not replicated: claims wait for a replica.
  const claimsRedis = endpoint.kind === "sentinel" ? withScripts(connectRedis(endpoint, log, `locus-node-${nodeId}-claims`)) : undefined;
  const grace = new ReconnectGrace(redis, options.leaseMs);
  let heartbeat: Heartbeat | undefined;
  let state: NodeState = "ready";
  const failures = new RecoveryFailures(log, (kind) => options.metrics.recoveryFailures.inc({ kind }));
  const badRecords = new BadRecordLog(log, (kind) => options.metrics.badRedisRecords.inc({ kind }));
  const ownership = new Ownership({
    redis,
    bad: badRecords,
    nodeId,
    leaseMs: options.leaseMs,
    ...(claimsRedis ? { replicatedClaims: { redis: claimsRedis, timeoutMs: CLAIM_REPLICA_TIMEOUT_MS } } : {}),
  });
  const host = new ClusterRoomHost({
    ownership,
    checkpointMs: options.checkpointMs,
    journalFlushMs: options.journalFlushMs,
    roomCap: options.roomCap,
    metrics: options.metrics,
    log,
    failures,
    tokenHash: options.tokenHash,
    redisReady: () => redis.status === "ready",
    draining: () => state === "draining",
    onLoadChange: () => heartbeat?.beatSoon(),
  });
  const watch = new OrphanWatch({
    readNodes: () => readNodes(redis, badRecords),
    ownership,
    host,
    nodeId,
    scanMs: ORPHAN_SCAN_MS,
    suspectAfterMs: SUSPECT_AFTER_MS,
    isReady: () => state === "ready",
    holdOrphanClaims: () => grace.holding,
    log,
  });
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
    /**
     * Resolves once Redis answers; a node that cannot reach it at start does not start, nor one
     * that finds nodes of a release before the hash-tagged room keys on it.
     */
    ready: async () => {
      await Promise.all([redis, ...(claimsRedis ? [claimsRedis] : [])].map((connection) => readyOrTimeout(connection, endpoint)));
      const older = await ownership.olderLayoutRooms();
      if (older.length > 0) {
        throw new Error(
          `Redis holds ${older.length} live room(s) of nodes of an older Locus release (e.g. ${older[0]}), whose room keys have no hash tag; this release cannot share rooms with them: upgrade onto a fresh Redis (docs/deploy.md, "Upgrading to hash-tagged keys")`,
        );
      }
    },
    serverOptions: {
      // Given connections, not a URL: through Sentinel they follow a failover as Locus's own do.
      presence: new RedisPresence(newRedis(endpoint, { connectionName: `locus-node-${nodeId}-presence` })),
      driver: new RedisDriver(quiet(newRedis(endpoint, { connectionName: `locus-node-${nodeId}-driver` }))),
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

    async started(address: string, adminAddress: string, publicUrl: string | undefined): Promise<void> {
      heartbeat = startHeartbeat(redis, {
        intervalMs: NODE_HEARTBEAT_MS,
        ttlMs: NODE_TTL_MS,
        record: () => ({ nodeId, address, adminAddress, ...(publicUrl === undefined ? {} : { publicUrl }), processId: matchMaker.processId, state, players: host.playerCount, rooms: host.roomCount, pid: process.pid }),
        onBeat: () => failures.recovered("heartbeat"),
        onError: (err) => failures.report("heartbeat", err),
      });
      host.start();
      watch.start();
      await subscriber.subscribe(channels.rehydrate, channels.adopt, channels.ownership).catch((err: unknown) => failures.report("subscribe", err));
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
      claimsRedis?.disconnect();
      redis.disconnect();
    },
  };
}

export type ClusterMode = ReturnType<typeof startClusterMode>;

/** A connection whose outages the node's own connections already log: RedisDriver listens for none of its errors. */
function quiet(connection: Redis): Redis {
  connection.on("error", () => undefined);
  return connection;
}

/** Resolves once the connection answers; rejects, naming the Redis but no password, after REDIS_START_TIMEOUT_MS. */
function readyOrTimeout(connection: Redis, endpoint: RedisEndpoint): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (connection.status === "ready") return resolve();
    const timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${describeRedis(endpoint)}`)), REDIS_START_TIMEOUT_MS);
    connection.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function safeParse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
