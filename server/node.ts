/**
 * One Locus node: the HTTP routes and the Colyseus server on one port, with the arena room
 * registered. Single-node mode uses Colyseus's in-process presence and driver, so nothing else
 * needs to run.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import type { Logger } from "pino";
import { ROOM_NAME } from "../shared/constants.ts";
import { MAX_MESSAGE_BYTES } from "../shared/protocol.ts";
import type { NodeConfig } from "./config.ts";
import { createHttpApp } from "./http/routes.ts";
import { createNodeMetrics, type NodeMetrics } from "./metrics.ts";
import { type ClusterMode, startClusterMode } from "./cluster/cluster-mode.ts";
import { arenaRoom } from "./rooms/arena-room.ts";
import { LocalRoomHost, type RoomHost } from "./rooms/room-host.ts";

export interface LocusNode {
  readonly port: number;
  readonly metrics: NodeMetrics;
  /** Stops taking rooms, closes every room and the port; never waits past `deadlineMs`. */
  shutdown(deadlineMs: number): Promise<void>;
}

export async function startNode(config: NodeConfig, log: Logger): Promise<LocusNode> {
  const metrics = createNodeMetrics({ node: config.nodeId });
  let ready = false;
  const app = createHttpApp({
    nodeId: config.nodeId,
    registry: metrics.registry,
    staticDir: config.staticDir,
    isReady: () => ready,
  });
  const httpServer = createServer(app);
  const cluster: ClusterMode | undefined = config.redisUrl
    ? startClusterMode({
        redisUrl: config.redisUrl,
        nodeId: config.nodeId,
        leaseMs: config.roomLeaseMs,
        checkpointMs: config.checkpointMs,
        metrics,
        log,
      })
    : undefined;
  await cluster?.ready();
  const host: RoomHost = cluster?.host ?? new LocalRoomHost();
  const server = new Server({
    transport: new WebSocketTransport({
      server: httpServer,
      maxPayload: MAX_MESSAGE_BYTES,
      ...(cluster ? { beforeUpgrade: cluster.beforeUpgrade } : {}),
    }),
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
      metrics,
      log,
      host,
    }),
  );
  await server.listen(config.port, config.host);
  const port = (httpServer.address() as AddressInfo).port;
  await cluster?.started(config.nodeAddress ?? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`);
  ready = true;

  return {
    port,
    metrics,
    async shutdown(deadlineMs: number) {
      ready = false;
      cluster?.setState("draining");
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), deadlineMs);
      });
      const outcome = await Promise.race([server.gracefullyShutdown(false).then(() => "closed" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "deadline") log.warn({ event: "shutdown_deadline", deadlineMs }, "rooms did not close in time; stopping anyway");
      await cluster?.stop();
      httpServer.closeAllConnections();
    },
  };
}
