/**
 * The settings of a node and of a gateway, read once from the environment. Every variable is
 * checked here and a bad one stops the process before it listens, naming the variable, the value
 * and what was expected. What both read (the listener, Redis, the operator listener, the public
 * edge, the log level) is read by the same code.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { DEFAULT_MAX_PLAYERS, DEFAULT_TICK_HZ, MAX_PLAYERS_LIMIT } from "../shared/constants.ts";
import { PUBLIC_URL_PATTERN } from "../shared/protocol.ts";
import { DEFAULT_REVERSI_CLOCK_MS } from "../shared/reversi/protocol.ts";
import type { RedisEndpoint, SentinelAddress } from "./cluster/redis-endpoint.ts";
import { redactUrl } from "./redact.ts";
import { type EdgeSettings, readEdgeSettings } from "./edge/edge-settings.ts";

export interface NodeConfig {
  readonly port: number;
  readonly host: string;
  readonly nodeId: string;
  readonly tickHz: number;
  readonly maxPlayers: number;
  /** How long a dropped player's seat waits for its SDK to reconnect, in seconds. */
  readonly seatHoldSeconds: number;
  readonly logLevel: LogLevel;
  /** Where the built browser game lives; served at `/` when it exists. */
  readonly staticDir: string;
  /** Set: cluster mode, with presence, routing and checkpoints in this Redis (by URL or through Sentinel). Unset: a lone node. */
  readonly redis: RedisEndpoint | undefined;
  /** Cluster mode: how often each room writes a checkpoint. */
  readonly checkpointMs: number;
  /** Cluster mode: whether periodic rooms keep an input journal beside their checkpoints (docs/durable-rooms.md). */
  readonly journal: boolean;
  /** Cluster mode: how long a room's owner lease runs without renewal. */
  readonly roomLeaseMs: number;
  /**
   * A test hook, 0 (off) unless set: each SIGUSR2 blocks the node's event loop this long, as a
   * long garbage collection would (server/loop-stall.ts).
   */
  readonly stallOnSigusr2Ms: number;
  /** Cluster mode: the URL other nodes and gateways reach this node at; derived from the port when unset. */
  readonly nodeAddress: string | undefined;
  /**
   * Cluster mode: where players' websockets reach this node without the gateway, advertised in
   * its node record to the clients that follow a room (docs/architecture.md); unset, none do.
   */
  readonly publicUrl: string | undefined;
  /** Bearer token for /admin; required in cluster mode, where operators drain nodes with it. */
  readonly adminToken: string | undefined;
  /** How long a drain may take before the rooms left are checkpointed for recovery elsewhere. */
  readonly drainTimeoutMs: number;
  /** Rooms handed off at once during a drain. */
  readonly drainParallelism: number;
  /** The operator listener (/admin, /metrics): its own port, internal by default. */
  readonly adminPort: number;
  readonly adminHost: string;
  /** Cluster mode: the URL the ops CLI reaches this node's operator listener at; derived from ADMIN_PORT when unset. */
  readonly nodeAdminAddress: string | undefined;
  /** Each Reversi player's time for the whole game, in milliseconds. */
  readonly reversiClockMs: number;
  /** Each websocket connection's frame budget, per second on average (server/edge/frame-budget.ts). */
  readonly maxFramesPerSecond: number;
  /** The public edge's limits (body size, timeouts, sockets and joins per address, trusted proxies) and CORS policy. */
  readonly edge: EdgeSettings;
  /** Seats one client address may hold reserved and not yet connected in one room. */
  readonly maxPendingSeatsPerIp: number;
  /** How long a reserved seat waits for its player's socket, in seconds. */
  readonly seatReservationSeconds: number;
  /** Rooms this node runs at most; past it, new rooms are refused with 503. */
  readonly maxRoomsPerNode: number;
}

/** A node's id, in NODE_ID and wherever one is read back (node records, owner values). */
export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** A node's address, in NODE_ADDRESS and in the node records gateways route by. */
export const NODE_ADDRESS_PATTERN = /^https?:\/\/[^/\s]+$/;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A stalled or cut-off node's rooms move about this long after its last renewal (docs/architecture.md has the trade-off). */
export const DEFAULT_ROOM_LEASE_MS = 1500;

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks every setting; throws one ConfigError listing all the problems found. */
export function loadNodeConfig(env: Env, defaults: { staticDir: string }): NodeConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const tickHz = read.int("TICK_HZ", DEFAULT_TICK_HZ, 1, 120);
  const { port, host } = readListener(read);
  const config: NodeConfig = {
    port,
    host,
    nodeId: read.string("NODE_ID", generatedNodeId(), NODE_ID_PATTERN, "1 to 64 of A-Z a-z 0-9 . _ -"),
    tickHz,
    maxPlayers: read.int("MAX_PLAYERS", DEFAULT_MAX_PLAYERS, 1, MAX_PLAYERS_LIMIT),
    seatHoldSeconds: read.int("SEAT_HOLD_SECONDS", 20, 1, 300),
    logLevel: read.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
    staticDir: read.string("STATIC_DIR", defaults.staticDir, /.+/, "a directory path"),
    redis: readRedisEndpoint(read),
    // One tick is the shortest useful interval: a checkpoint is taken between two ticks.
    checkpointMs: read.int("CHECKPOINT_MS", 1000, Math.ceil(1000 / tickHz), 60_000),
    journal: read.oneOf("JOURNAL", "on", ["on", "off"]) === "on",
    roomLeaseMs: read.int("ROOM_LEASE_MS", DEFAULT_ROOM_LEASE_MS, 1000, 60_000),
    stallOnSigusr2Ms: read.int("STALL_ON_SIGUSR2_MS", 0, 0, 60_000),
    nodeAddress: read.optional("NODE_ADDRESS", NODE_ADDRESS_PATTERN, "an http:// URL with no path, e.g. http://10.0.0.5:2567"),
    publicUrl: read.optional("PUBLIC_URL", PUBLIC_URL_PATTERN, "a ws:// or wss:// URL with no path, e.g. wss://n1.game.example.com"),
    adminToken: read.secret("ADMIN_TOKEN", /^[\x21-\x7e]{16,256}$/, "16 to 256 printable ASCII characters, no spaces"),
    drainTimeoutMs: read.int("DRAIN_TIMEOUT_MS", 30_000, 1000, 600_000),
    drainParallelism: read.int("DRAIN_PARALLELISM", 4, 1, 64),
    ...readOperatorListener(read, port),
    nodeAdminAddress: read.optional("NODE_ADMIN_ADDRESS", NODE_ADDRESS_PATTERN, "an http:// URL with no path, e.g. http://10.0.0.5:12567"),
    reversiClockMs: read.int("REVERSI_CLOCK_MS", DEFAULT_REVERSI_CLOCK_MS, 1000, 3_600_000),
    // An honest client sends one input per tick and a ping a second: the default leaves room for
    // twice the input guard's own limit (2 x TICK_HZ), so inputs that merely come too fast get the
    // guard's clearer 4429 first; the floor still covers one input per tick and the pings.
    maxFramesPerSecond: read.int("MAX_FRAMES_PER_SECOND", 4 * tickHz + 10, tickHz + 10, 100_000),
    edge: readEdgeSettings(read, problems),
    maxPendingSeatsPerIp: read.int("MAX_PENDING_SEATS_PER_IP", 4, 1, 64),
    seatReservationSeconds: read.int("SEAT_RESERVATION_SECONDS", 8, 1, 60),
    maxRoomsPerNode: read.int("MAX_ROOMS_PER_NODE", 200, 1, 100_000),
  };
  if (config.redis && !config.adminToken && !problems.some((p) => p.startsWith("ADMIN_TOKEN"))) {
    problems.push("ADMIN_TOKEN is required in cluster mode (REDIS_URL or REDIS_SENTINELS set): operators drain nodes through the admin API with it");
  }
  if (problems.length > 0) throw new ConfigError(`invalid environment:\n  ${problems.join("\n  ")}`);
  return config;
}

export const GATEWAY_RELAYS = ["haproxy", "node"] as const;
export type GatewayRelay = (typeof GATEWAY_RELAYS)[number];

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  readonly redis: RedisEndpoint;
  /** How long a socket or join for a room with no live owner waits for another node to take it over. */
  readonly holdMs: number;
  /** Sockets and joins held at once for rooms with no live owner. */
  readonly maxHeld: number;
  /** What carries the players' sockets: HAProxy, which the gateway runs, or the gateway's own process. */
  readonly relay: GatewayRelay;
  readonly adminPort: number;
  readonly adminHost: string;
  readonly edge: EdgeSettings;
  readonly logLevel: LogLevel;
}

/** The gateway's settings: the listener, Redis, the operator listener and the public edge as a node reads them, and its holds. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const { port, host } = readListener(read);
  const redis = readRedisEndpoint(read);
  const config = {
    port,
    host,
    redis: redis!,
    holdMs: read.int("GATEWAY_HOLD_MS", 5000, 0, 60_000),
    maxHeld: read.int("GATEWAY_MAX_HELD", 4096, 1, 1_000_000),
    relay: read.oneOf("GATEWAY_RELAY", "haproxy", GATEWAY_RELAYS),
    ...readOperatorListener(read, port),
    edge: readEdgeSettings(read, problems),
    logLevel: read.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
  };
  if (!redis && !problems.some((p) => p.startsWith("REDIS_"))) problems.push("REDIS_URL (or REDIS_SENTINELS with REDIS_SENTINEL_MASTER) is required: the gateway finds rooms and nodes in Redis");
  // HAProxy would bind a port of its own choosing that nobody could learn.
  if (config.relay === "haproxy" && port === 0) problems.push("PORT=0 needs GATEWAY_RELAY=node: with HAProxy the public port must be named");
  if (problems.length > 0) throw new ConfigError(`invalid environment:\n  ${problems.join("\n  ")}`);
  return config;
}

function readListener(read: EnvReader): { port: number; host: string } {
  return { port: read.int("PORT", 2567, 0, 65535), host: read.string("HOST", "0.0.0.0", /^[\w.:-]+$/, "a host name or IP address") };
}

/**
 * The cluster's Redis as every process reads it (nodes, gateways, the ops CLI, the load tester),
 * or throws a ConfigError naming each problem. `url`, when given (a `--redis` flag), replaces
 * REDIS_URL and the Sentinel variables; passwords and TLS still come from `env`.
 */
export function loadRedisEndpoint(env: Env, url?: string): RedisEndpoint | undefined {
  const problems: string[] = [];
  const read = new EnvReader(url === undefined ? env : { ...env, REDIS_URL: url, REDIS_SENTINELS: undefined, REDIS_SENTINEL_MASTER: undefined }, problems);
  const endpoint = readRedisEndpoint(read);
  if (problems.length > 0) throw new ConfigError(`invalid Redis settings:\n  ${problems.join("\n  ")}`);
  return endpoint;
}

/** What REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD may hold: what a `requirepass` line can. */
const REDIS_PASSWORD = /^[\x21-\x7e]{1,512}$/;
const SENTINEL_MASTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Exactly one of two modes: REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER; then, in
 * either, REDIS_PASSWORD, REDIS_TLS and REDIS_CA_FILE (and REDIS_SENTINEL_PASSWORD with Sentinel).
 * Undefined when none is set: a lone node.
 */
function readRedisEndpoint(read: EnvReader): RedisEndpoint | undefined {
  const url = read.optional("REDIS_URL", /^rediss?:\/\/\S+$/, "a redis:// or rediss:// URL");
  const sentinels = read.list("REDIS_SENTINELS", (item) => parseSentinel(item) !== undefined, "host:port, e.g. 10.0.0.5:26379");
  const masterName = read.optional("REDIS_SENTINEL_MASTER", SENTINEL_MASTER_NAME, "the master's name in the sentinels' configuration: 1 to 64 of A-Z a-z 0-9 . _ -");
  const password = read.secret("REDIS_PASSWORD", REDIS_PASSWORD, "1 to 512 printable ASCII characters, no spaces");
  const sentinelPassword = read.secret("REDIS_SENTINEL_PASSWORD", REDIS_PASSWORD, "1 to 512 printable ASCII characters, no spaces");
  const tlsSetting = read.oneOf("REDIS_TLS", "0", ["0", "1"]);
  const caFile = read.optional("REDIS_CA_FILE", /.+/, "a file path");
  const sentinelMode = sentinels.length > 0 || masterName !== undefined;
  const anySet = url !== undefined || sentinelMode || read.isSet("REDIS_URL") || read.isSet("REDIS_SENTINELS");
  if (!anySet) {
    for (const name of ["REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD", "REDIS_TLS", "REDIS_CA_FILE"]) {
      if (read.isSet(name)) read.problem(`${name} is set, but no Redis is: set REDIS_URL, or REDIS_SENTINELS and REDIS_SENTINEL_MASTER`);
    }
    return undefined;
  }
  if (url !== undefined && sentinelMode) {
    read.problem("REDIS_URL and REDIS_SENTINELS/REDIS_SENTINEL_MASTER are both set: set REDIS_URL for one Redis, or the Sentinel pair to find the master through Sentinel, not both");
    return undefined;
  }
  if (sentinelMode && (sentinels.length === 0) !== (masterName === undefined)) {
    if (!read.isSet(sentinels.length === 0 ? "REDIS_SENTINELS" : "REDIS_SENTINEL_MASTER")) {
      read.problem(sentinels.length === 0 ? "REDIS_SENTINEL_MASTER needs REDIS_SENTINELS: the sentinels' host:port list" : "REDIS_SENTINELS needs REDIS_SENTINEL_MASTER: the master's name in the sentinels' configuration");
    }
    return undefined;
  }
  if (url !== undefined && sentinelPassword !== undefined) read.problem("REDIS_SENTINEL_PASSWORD is for Sentinel mode (REDIS_SENTINELS), not REDIS_URL");
  if (url !== undefined && password !== undefined && /^rediss?:\/\/[^/@\s]*:[^/@\s]*@/.test(url)) {
    read.problem("REDIS_PASSWORD and a password in REDIS_URL are both set: give it once");
  }
  const rediss = url?.startsWith("rediss://") === true;
  if (rediss && read.isSet("REDIS_TLS") && tlsSetting === "0") read.problem("REDIS_TLS=0 contradicts the rediss:// URL, which is TLS");
  const tls = rediss || tlsSetting === "1";
  let ca: string | undefined;
  if (caFile !== undefined) {
    if (!tls) read.problem("REDIS_CA_FILE is set without TLS: set REDIS_TLS=1 (or use a rediss:// URL)");
    ca = readCertificate(caFile, read);
  }
  const access = { password, sentinelPassword, tls, ca };
  if (url !== undefined) return { kind: "url", url, ...access };
  if (sentinels.length === 0 || masterName === undefined) return undefined;
  return { kind: "sentinel", sentinels: sentinels.map((s) => parseSentinel(s)!), masterName, ...access };
}

/** `host:port` (an IPv6 host in brackets), or undefined when it is not one. */
function parseSentinel(item: string): SentinelAddress | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

function readCertificate(path: string, read: EnvReader): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    read.problem(`REDIS_CA_FILE=${JSON.stringify(path)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    read.problem(`REDIS_CA_FILE=${JSON.stringify(path)}: expected a PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return undefined;
  }
  return text;
}

/** How far above the game port the operator listener sits by default: nodes started by hand on different ports stay apart. */
const ADMIN_PORT_OFFSET = 10_000;

/**
 * ADMIN_PORT and ADMIN_HOST, read alike by nodes and gateways: the operator listener defaults to
 * PORT + 10000 (0 with PORT 0: any free port) on the loopback interface only.
 */
function readOperatorListener(read: EnvReader, port: number): { adminPort: number; adminHost: string } {
  const derived = port === 0 ? 0 : port + ADMIN_PORT_OFFSET;
  const adminPort = read.int("ADMIN_PORT", derived, 0, 65535);
  if (adminPort > 65535) read.problem(`ADMIN_PORT is required with PORT=${port}: its default, PORT + ${ADMIN_PORT_OFFSET}, is past 65535`);
  else if (adminPort !== 0 && adminPort === port) read.problem(`ADMIN_PORT=${adminPort}: must differ from PORT, the operator listener is a port of its own`);
  return { adminPort, adminHost: read.string("ADMIN_HOST", "127.0.0.1", /^[\w.:-]+$/, "a host name or IP address") };
}

function generatedNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, "").slice(0, 40) || "node";
  return `${host}-${randomBytes(3).toString("hex")}`;
}

/** Reads one variable at a time, collecting problems instead of stopping at the first. */
export class EnvReader {
  private readonly env: Env;
  private readonly problems: string[];

  constructor(env: Env, problems: string[]) {
    this.env = env;
    this.problems = problems;
  }

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${shown(v)}: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  string(name: string, fallback: string, pattern: RegExp, expected: string): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!pattern.test(v)) {
      this.problems.push(`${name}=${shown(v)}: expected ${expected}`);
      return fallback;
    }
    return v;
  }

  /** A comma-separated list, every item `valid`; empty when unset. */
  list(name: string, valid: (item: string) => boolean, expected: string): string[] {
    const v = this.raw(name);
    if (v === undefined) return [];
    const items = v.split(",").map((item) => item.trim());
    const bad = items.filter((item) => !valid(item));
    if (bad.length > 0) {
      this.problems.push(`${name}: ${bad.map((item) => JSON.stringify(item)).join(", ")} not allowed: expected ${expected}`);
      return [];
    }
    return items;
  }

  /** Whether the variable holds anything, valid or not. */
  isSet(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** A problem spanning several variables, or found after reading them. */
  problem(text: string): void {
    this.problems.push(text);
  }

  optional(name: string, pattern: RegExp, expected: string): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && !pattern.test(v)) {
      this.problems.push(`${name}=${shown(v)}: expected ${expected}`);
      return undefined;
    }
    return v;
  }

  /** A value `parse` turns into a setting, or a problem naming what `parse` expected. */
  parsed<T>(name: string, fallback: T, parse: (text: string) => { ok: true; value: T } | { ok: false; error: string }): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const result = parse(v);
    if (!result.ok) {
      this.problems.push(`${name}=${JSON.stringify(v)}: ${result.error}`);
      return fallback;
    }
    return result.value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name}=${shown(v)}: expected one of ${allowed.join(", ")}`);
      return fallback;
    }
    return v as T;
  }

  /** Like `optional`, for a value a message must never show (a bad one is named, not quoted). */
  secret(name: string, pattern: RegExp, expected: string): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && !pattern.test(v)) {
      this.problems.push(`${name} (${v.length} characters, not shown): expected ${expected}`);
      return undefined;
    }
    return v;
  }
}

/** A bad value as a message quotes it: with any URL's password masked (REDIS_URL). */
function shown(value: string): string {
  return redactUrl(JSON.stringify(value));
}
