/**
 * The cluster's one public address. Stateless: it keeps no room state, only the sockets it is
 * relaying, so any number can run side by side. Plain HTTP (matchmaking, the game page) goes to
 * the least loaded ready node, or to a room's owner when the request names a room; a websocket
 * goes to the node that owns its room now, looked up in Redis on every connect. When a room moves
 * the gateway cuts the sockets that still lead to its old home, and the players' SDKs reconnect
 * through it to the new one, with no change to game code. The public edge's limits (server/edge/)
 * apply before anything else, and the client's address goes on to the nodes in X-Forwarded-For,
 * so their per-address limits hold behind the gateway. The operator's paths (`/admin/*`,
 * `/metrics`) are never relayed: nodes serve them on their operator listeners, which only operators
 * reach. CORS is the gateway's own edge's policy (ALLOWED_ORIGINS): it answers preflights itself
 * and replaces whatever CORS headers a node's answer carries. Clients that follow their room ask it
 * where the room's owner takes sockets directly (`GET /rooms/<roomId>/address`, nodes with
 * PUBLIC_URL), and their sockets never pass it.
 *
 * Who carries a socket's bytes once its owner is known is the data plane's choice
 * (GATEWAY_RELAY): this process, piping the two sockets together (`relay`), or HAProxy in front of
 * it, which asks `route` where each upgrade goes, connects it there itself, and has its sockets to
 * an old owner cut through its runtime API (haproxy-sessions.ts). Either way the decision (holds,
 * refusals, retries on a refused port) is made here, by the same code.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from "node:http";
import { lookup } from "node:dns/promises";
import { connect, isIP, type Socket } from "node:net";
import express, { type Router } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { JoinErrorCode } from "../../shared/protocol.ts";
import { BadRecordLog } from "../cluster/bad-records.ts";
import { leastLoaded, type NodeRecord, readNodes } from "../cluster/node-registry.ts";
import { OwnershipView } from "../cluster/ownership.ts";
import { channels, type OwnershipChange } from "../cluster/redis-keys.ts";
import { type ScriptedRedis, withScripts } from "../cluster/redis-scripts.ts";
import { roomOfSocketUrl, socketUrlOf } from "../socket-url.ts";
import { appendForwardedFor } from "../edge/client-address.ts";
import { answer, type Edge, type Refusal, refuseOnSocket } from "../edge/edge.ts";
import { watchBodySize } from "../edge/request-body.ts";
import { OPERATOR_PATH } from "../http/routes.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { HaproxySessions } from "./haproxy-sessions.ts";
import { type OwnerAnswer, RoomOwners } from "./room-owners.ts";
import type { RouteAnswer, RouteQuestion } from "./route-service.ts";

export interface GatewayOptions {
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly log: Logger;
  /** How long a socket or join for a room with no live owner waits for another node to take it over. */
  readonly holdMs: number;
  /** Sockets and joins held at once for rooms with no live owner. */
  readonly maxHeld: number;
  /** The public edge's limits and CORS policy, as on a node. */
  readonly edge: Edge;
  readonly metrics: GatewayMetrics;
  /** With HAProxy as the data plane: the sockets it relays, to cut when their room moves. */
  readonly sessions?: HaproxySessions;
}

interface Relay {
  readonly nodeId: string;
  readonly client: Socket;
  readonly upstream: Socket;
}

const ROOM_MATCHMAKE = /^\/matchmake\/(?:joinById|reconnect)\/([A-Za-z0-9_-]+)$/;
/** A follower's question: where room X's socket goes now (answerAddress). */
const ROOM_ADDRESS = /^\/rooms\/([^/]*)\/address$/;
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Before retrying a node that refused a connection. */
const RETRY_MS = 10;

export class Gateway {
  readonly server: Server;
  private readonly o: GatewayOptions;
  private readonly relays = new Map<string, Set<Relay>>();
  private readonly owners: RoomOwners;
  /** Matchmaking requests sent to each node and not answered yet: rooms its record may not show yet. */
  private readonly unanswered = new Map<string, number>();
  private readonly redis: ScriptedRedis;
  /** Node records and owner values it had to skip, logged once each and counted. */
  private readonly badRecords: BadRecordLog;

  constructor(options: GatewayOptions) {
    this.o = options;
    this.redis = withScripts(options.redis);
    this.badRecords = new BadRecordLog(options.log, (kind) => options.metrics.badRedisRecords.inc({ kind }));
    this.owners = new RoomOwners({
      redis: this.redis,
      ownership: new OwnershipView(this.redis, this.badRecords),
      bad: this.badRecords,
      holdMs: options.holdMs,
      maxHeld: options.maxHeld,
      held: options.metrics.held,
    });
    this.server = createServer(options.edge.serverOptions, (req, res) => void this.onRequest(req, res));
    options.edge.watch(this.server);
    this.server.on("upgrade", (req, socket: Socket, head: Buffer) => void this.onUpgrade(req, socket, head));
    options.subscriber.on("message", (channel: string, message: string) => {
      if (channel === channels.ownership) this.onOwnershipChange(message);
    });
  }

  /** `/healthz` and `/readyz` for the operator listener; the game port answers them the same way. */
  probes(): Router {
    const router = express.Router();
    for (const path of ["/healthz", "/readyz"]) {
      router.get(path, async (_req, res) => {
        const { status, body } = await this.probe(path);
        res.status(status).json(body);
      });
    }
    return router;
  }

  async listen(port: number, host: string): Promise<number> {
    await this.o.subscriber.subscribe(channels.ownership);
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : port;
  }

  async close(): Promise<void> {
    for (const set of this.relays.values()) for (const r of set) r.client.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get relayCount(): number {
    let n = 0;
    for (const set of this.relays.values()) n += set.size;
    return n;
  }

  /** Redis answers and some node takes players. */
  async isReady(): Promise<boolean> {
    return this.o.redis.status === "ready" && (await this.nodes()).some((n) => n.state === "ready");
  }

  private async probe(path: string): Promise<{ status: number; body: unknown }> {
    if (path === "/healthz") return { status: 200, body: { status: "ok", role: "gateway" } };
    const ready = await this.isReady();
    return { status: ready ? 200 : 503, body: { status: ready ? "ready" : "not ready", role: "gateway" } };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = this.o.edge.admitRequest(req, res);
    if (address === undefined) return;
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/healthz" || path === "/readyz") {
      const { status, body } = await this.probe(path);
      return void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    }
    if (OPERATOR_PATH.test(path)) {
      this.o.metrics.requestsRefused.inc({ reason: "operator_path" });
      return answer(res, { status: 404, message: "not found" });
    }
    // A preflight from an origin not allowed was refused by the edge; an allowed one is granted here.
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      return void res.writeHead(204, this.o.edge.cors.headers(req.headers.origin)).end();
    }
    if (this.o.redis.status !== "ready") {
      return answer(res, { status: JoinErrorCode.UNAVAILABLE, message: "the cluster's state store (Redis) is unreachable; try again shortly" });
    }
    try {
      const asked = ROOM_ADDRESS.exec(path)?.[1];
      if (asked !== undefined && req.method === "GET") return await this.answerAddress(req, res, asked, address);
      const roomId = ROOM_MATCHMAKE.exec(path)?.[1];
      if (!roomId) {
        const target = this.leastBusy(await this.nodes());
        if (!target) return answer(res, { status: JoinErrorCode.UNAVAILABLE, message: "no node is ready to take players" });
        if (path.startsWith("/matchmake/")) this.countUnanswered(target.nodeId, res);
        return this.proxyHttp(req, res, target, address);
      }
      const found = await this.owners.find(roomId, "request");
      if (found.kind === "owner") return this.proxyHttp(req, res, found.node, address);
      answer(res, asRequestRefusal(this.ownerRefusal(found, roomId, address), found.kind));
    } catch (err) {
      this.o.log.warn({ event: "gateway_request_failed", path, err }, "request failed");
      answer(res, { status: JoinErrorCode.UNAVAILABLE, message: "the cluster could not be reached; try again shortly" });
    }
  }

  /**
   * Where a client that follows its room (client/lib) opens its socket now: the owner's public
   * websocket address when its node advertises one (PUBLIC_URL), none when the socket is to come
   * through here. Decided as an upgrade is, held while the room has no live owner; each lookup
   * takes a matchmaking token, as the join or reconnect it stands for.
   */
  private async answerAddress(req: IncomingMessage, res: ServerResponse, roomId: string, address: string): Promise<void> {
    if (!ROOM_ID.test(roomId)) return answer(res, { status: 400, message: "not a room id" });
    if (!this.o.edge.admitJoin(address, res)) return;
    const reached = await this.reachOwner(roomId, address, () => req.socket.destroyed);
    if (!reached) return;
    if (!("upstream" in reached)) return answer(res, asRequestRefusal(reached.refusal, reached.reason));
    reached.upstream.destroy();
    const { publicUrl } = reached.target;
    const body = JSON.stringify(publicUrl === undefined ? { roomId } : { roomId, url: publicUrl });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", ...this.o.edge.cors.headers(req.headers.origin) }).end(body);
  }

  private proxyHttp(req: IncomingMessage, res: ServerResponse, target: NodeRecord, address: string): void {
    const url = new URL(target.address);
    const headers = { ...req.headers, "x-forwarded-for": this.forwardedFor(req) };
    const upstream = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...withoutCors(answer.headers), ...this.o.edge.cors.headers(req.headers.origin) });
        answer.pipe(res);
      },
    );
    this.o.metrics.requestsProxied.inc();
    let tooLarge = false;
    upstream.on("error", () => {
      if (tooLarge) return;
      if (!res.headersSent) answer(res, { status: JoinErrorCode.UNAVAILABLE, message: `node ${target.nodeId} did not answer; try again` });
      else res.destroy();
    });
    // A client that went away mid-request (a trickled body cut by the timeout) takes its upstream with it.
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    watchBodySize(req, this.o.edge.settings.maxBodyBytes, () => {
      tooLarge = true;
      upstream.destroy();
      this.o.edge.refuseBody(req, address);
    });
    req.pipe(upstream);
  }

  private onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): void {
    if (client.listenerCount("error") === 0) client.on("error", () => client.destroy());
    const address = this.o.edge.admitUpgrade(req, client);
    if (address === undefined) return;
    const roomId = roomOfUpgrade(req.url);
    if (!roomId) return this.refuseUpgrade(client, { status: JoinErrorCode.NOT_A_ROOM, message: "not a room socket" }, "not_a_room");
    void this.relay(req, client, head, roomId, address);
  }

  private async relay(req: IncomingMessage, client: Socket, head: Buffer, roomId: string, address: string): Promise<void> {
    const reached = await this.reachOwner(roomId, address, () => client.destroyed);
    if (!reached) return;
    if (!("upstream" in reached)) return this.refuseUpgrade(client, reached.refusal, reached.reason);
    const { target, upstream } = reached;
    const relay: Relay = { nodeId: target.nodeId, client, upstream };
    upstream.write(requestHead(req, this.forwardedFor(req)));
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      const set = this.relays.get(roomId);
      if (!set?.delete(relay)) return;
      this.o.metrics.relaysOpen.dec();
      if (set.size === 0) this.relays.delete(roomId);
    };
    upstream.on("error", end);
    upstream.on("close", end);
    client.on("close", end);
    let set = this.relays.get(roomId);
    if (!set) this.relays.set(roomId, (set = new Set()));
    set.add(relay);
    this.o.metrics.relaysOpen.inc();
  }

  /**
   * HAProxy's question for an upgrade (route-service.ts): the owner's address to connect it to,
   * decided as for a socket this process relays, or the refusal to answer it with.
   */
  async route(q: RouteQuestion): Promise<RouteAnswer | undefined> {
    const roomId = roomOfUpgrade(q.target);
    if (!roomId) return this.refuseRoute({ status: JoinErrorCode.NOT_A_ROOM, message: "not a room socket" }, "not_a_room");
    const reached = await this.reachOwner(roomId, q.address, q.gone);
    if (!reached) return undefined;
    if (!("upstream" in reached)) return this.refuseRoute(reached.refusal, reached.reason);
    // The connection only showed the owner's port open: HAProxy makes the player's own.
    reached.upstream.destroy();
    const { hostname, port } = new URL(reached.target.address);
    const host = hostname.replace(/^\[|\]$/g, "");
    // HAProxy connects to an address, not a name: a node known by name (NODE_ADDRESS) is resolved here.
    const ip = isIP(host) ? host : (await lookup(host)).address;
    this.o.sessions?.routed(q.source, roomId, reached.target.nodeId);
    return { kind: "route", ip, port: Number(port) };
  }

  private refuseRoute(refusal: Refusal, reason: string): RouteAnswer {
    this.o.metrics.upgradesRefused.inc({ reason });
    return { kind: "refuse", refusal };
  }

  /**
   * The room's owner with a connection open to its game port, or why there is none. A port that
   * refuses (its node just died) has the room looked up again while the hold lasts. Undefined once
   * the caller left.
   */
  private async reachOwner(roomId: string, address: string, gone: () => boolean): Promise<{ target: NodeRecord; upstream: Socket } | { refusal: Refusal; reason: string } | undefined> {
    for (;;) {
      const found = await this.owners.find(roomId, "upgrade");
      if (gone()) return undefined;
      // 503 is what a Colyseus SDK reads as a dropped connection worth retrying.
      if (found.kind !== "owner") return { refusal: this.ownerRefusal(found, roomId, address), reason: found.kind === "unavailable" ? "no_owner" : found.kind };
      const upstream = await this.connectTo(found.node);
      if (upstream) return { target: found.node, upstream };
      await new Promise((r) => setTimeout(r, RETRY_MS));
      if (gone()) return undefined;
    }
  }

  private refuseUpgrade(client: Socket, refusal: Refusal, reason: string): void {
    this.o.metrics.upgradesRefused.inc({ reason });
    refuseOnSocket(client, refusal);
  }

  /** What a caller for a room without a live owner is told; an unknown room and a full hold are logged once per offender. */
  private ownerRefusal(found: Exclude<OwnerAnswer, { kind: "owner" }>, roomId: string, address: string): Refusal {
    if (found.kind === "unavailable") return { status: JoinErrorCode.UNAVAILABLE, message: `room ${roomId} has no live owner yet; try again` };
    if (found.kind === "unknown") {
      const message = `room "${roomId}" not found`;
      this.o.edge.refused("unknown_room", address, message);
      return { status: JoinErrorCode.NOT_A_ROOM, message };
    }
    const message = `the gateway already holds ${this.o.maxHeld} connections for rooms being moved (GATEWAY_MAX_HELD); try again`;
    this.o.edge.refused("holds_full", address, message);
    return { status: JoinErrorCode.UNAVAILABLE, message };
  }

  /** What the next hop gets as X-Forwarded-For: what came in, and the peer this gateway saw. */
  private forwardedFor(req: IncomingMessage): string {
    const incoming = req.headers["x-forwarded-for"];
    return appendForwardedFor(Array.isArray(incoming) ? incoming.join(", ") : incoming, this.o.edge.peerOf(req.socket) ?? "");
  }

  private connectTo(target: NodeRecord): Promise<Socket | undefined> {
    const url = new URL(target.address);
    return new Promise((resolve) => {
      // Game frames are small and timely: Nagle would hold an input back until the node ACKs the last one.
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      socket.once("connect", () => resolve(socket));
      socket.once("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ECONNREFUSED") this.owners.nodeRefused(target.nodeId);
        resolve(undefined);
      });
    });
  }

  /** A room moved: sockets still relayed to another node lead to a copy that no longer counts. */
  private onOwnershipChange(message: string): void {
    let change: OwnershipChange;
    try {
      change = JSON.parse(message) as OwnershipChange;
    } catch {
      return;
    }
    if (typeof change?.roomId !== "string" || typeof change.nodeId !== "string") return;
    this.owners.ownershipChanged(change.roomId);
    this.o.sessions?.cut(change.roomId, change.nodeId).catch((err: unknown) => this.o.log.warn({ event: "gateway_cut_failed", roomId: change.roomId, err }, "could not cut HAProxy's sockets to the room's old owner"));
    const set = this.relays.get(change.roomId);
    if (!set) return;
    for (const r of set) {
      if (r.nodeId !== change.nodeId) {
        r.client.destroy();
        r.upstream.destroy();
      }
    }
  }

  /**
   * The ready node with the fewest rooms, counting the matchmaking requests this gateway has sent
   * it and not had answered: a burst of creates spreads over the nodes instead of chasing one
   * record that has not caught up yet.
   */
  private leastBusy(nodes: NodeRecord[]): NodeRecord | undefined {
    return leastLoaded(nodes.map((n) => ({ ...n, rooms: n.rooms + (this.unanswered.get(n.nodeId) ?? 0) })));
  }

  private countUnanswered(nodeId: string, res: ServerResponse): void {
    this.unanswered.set(nodeId, (this.unanswered.get(nodeId) ?? 0) + 1);
    res.once("close", () => {
      const left = (this.unanswered.get(nodeId) ?? 1) - 1;
      if (left === 0) this.unanswered.delete(nodeId);
      else this.unanswered.set(nodeId, left);
    });
  }

  private nodes(): Promise<NodeRecord[]> {
    return readNodes(this.redis, this.badRecords).catch(() => []);
  }
}

/** The room an upgrade asks for; none for an operator path, which is never relayed. */
function roomOfUpgrade(target: string | undefined): string | undefined {
  const url = socketUrlOf(target);
  return !url || OPERATOR_PATH.test(url.pathname) ? undefined : roomOfSocketUrl(url).roomId;
}

/** A refusal as a plain request gets it: an unknown room with the status Colyseus answers it with, so the SDK reads it the same way. */
function asRequestRefusal(refusal: Refusal, kind: string): Refusal {
  return kind === "unknown" ? { ...refusal, status: JoinErrorCode.ROOM_NOT_FOUND } : refusal;
}

/** The upgrade request as the node gets it: the client's own headers, X-Forwarded-For extended. */
function requestHead(req: IncomingMessage, forwardedFor: string): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== "x-forwarded-for") head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  return `${head}X-Forwarded-For: ${forwardedFor}\r\n\r\n`;
}

/** A node's own CORS headers answer for the node's policy; the gateway's replace them. */
function withoutCors(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith("access-control-")));
}
