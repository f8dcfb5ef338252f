/**
 * One Locus node: the HTTP routes and the Colyseus server on the game port, with the arena room
 * registered, and the operator listener (admin API, metrics) on a port of its own. Single-node
 * mode uses Colyseus's in-process presence and driver, so nothing else needs to run.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import type { Logger } from "pino";
import { ROOM_NAME } from "../shared/constants.ts";
import { MAX_MESSAGE_BYTES } from "../shared/protocol.ts";
import { setCorsHeaders } from "./colyseus-internals.ts";
import type { NodeConfig } from "./config.ts";
import { Edge } from "./edge/edge.ts";
import { guardNodeServer } from "./edge/node-edge.ts";
import { PendingSeatLimit } from "./edge/pending-seats.ts";
import { RefusalLog } from "./edge/refusal-log.ts";
import { RoomCap } from "./edge/room-cap.ts";
import { type AdminStatus, adminRouter } from "./http/admin.ts";
import { AuthFailures } from "./http/auth-failures.ts";
import { createOperatorApp, listenOperator, localUrl } from "./http/operator-server.ts";
import { createHttpApp, probeRouter } from "./http/routes.ts";
import { createDurableCounters } from "./durable/durable-metrics.ts";
import { createNodeMetrics, type NodeMetrics } from "./metrics.ts";
import { RepeatLog } from "./repeat-log.ts";
import { type ClusterMode, startClusterMode } from "./cluster/cluster-mode.ts";
import { DrainRefused } from "./cluster/drain.ts";
import { REVERSI_ROOM_NAME } from "../shared/reversi/protocol.ts";
import { REVERSI_FRAMES, reversiRoom } from "./games/reversi/reversi-room.ts";
import { tokenHasher } from "./durable/token-hash.ts";
import { createFrameGate } from "./edge/frame-gate.ts";
import { installMatchmaking } from "./matchmaking.ts";
import { ARENA_FRAMES, arenaRoom } from "./rooms/arena-room.ts";
import { reconnectGate } from "./rooms/reconnect-gate.ts";
import { LocalRoomHost, type RoomHost } from "./durable/room-host.ts";
import type { DurableDeps, DurableRoom } from "./durable/durable-room.ts";
import type { FramePolicy } from "./edge/frame-policy.ts";

export interface LocusNode {
  readonly port: number;
  /** Where the operator listener (admin API, metrics) is reached from this machine. */
  readonly adminUrl: string;
  readonly metrics: NodeMetrics;
  /**
   * SIGTERM: in cluster mode, hands every room to the other nodes (or, with none ready, leaves
   * them checkpointed for recovery) before stopping; alone, closes the rooms. Resolves when the
   * node may exit.
   */
  stopForExit(): Promise<void>;
  /** Stops taking rooms, closes every room and the port; never waits past `deadlineMs`. */
  shutdown(deadlineMs: number): Promise<void>;
}

/** A durable room type of a game's own that a node serves beside Locus's games (docs/durable-rooms.md). */
export interface RoomType {
  readonly name: string;
  /** The frames its clients may send. */
  readonly frames: FramePolicy;
  /** Its room class, bound to the node's side of the durable-room layer. */
  readonly bind: (deps: DurableDeps) => new (...args: any[]) => DurableRoom<any, any>;
}

const NOT_CLUSTERED = "this node is not in a cluster (no REDIS_URL or REDIS_SENTINELS): there is no other node to take its rooms";

export async function startNode(config: NodeConfig, log: Logger, roomTypes: readonly RoomType[] = []): Promise<LocusNode> {
  const metrics = createNodeMetrics({ node: config.nodeId });
  const durableMetrics = { ...metrics, ...createDurableCounters(metrics.registry) };
  // Refused requests, failed admin logins and refused or flooding sockets: logged once per offender and window.
  const abuse = new RepeatLog({ log });
  const refusals = new RefusalLog(abuse, metrics.edgeRefusals);
  const edge = new Edge(config.edge, refusals);
  const roomCap = new RoomCap(config.maxRoomsPerNode, refusals, config.nodeId);
  // Every node of a cluster shares ADMIN_TOKEN, so each reads the others' checkpoints' token hashes.
  const tokenHash = tokenHasher(config.adminToken);
  let listening = false;
  const cluster: ClusterMode | undefined = config.redis
    ? startClusterMode({
        redis: config.redis,
        nodeId: config.nodeId,
        leaseMs: config.roomLeaseMs,
        checkpointMs: config.checkpointMs,
        journalFlushMs: config.journal ? 1000 / config.tickHz : undefined,
        drainTimeoutMs: config.drainTimeoutMs,
        drainParallelism: config.drainParallelism,
        roomCap,
        metrics,
        log,
        tokenHash,
      })
    : undefined;
  await cluster?.ready();
  const host: RoomHost = cluster?.host ?? new LocalRoomHost(roomCap);
  const status = (): AdminStatus => {
    const drain = cluster?.drain.status();
    return {
      node: config.nodeId,
      mode: cluster ? "cluster" : "single",
      state: drain?.state ?? "ready",
      drainStartedAt: drain?.startedAt,
      drainFinishedAt: drain?.finishedAt,
      rooms: host.list().map((r) => ({ roomId: r.roomId, players: r.playerCount, handOff: drain?.rooms[r.roomId] })),
      handOffs: drain?.rooms ?? {},
    };
  };
  const probes = probeRouter({ nodeId: config.nodeId, isReady: () => listening && (cluster?.drain.isServing ?? true) });
  const authFailures = new AuthFailures(abuse, metrics.adminAuthFailures);
  const operatorApp = createOperatorApp({
    probes,
    registry: metrics.registry,
    admin: adminRouter(config.adminToken, {
      status,
      async drain() {
        if (!cluster) return { refused: NOT_CLUSTERED };
        try {
          await cluster.drain.start();
          return {};
        } catch (err) {
          if (err instanceof DrainRefused) return { refused: err.message };
          throw err;
        }
      },
      undrain() {
        if (!cluster) return { refused: NOT_CLUSTERED };
        try {
          cluster.drain.undrain();
          return {};
        } catch (err) {
          if (err instanceof DrainRefused) return { refused: err.message };
          throw err;
        }
      },
    }, authFailures),
  });
  // Bound before the game port, so a node whose operator port is taken stops before it takes players.
  const operator = await listenOperator(operatorApp, config.adminPort, config.adminHost);
  setCorsHeaders((origin) => edge.cors.headers(origin));
  const httpServer = createServer(edge.serverOptions, createHttpApp({ probes, staticDir: config.staticDir }));
  guardNodeServer(httpServer, edge);
  const frames = createFrameGate({ maxFramesPerSecond: config.maxFramesPerSecond, metrics, abuse, addressOf: (req) => edge.addressOf(req) });
  const transport = new WebSocketTransport({
    server: httpServer,
    maxPayload: MAX_MESSAGE_BYTES,
    ...frames.transportOptions,
    // A reconnect for a room being rebuilt here waits for it first; then its token is checked.
    beforeUpgrade: async (request: Request) => (await cluster?.beforeUpgrade(request)) ?? reconnectGate(request),
  });
  frames.attach(transport);
  const server = new Server({
    transport,
    ...cluster?.serverOptions,
    // Signals are handled by main.ts, with a deadline Colyseus's own handler lacks.
    gracefullyShutdown: false,
    greet: false,
    logger: log.child({ mod: "colyseus" }),
  });
  server.define(
    ROOM_NAME,
    arenaRoom({
      nodeId: config.nodeId,
      tickHz: config.tickHz,
      maxPlayers: config.maxPlayers,
      seatHoldSeconds: config.seatHoldSeconds,
      seatReservationSeconds: config.seatReservationSeconds,
      pendingSeats: new PendingSeatLimit(config.maxPendingSeatsPerIp, config.edge.limitExemptIps, refusals),
      metrics: durableMetrics,
      log,
      host,
      tokenHash,
    }),
  );
  frames.define(ROOM_NAME, ARENA_FRAMES);
  server.define(
    REVERSI_ROOM_NAME,
    reversiRoom({ nodeId: config.nodeId, clockMs: config.reversiClockMs, seatHoldSeconds: config.seatHoldSeconds, metrics: durableMetrics, log, host, tokenHash }),
  );
  frames.define(REVERSI_ROOM_NAME, REVERSI_FRAMES);
  for (const type of roomTypes) {
    server.define(type.name, type.bind({ host, tokenHash, seatHoldSeconds: config.seatHoldSeconds, log, metrics: durableMetrics }));
    frames.define(type.name, type.frames);
  }
  installMatchmaking(log);
  await server.listen(config.port, config.host);
  const port = (httpServer.address() as AddressInfo).port;
  await cluster?.started(config.nodeAddress ?? localUrl(config.host, port), config.nodeAdminAddress ?? localUrl(config.adminHost, operator.port));
  listening = true;

  const shutdown = async (deadlineMs: number) => {
    listening = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    });
    const outcome = await Promise.race([server.gracefullyShutdown(false).then(() => "closed" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "deadline") log.warn({ event: "shutdown_deadline", deadlineMs }, "rooms did not close in time; stopping anyway");
    await cluster?.stop();
    abuse.stop();
    httpServer.closeAllConnections();
    await operator.close();
  };

  return {
    port,
    adminUrl: operator.url,
    metrics,
    shutdown,
    async stopForExit() {
      if (cluster) {
        try {
          await (await cluster.drain.start()).done;
        } catch (err) {
          if (!(err instanceof DrainRefused)) throw err;
          log.warn({ event: "drain_refused", reason: err.message }, "no node to hand the rooms to: leaving them checkpointed for recovery");
          await cluster.leaveAll();
        }
      }
      await shutdown(SHUTDOWN_DEADLINE_MS);
    },
  };
}

/** How long closing the last rooms may take once nothing is left to hand off. */
const SHUTDOWN_DEADLINE_MS = 10_000;
