/**
 * Real processes for tests, benchmarks and `npm run cluster`: Locus nodes, gateways, the plain
 * Colyseus baseline, redis-servers and Redis Clusters, each on a free port, killed by signal and stopped by pid,
 * their output kept for failure messages.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.ts";

const NODE_MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));
const GATEWAY_MAIN = fileURLToPath(new URL("../server/gateway/main.ts", import.meta.url));
const BASELINE_MAIN = fileURLToPath(new URL("./baseline/plain-server.ts", import.meta.url));

export interface RunningProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGKILLs the process if it still runs, and waits for it to be gone. */
  stop(): Promise<void>;
}

/** A Locus node or gateway, with its operator listener (admin API, metrics) on a port of its own. */
export interface LocusProcess extends RunningProcess {
  readonly adminPort: number;
  readonly adminUrl: string;
}

export type NodeProcess = LocusProcess;

/**
 * Where a load generator on this machine connects from: every bot of a swarm or a benchmark is
 * one client address. `LIMIT_EXEMPT_IPS` set to it lifts the per-address limits (sockets, joins,
 * pending seats) that are sized for the players behind one NAT, not for hundreds of bots.
 */
export const LOAD_GENERATOR_ADDRESSES = "127.0.0.1, ::1";

export interface StartOptions {
  /** Pin the process to these CPUs (a taskset list, "0" or "0-1"), so benchmark clients do not share them. */
  readonly cpus?: string;
  /** Use this port rather than a free one (to restart a process where it was). */
  readonly port?: number;
  /** Node's own flags for a Node process (a profiler, V8 heap sizes), before its script. */
  readonly nodeFlags?: readonly string[];
}

/** taskset execs the command, so the child's pid is the pinned process's own. */
function pinned(options: StartOptions, command: string, args: string[]): [string, string[]] {
  return options.cpus === undefined ? [command, args] : ["taskset", ["-c", options.cpus, command, ...args]];
}

/** A process whose output is kept, stopped by pid; `port` is the one it was told to listen on. */
export function spawnProcess(command: string, args: string[], env: Record<string, string>, port: number): Omit<RunningProcess, "url"> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    port,
    child,
    output: () => log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A process that died before it was ready because a port it was given was taken meanwhile. */
class PortTaken extends Error {}

/**
 * A port found free can be taken by another process (another test file's) before the child
 * listens on it; the child then exits with EADDRINUSE, and is started again on fresh ports, unless
 * the caller chose them.
 */
async function withFreshPorts<T>(start: () => Promise<T>, portsChosen: boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof PortTaken) || portsChosen || attempt === 3) throw err;
    }
  }
}

async function startScript(script: string, readyPath: string, env: Record<string, string>, options: StartOptions): Promise<RunningProcess> {
  const port = options.port ?? (await freePort());
  const proc = spawnProcess(...pinned(options, process.execPath, [...(options.nodeFlags ?? []), script]), { PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", ...env }, port);
  const url = `http://127.0.0.1:${port}`;
  const ended = () => proc.child.exitCode !== null || proc.child.signalCode !== null;
  try {
    await waitFor(
      async () => ended() || (await fetch(`${url}${readyPath}`).catch(() => undefined))?.ok === true,
      20_000,
      () => `${script} did not become ready:\n${proc.output()}`,
    );
    if (ended()) {
      const message = `${script} exited before it was ready:\n${proc.output()}`;
      throw proc.output().includes("EADDRINUSE") ? new PortTaken(message) : new Error(message);
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { ...proc, url };
}

/**
 * The Node flags a Locus node runs with, wherever it is started (`npm start`, `npm run serve`, the
 * Dockerfile, docs/deploy/node.yaml, and here; test/deploy-manifests.test.ts holds them together).
 * A loaded node allocates some tens of megabytes a second, nearly all of it dead within a tick; a
 * young generation of 64 MB semi-spaces collects it several times less often than V8's default
 * (16 MB at most, grown from 1 MB), for the same work each time; set as the minimum too, because
 * V8 grows it under load in one scavenge that touches 64 MB of fresh pages (about 30 ms, with
 * players waiting): docs/performance.md has the measurements.
 */
export const NODE_FLAGS: readonly string[] = ["--min-semi-space-size=64", "--max-semi-space-size=64"];

/**
 * A Locus node (`server/main.ts`, or `main`: a script that starts one with room types of its own),
 * ready once its /readyz answers 200 (its operator listener opens first). It runs with NODE_FLAGS
 * before any flags `options` gives.
 */
export function startNodeProcess(env: Record<string, string> = {}, options: StartOptions & { readonly main?: string } = {}): Promise<NodeProcess> {
  return startLocusScript(options.main ?? NODE_MAIN, "/readyz", env, { ...options, nodeFlags: [...NODE_FLAGS, ...(options.nodeFlags ?? [])] });
}

/** A gateway (`server/gateway/main.ts`), ready once its /healthz answers (its operator listener opens first). */
export function startGatewayProcess(env: Record<string, string>, options: StartOptions = {}): Promise<LocusProcess> {
  return startLocusScript(GATEWAY_MAIN, "/healthz", env, options);
}

/** The default ADMIN_PORT (PORT + 10000) may be taken on a busy machine: a free one is picked unless `env` names one. */
function startLocusScript(script: string, readyPath: string, env: Record<string, string>, options: StartOptions): Promise<LocusProcess> {
  return withFreshPorts(async () => {
    const adminPort = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : await freePort();
    const proc = await startScript(script, readyPath, { ADMIN_PORT: String(adminPort), ...env }, options);
    return { ...proc, adminPort, adminUrl: `http://127.0.0.1:${adminPort}` };
  }, options.port !== undefined || env.ADMIN_PORT !== undefined);
}

/** The plain Colyseus baseline server (`loadtest/baseline/plain-server.ts`, or `main`), ready once its /healthz answers. */
export function startBaselineProcess(env: Record<string, string>, options: StartOptions & { readonly main?: string } = {}): Promise<RunningProcess> {
  return withFreshPorts(() => startScript(options.main ?? BASELINE_MAIN, "/healthz", env, options), options.port !== undefined);
}

export interface RedisProcess extends RunningProcess {
  readonly redisUrl: string;
}

export interface RedisOptions extends StartOptions {
  /** `requirepass`, and `masterauth` for a replica: every client must authenticate. */
  readonly password?: string;
  /** Start as a replica of the redis-server on this loopback port. */
  readonly replicaOf?: number;
  /** Serve TLS only (no plain port), with these PEM files; `redisUrl` is then a rediss:// one. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

/**
 * A private redis-server that keeps nothing, ready once it accepts connections. Its directory is
 * its own and goes with it: `--save ""` stops snapshots, but a replica's full sync still writes an
 * RDB file on both sides, and a redis-server started where one lies loads it, so one started in
 * the project's directory after a Sentinel test would begin with that test's rooms.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "locus-redis-"));
  const args = ["--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
  args.push(...(options.tls ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.cert, "--tls-key-file", options.tls.key, "--tls-ca-cert-file", options.tls.ca, "--tls-auth-clients", "no", "--tls-replication", "yes"] : ["--port", String(port)]));
  if (options.password !== undefined) args.push("--requirepass", options.password, "--masterauth", options.password);
  if (options.replicaOf !== undefined) args.push("--replicaof", "127.0.0.1", String(options.replicaOf));
  const spawned = spawnProcess(...pinned(options, "redis-server", args), {}, port);
  const proc = {
    ...spawned,
    async stop() {
      await spawned.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Over TLS nothing here speaks to it; its log says when it listens.
    const ready = options.tls ? async () => proc.output().includes("Ready to accept connections") : () => answersPing(port);
    await waitFor(ready, 10_000, () => `redis-server did not start:\n${proc.output()}`);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const url = `${options.tls ? "rediss" : "redis"}://127.0.0.1:${port}`;
  return { ...proc, url, redisUrl: url };
}

/** True when a Redis (or a sentinel) answers PING on this loopback port, or asks for its password first. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
    });
  });
}

/** Polls until `check` holds; fails with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisClusterProcess {
  /** Every master, in the order of their slot ranges. */
  readonly masters: readonly RedisProcess[];
  /** Where an ioredis `Cluster` client starts from. */
  readonly seeds: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of `masters` redis-servers (no replicas), each with its cluster bus on a
 * free port of its own, slots spread by `redis-cli --cluster create`; ready once every master
 * says the cluster is ok. It keeps nothing on disk but its nodes files, in a directory of its own.
 */
export async function startRedisCluster(masters = 3, options: Pick<StartOptions, "cpus"> = {}): Promise<RedisClusterProcess> {
  const dir = mkdtempSync(join(tmpdir(), "locus-redis-cluster-"));
  const started: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((m) => m.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const bus = await freePort();
      const args = ["--port", String(port), "--cluster-port", String(bus), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "2000", "--dir", dir);
      const proc = spawnProcess(...pinned(options, "redis-server", args), {}, port);
      started.push({ ...proc, url: `redis://127.0.0.1:${port}`, redisUrl: `redis://127.0.0.1:${port}` });
      await waitFor(() => answersPing(port), 10_000, () => `redis-server did not start:\n${proc.output()}`);
    }
    const seeds = started.map((m) => ({ host: "127.0.0.1", port: m.port }));
    const create = spawnSync("redis-cli", ["--cluster", "create", ...seeds.map((s) => `${s.host}:${s.port}`), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8", timeout: 20_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    await waitFor(() => started.every((m) => clusterStateOk(m.port)), 20_000, () => "every master to report cluster_state:ok");
    return { masters: started, seeds, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function clusterStateOk(port: number): boolean {
  const info = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8", timeout: 5000 });
  return info.stdout.includes("cluster_state:ok");
}
