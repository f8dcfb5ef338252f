/**
 * The cluster's one public address. Stateless: it keeps no room state, only the sockets it is
 * relaying, so any number can run side by side. Plain HTTP (matchmaking, the game page) goes to
 * the least loaded ready node, or to a room's owner when the request names a room; a websocket
 * goes to the node that owns its room now, looked up in Redis on every connect. When a room moves
 * the gateway cuts the sockets that still lead to its old home, and the players' SDKs reconnect
 * through it to the new one, with no change to game code. The operator's paths (`/admin/*`,
 * `/metrics`) are never relayed: nodes serve them on their operator listeners, which only operators
 * reach. CORS is the gateway's own policy (ALLOWED_ORIGINS): it answers preflights itself and
 * replaces whatever CORS headers a node's answer carries.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { BadRecordLog } from "../cluster/bad-records.ts";
import { leastLoaded, type NodeRecord, readNode, readNodes } from "../cluster/node-registry.ts";
import { readOwners } from "../cluster/owner-value.ts";
import { channels, type OwnershipChange } from "../cluster/redis-keys.ts";
import { type ScriptedRedis, withScripts } from "../cluster/redis-scripts.ts";
import { type CorsPolicy, refusePreflight } from "../http/cors.ts";
import { OPERATOR_PATH } from "../http/routes.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";

export interface GatewayOptions {
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly log: Logger;
  /** How long a socket or join for a room with no live owner waits for another node to take it over. */
  readonly holdMs: number;
  readonly metrics: GatewayMetrics;
  readonly cors: CorsPolicy;
}

interface Relay {
  readonly nodeId: string;
  readonly client: Socket;
  readonly upstream: Socket;
}

const ROOM_PATH = /^\/[A-Za-z0-9_-]+\/([A-Za-z0-9_-]+)$/;
const ROOM_MATCHMAKE = /^\/matchmake\/(?:joinById|reconnect)\/([A-Za-z0-9_-]+)$/;
/** Between two looks in Redis for a room's owner while holding a player; an ownership message cuts the wait short. */
const POLL_MS = 100;
/** How long a held player waits for a room's owner before the gateway asks every node to look for orphans. */
const ASK_FOR_REBUILD_AFTER_MS = 250;
/** Before retrying a node that refused a connection. */
const RETRY_MS = 10;
/** Longer than a node record's TTL, so a dead node's last record is never trusted again. */
const REFUSAL_MEMORY_MS = 2000;

export class Gateway {
  readonly server: Server;
  private readonly o: GatewayOptions;
  private readonly relays = new Map<string, Set<Relay>>();
  /** Players held for a room with no live owner, woken by the room's next ownership message. */
  private readonly ownerWaiters = new Map<string, Set<() => void>>();
  /** Nodes whose port just refused us: dead, whatever their record says until it lapses. */
  private readonly refusedAt = new Map<string, number>();
  private readonly redis: ScriptedRedis;
  /** The gateway serves no metrics: a bad record's log line is its only trace here. */
  private readonly badRecords: BadRecordLog;

  constructor(options: GatewayOptions) {
    this.o = options;
    this.redis = withScripts(options.redis);
    this.badRecords = new BadRecordLog(options.log, () => undefined);
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on("upgrade", (req, socket: Socket, head: Buffer) => void this.onUpgrade(req, socket, head));
    options.subscriber.on("message", (channel: string, message: string) => {
      if (channel === channels.ownership) this.onOwnershipChange(message);
    });
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

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/healthz") return json(res, 200, { status: "ok", role: "gateway" });
    if (path === "/readyz") {
      const ready = await this.isReady();
      return json(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", role: "gateway" });
    }
    if (OPERATOR_PATH.test(path)) {
      this.o.metrics.requestsRefused.inc({ reason: "operator_path" });
      return json(res, 404, { error: "not found" });
    }
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      if (this.o.cors.refusesPreflight(req.method, req.headers)) {
        this.o.metrics.requestsRefused.inc({ reason: "cors_preflight" });
        return refusePreflight(res);
      }
      return void res.writeHead(204, this.o.cors.headers(req.headers.origin)).end();
    }
    if (this.o.redis.status !== "ready") {
      return json(res, 503, { error: "the cluster's state store (Redis) is unreachable; try again shortly" });
    }
    try {
      const roomId = ROOM_MATCHMAKE.exec(path)?.[1];
      const target = roomId ? await this.ownerOf(roomId, "request") : leastLoaded(await this.nodes());
      if (!target) {
        return json(res, 503, { error: roomId ? `room ${roomId} is not available right now; try again` : "no node is ready to take players" });
      }
      this.proxyHttp(req, res, target);
    } catch (err) {
      this.o.log.warn({ event: "gateway_request_failed", path, err }, "request failed");
      json(res, 503, { error: "the cluster could not be reached; try again shortly" });
    }
  }

  private proxyHttp(req: IncomingMessage, res: ServerResponse, target: NodeRecord): void {
    const url = new URL(target.address);
    const upstream = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...withoutCors(answer.headers), ...this.o.cors.headers(req.headers.origin) });
        answer.pipe(res);
      },
    );
    this.o.metrics.requestsProxied.inc();
    upstream.on("error", () => {
      if (!res.headersSent) json(res, 503, { error: `node ${target.nodeId} did not answer; try again` });
      else res.destroy();
    });
    req.pipe(upstream);
  }

  private async onUpgrade(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    if (client.listenerCount("error") === 0) client.on("error", () => client.destroy());
    const path = (req.url ?? "").split("?")[0]!;
    const roomId = OPERATOR_PATH.test(path) ? undefined : ROOM_PATH.exec(path)?.[1];
    if (!roomId) return this.refuseUpgrade(client, 404, "not a room socket", "not_a_room");
    let target: NodeRecord | undefined;
    try {
      target = await this.ownerOf(roomId, "upgrade");
    } catch {
      target = undefined;
    }
    // 503 is what a Colyseus SDK reads as a dropped connection worth retrying.
    if (!target) return this.refuseUpgrade(client, 503, `room ${roomId} has no live owner yet`, "no_owner");
    const upstream = await this.connectTo(target);
    if (!upstream) return this.onUpgradeRetry(req, client, head);
    const relay: Relay = { nodeId: target.nodeId, client, upstream };
    upstream.write(requestHead(req));
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

  private refuseUpgrade(client: Socket, status: number, text: string, reason: string): void {
    this.o.metrics.upgradesRefused.inc({ reason });
    refuse(client, status, text);
  }

  /** The owner refused the connection (it just died): look the room up again while the hold lasts. */
  private async onUpgradeRetry(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    if (client.destroyed) return;
    await new Promise((r) => setTimeout(r, RETRY_MS));
    return this.onUpgrade(req, client, head);
  }

  private connectTo(target: NodeRecord): Promise<Socket | undefined> {
    const url = new URL(target.address);
    return new Promise((resolve) => {
      // Game frames are small and timely: Nagle would hold an input back until the node ACKs the last one.
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      socket.once("connect", () => resolve(socket));
      socket.once("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ECONNREFUSED") this.refusedAt.set(target.nodeId, Date.now());
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
    const waiters = this.ownerWaiters.get(change.roomId);
    if (waiters) {
      this.ownerWaiters.delete(change.roomId);
      for (const wake of waiters) wake();
    }
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
   * The node that owns a room and is alive, waiting up to holdMs for a takeover when there is
   * none; past a moment, every node is asked to scan for orphans at once, so a room nobody picked
   * up yet is rebuilt on demand.
   */
  private async ownerOf(roomId: string, kind: "upgrade" | "request"): Promise<NodeRecord | undefined> {
    const until = Date.now() + this.o.holdMs;
    const askAt = Date.now() + ASK_FOR_REBUILD_AFTER_MS;
    let asked = false;
    let held = false;
    for (;;) {
      // A lease that names no valid owner is treated as none: the room is waited for, and rebuilt.
      const [owner] = await readOwners(this.redis, [roomId], this.badRecords);
      if (owner) {
        const { nodeId } = owner;
        const record = (Date.now() - (this.refusedAt.get(nodeId) ?? 0)) > REFUSAL_MEMORY_MS ? await readNode(this.redis, nodeId, this.badRecords) : undefined;
        if (record) return record;
      }
      // A room being handed on has no owner for a few milliseconds: ask for a rebuild only when
      // the wait outlasts that, rather than have every node scan for every early reconnect.
      if (!asked && Date.now() >= askAt) {
        asked = true;
        await this.o.redis.publish(channels.rehydrate, JSON.stringify({ roomId }));
      }
      if (Date.now() >= until) return undefined;
      if (!held) {
        held = true;
        this.o.metrics.held.inc({ kind });
      }
      await this.ownershipOrTimeout(roomId, Math.min(POLL_MS, until - Date.now()));
    }
  }

  private ownershipOrTimeout(roomId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.ownerWaiters.get(roomId);
      if (!waiters) this.ownerWaiters.set(roomId, (waiters = new Set()));
      const wake = () => {
        clearTimeout(timer);
        waiters!.delete(wake);
        if (waiters!.size === 0 && this.ownerWaiters.get(roomId) === waiters) this.ownerWaiters.delete(roomId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  private nodes(): Promise<NodeRecord[]> {
    return readNodes(this.redis, this.badRecords).catch(() => []);
  }
}

function requestHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function refuse(socket: Socket, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A node's own CORS headers answer for the node's policy; the gateway's replace them. */
function withoutCors(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith("access-control-")));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
