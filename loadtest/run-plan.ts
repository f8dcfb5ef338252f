/**
 * The run command's flags, checked and turned into what the run needs. A bad flag ends the
 * program with a message and exit code 2 before anything is started or contacted.
 */
import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { parseFlags } from "../server/cli.ts";
import type { RedisEndpoint } from "../server/cluster/redis-endpoint.ts";
import { ConfigError, loadRedisEndpoint } from "../server/config.ts";
import { LOOPBACK } from "./chaos.ts";
import { type NetConditions, parseNetConditions } from "./netem/conditions.ts";
import { MAX_BOTS, MAX_RUN_MS, parseStages, peak, rampThenHold, type Stage } from "./schedule.ts";
import type { SwarmPlan } from "./swarm-protocol.ts";
import { parseThreshold, type Threshold } from "./thresholds.ts";

const spec = {
  url: { type: "string", help: "the gateway or node to load: http(s)://HOST:PORT or ws(s)://HOST:PORT" },
  bots: { type: "string", help: `bots to run (1 to ${MAX_BOTS}, default 50)` },
  "full-bots": { type: "string", help: "how many of them run the full client library (0 to 200, default 5 % of the peak, at least 1; 0 in reconnect-storm)" },
  duration: { type: "string", help: "seconds of full load after the ramp (1 to 86400, default 30)" },
  ramp: { type: "string", help: "seconds over which the bots join (0 to 3600, default 5)" },
  stages: { type: "string", help: "targets over time instead of --bots, --ramp and --duration: DURATION:TARGET,… each ramping from the last target, e.g. 30s:100,60s:100,10s:500,30s:0" },
  churn: { type: "string", help: "bots per second that leave and are replaced by new ones while the target holds steady (0 to 1000, default 0)" },
  workers: { type: "string", help: "bot processes (1 to 32, default: one per core)" },
  net: { type: "string", help: "play through a distant network: rtt=MS,jitter=MS,loss=PERCENT% (any of the three), a netem proxy in each bot process (http:// and ws:// targets)" },
  "follow-room": { type: "boolean", help: "each bot opens its socket straight to its room's node when the gateway names one (nodes with PUBLIC_URL), as the game's pages do, and asks again on each reconnect; not with --net" },
  "tick-hz": { type: "string", help: "inputs each bot sends a second: the server's TICK_HZ (1 to 120, default 30)" },
  scenario: { type: "string", help: "steady (default), kill-node, drain-node, reconnect-storm or soak" },
  cut: { type: "string", help: "reconnect-storm: bots (default: every bot cuts its own socket at once) or gateway (restart the gateway at --url, on this machine)" },
  redis: { type: "string", help: "the cluster's Redis, to find the busiest node (kill-node, drain-node) or every node (soak) (default: $REDIS_URL, or $REDIS_SENTINELS with $REDIS_SENTINEL_MASTER)" },
  "admin-url": { type: "string", multiple: true, help: "a node's admin API, http(s)://HOST:PORT: drain-node drains that node; soak reads the memory of each one given" },
  token: { type: "string", help: "the admin token, for drain-node and soak (default: $ADMIN_TOKEN)" },
  "sample-every": { type: "string", help: "soak: seconds per sample of latency and node memory (1 to 3600, default 60)" },
  threshold: { type: "string", multiple: true, help: "METRIC OP VALUE, e.g. ack_p99<50ms, dropped==0, recovery_p99<2s: exit code 1 when any fails" },
  agents: { type: "string", help: "hand the bots to this many agents (1 to 100) waiting at --coordinator, and merge what they measure" },
  coordinator: { type: "string", help: "with --agents: the Redis where the agents wait (npm run loadtest -- agent --coordinator …)" },
  "agent-wait": { type: "string", help: "with --agents: seconds to wait for enough agents (1 to 3600, default 60)" },
  "raw-acks": { type: "string", help: "also write every measured input-to-ack latency (microseconds, one per line) to a file per bot process in this directory" },
  json: { type: "string", help: "write the report as JSON to this file" },
  html: { type: "string", help: "write the report with plots over time as one self-contained HTML file" },
} as const;

export const SCENARIOS = ["steady", "kill-node", "drain-node", "reconnect-storm", "soak"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RunPlan {
  /** The target as http(s)://, with no trailing slash. */
  readonly url: string;
  readonly swarm: SwarmPlan;
  /** Bot processes here, when the bots run here. */
  readonly workers: number;
  readonly scenario: Scenario;
  readonly cut: "bots" | "gateway";
  readonly redis: RedisEndpoint | undefined;
  readonly adminUrls: readonly string[];
  readonly token: string | undefined;
  readonly sampleEveryS: number;
  readonly thresholds: readonly Threshold[];
  readonly agents: { readonly count: number; readonly coordinator: string; readonly waitS: number } | undefined;
  readonly rawAcksDir: string | undefined;
  readonly json: string | undefined;
  readonly html: string | undefined;
}

const REDIS_URL = /^rediss?:\/\/\S+$/;

/** Parses the run command's flags from `argv`; exits 2 with a message on anything wrong. */
export function readRunPlan(program: string, argv: readonly string[]): RunPlan {
  const flags = parseFlags(program, spec, { argv });
  const v = flags.values as Partial<Record<keyof typeof spec, string>>;

  const url = v.url === undefined ? flags.fail("--url is required") : httpAddress(v.url);
  if (url === undefined) flags.fail(`--url must be an http:// URL with no path or query (or https://, ws://, wss://), got ${JSON.stringify(v.url)}`);
  const onThisMachine = (address: string) => LOOPBACK.test(new URL(address).hostname);

  const scenario = SCENARIOS.find((s) => s === (v.scenario ?? "steady")) ?? flags.fail(`--scenario must be ${SCENARIOS.slice(0, -1).join(", ")} or ${SCENARIOS.at(-1)}, got ${JSON.stringify(v.scenario)}`);

  let stages: Stage[];
  if (v.stages !== undefined) {
    for (const f of ["bots", "ramp", "duration"] as const) if (v[f] !== undefined) flags.fail(`--stages replaces --bots, --ramp and --duration; drop --${f}`);
    try {
      stages = parseStages(v.stages);
    } catch (err) {
      flags.fail((err as Error).message);
    }
  } else {
    stages = rampThenHold(flags.int("bots", 50, 1, MAX_BOTS), flags.int("ramp", 5, 0, 3600) * 1000, flags.int("duration", 30, 1, MAX_RUN_MS / 1000) * 1000);
  }
  const peakBots = peak(stages!);
  const botsName = v.stages === undefined ? "--bots" : "the peak of --stages";
  const fullBots = flags.int("full-bots", scenario === "reconnect-storm" ? 0 : Math.max(1, Math.round(peakBots * 0.05)), 0, 200);
  if (fullBots > peakBots) flags.fail(`--full-bots (${fullBots}) cannot exceed ${botsName} (${peakBots})`);
  if (scenario === "reconnect-storm" && fullBots > 0) flags.fail("--scenario reconnect-storm runs lean bots only (they cut their own sockets and time their return): drop --full-bots");

  let churnPerSecond = 0;
  if (v.churn !== undefined) {
    churnPerSecond = /^\d+(\.\d+)?$/.test(v.churn) ? Number(v.churn) : Number.NaN;
    if (!(churnPerSecond <= 1000)) flags.fail(`--churn must be bots per second from 0 to 1000, got ${JSON.stringify(v.churn)}`);
  }

  if (v.cut !== undefined && scenario !== "reconnect-storm") flags.fail("--cut applies to --scenario reconnect-storm only");
  const cut = v.cut === undefined || v.cut === "bots" ? "bots" : v.cut === "gateway" ? "gateway" : flags.fail(`--cut must be bots or gateway, got ${JSON.stringify(v.cut)}`);
  if (cut === "gateway" && !onThisMachine(url!)) {
    flags.fail(`--cut gateway restarts the gateway process, so it needs the gateway on this machine, and --url ${new URL(url!).hostname} is not: use --cut bots, which works against any address`);
  }

  const token = v.token ?? process.env.ADMIN_TOKEN;
  const adminUrls = flags.all("admin-url").map((a) => httpAddress(a) ?? flags.fail(`--admin-url must be an http(s)://HOST:PORT address with no path, got ${JSON.stringify(a)}`));
  if (adminUrls.length > 0 && scenario !== "drain-node" && scenario !== "soak") flags.fail("--admin-url applies to --scenario drain-node and soak only");
  const needsRedis = scenario === "kill-node" || (scenario === "drain-node" && adminUrls.length === 0) || (scenario === "soak" && adminUrls.length === 0);
  if (v.redis !== undefined && !REDIS_URL.test(v.redis)) flags.fail("--redis must be a redis:// or rediss:// URL");
  let redis: RedisEndpoint | undefined;
  try {
    redis = needsRedis ? loadRedisEndpoint(process.env, v.redis) : undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    flags.fail(err.message);
  }
  if (needsRedis && !redis) {
    flags.fail(
      scenario === "kill-node"
        ? "--scenario kill-node needs the cluster's Redis: --redis redis://…, REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER"
        : `--scenario ${scenario} needs the cluster's Redis (--redis redis://…, REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER) or the node's admin address (--admin-url)`,
    );
  }
  const redisHosts = !redis ? [] : redis.kind === "url" ? [new URL(redis.url).hostname] : redis.sentinels.map((s) => s.host);
  if (scenario === "kill-node") {
    const why = "--scenario kill-node SIGKILLs a node's process, so it only runs on the nodes' own machine";
    if (!onThisMachine(url!)) flags.fail(`${why}, and --url ${new URL(url!).hostname} is not this machine: use --scenario drain-node (through the admin API) for a remote cluster`);
    const remote = redisHosts.find((host) => !LOOPBACK.test(host) && !LOOPBACK.test(`[${host}]`));
    if (remote !== undefined) flags.fail(`${why}: --redis must point at this machine (localhost, 127.x.x.x or [::1]), not ${remote}`);
  }
  if (scenario === "drain-node") {
    if (!token) flags.fail("--scenario drain-node needs the admin token: --token … or ADMIN_TOKEN");
    if (adminUrls.length > 1) flags.fail("--scenario drain-node drains one node: give one --admin-url");
  }
  const sampleEveryS = flags.int("sample-every", 60, 1, 3600);
  if (v["sample-every"] !== undefined && scenario !== "soak") flags.fail("--sample-every applies to --scenario soak only");

  const thresholds = flags.all("threshold").map((t) => {
    try {
      return parseThreshold(t, scenario);
    } catch (err) {
      return flags.fail((err as Error).message);
    }
  });

  let agents: RunPlan["agents"];
  if (v.agents !== undefined) {
    const coordinator = v.coordinator;
    if (!coordinator || !REDIS_URL.test(coordinator)) flags.fail("--agents needs the Redis where the agents wait: --coordinator redis://…");
    if (v.workers !== undefined) flags.fail("with --agents, each agent runs its own bot processes: give --workers to the agents");
    if (v["raw-acks"] !== undefined) flags.fail("with --agents, the bots' latencies are measured on the agents: give --raw-acks to the agents");
    agents = { count: flags.int("agents", 1, 1, 100), coordinator: coordinator!, waitS: flags.int("agent-wait", 60, 1, 3600) };
  } else {
    for (const f of ["coordinator", "agent-wait"] as const) if (v[f] !== undefined) flags.fail(`--${f} applies with --agents only`);
  }
  const followRoom = flags.values["follow-room"] === true;
  let net: NetConditions | undefined;
  if (v.net !== undefined) {
    if (followRoom) flags.fail("--follow-room sends the bots' sockets around --net's proxy, straight to the nodes: drop one of them");
    if (new URL(url!).protocol === "https:") flags.fail("--net proxies plain TCP to the target, so a TLS target's certificate would not match the proxy's address: load an http:// or ws:// address with --net");
    try {
      net = parseNetConditions(v.net);
    } catch (err) {
      flags.fail(`--net: ${(err as Error).message}`);
    }
  }
  const workers = Math.min(peakBots, flags.int("workers", Math.max(1, cpus().length), 1, 32));

  for (const [dir, what] of [
    [v["raw-acks"], v["raw-acks"]],
    [v.json && dirname(v.json), v.json],
    [v.html && dirname(v.html), v.html],
  ]) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      flags.fail(`cannot write ${what}: ${(err as Error).message}`);
    }
  }

  return {
    url: url!,
    swarm: { url: url!, game: "arena", stages: stages!, fullBots, churnPerSecond, tickHz: flags.int("tick-hz", 30, 1, 120), followRoom, ...(net === undefined ? {} : { net }) },
    workers,
    scenario,
    cut,
    redis,
    adminUrls,
    token,
    sampleEveryS,
    thresholds,
    agents,
    rawAcksDir: v["raw-acks"],
    json: v.json,
    html: v.html,
  };
}

/** An http(s) address with no path or query, from any of http, https, ws, wss; undefined when it is not one. */
function httpAddress(text: string): string | undefined {
  try {
    const parsed = new URL(text.replace(/\/$/, ""));
    const protocol = { "http:": "http:", "https:": "https:", "ws:": "http:", "wss:": "https:" }[parsed.protocol];
    if (!protocol || parsed.pathname !== "/" || parsed.search || parsed.hash || parsed.username || parsed.password) return undefined;
    return `${protocol}//${parsed.host}`;
  } catch {
    return undefined;
  }
}
