/**
 * `npm run loadtest -- --url http://127.0.0.1:2567 --bots 200 --duration 60`: a swarm of lean bots
 * against a node or a gateway, spread over worker processes so the bots do not saturate before the
 * server. Prints a progress line every second and a report at the end; `--json FILE` keeps it.
 * It only ever targets this machine (loopback addresses), and stops by itself.
 */
import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseFlags } from "../server/cli.ts";
import { LOOPBACK, type Recovery, recovery, strikeBusiestNode } from "./chaos.ts";
import { ms, percentile } from "./report.ts";
import type { SwarmSample, WorkerOrders } from "./swarm-protocol.ts";

const spec = {
  url: { type: "string", help: "the gateway or node to load, http://127.0.0.1:PORT (loopback only)" },
  bots: { type: "string", help: "bots to run (1 to 5000, default 50)" },
  duration: { type: "string", help: "seconds of full load after the ramp (1 to 3600, default 30)" },
  ramp: { type: "string", help: "seconds over which the bots join (0 to 600, default 5)" },
  workers: { type: "string", help: "bot processes (1 to 32, default: one per core)" },
  scenario: { type: "string", help: "steady (default), kill-node (SIGKILL the busiest node halfway) or drain-node (drain it halfway)" },
  redis: { type: "string", help: "the cluster's Redis, for kill-node and drain-node (default: $REDIS_URL)" },
  token: { type: "string", help: "the admin token, for drain-node (default: $ADMIN_TOKEN)" },
  json: { type: "string", help: "write the report as JSON to this file" },
} as const;
const WORKER = fileURLToPath(new URL("./swarm-worker.ts", import.meta.url));

export interface LoadReport {
  readonly url: string;
  readonly bots: number;
  readonly workers: number;
  readonly durationS: number;
  readonly connected: number;
  readonly failed: number;
  readonly dropped: number;
  readonly reconnected: number;
  readonly ackLatencyMs: { p50: number; p95: number; p99: number; max: number; samples: number };
  readonly stateUpdatesPerSecond: number;
  readonly bytesPerSecondPerBot: number;
  readonly longestGapMs: number;
  readonly lastError: string;
  readonly scenario: string;
  /** The chaos event, when the scenario has one. */
  readonly event: { readonly atS: number; readonly what: string } | undefined;
  /**
   * Chaos scenarios: per bot whose room moved (it reconnected), the longest time without state, i.e. its recovery.
   * State lost is not visible to lean bots, which do not decode state; failover-bench.ts measures it.
   */
  readonly recoveryMs: Recovery | undefined;
}

const program = "npm run loadtest --";
const flags = parseFlags(program, spec);
const url = typeof flags.values.url === "string" ? flags.values.url.replace(/\/$/, "") : flags.fail("--url is required");
let host: string;
try {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http");
  host = parsed.hostname;
} catch {
  flags.fail(`--url must be an http:// URL, got ${JSON.stringify(url)}`);
}
if (!LOOPBACK.test(host!)) flags.fail(`--url must point at this machine (localhost, 127.x.x.x or [::1]), not ${host!}`);
const SCENARIOS = ["steady", "kill-node", "drain-node"] as const;
const scenario = SCENARIOS.find((s) => s === (flags.values.scenario ?? "steady")) ?? flags.fail(`--scenario must be steady, kill-node or drain-node, got ${JSON.stringify(flags.values.scenario)}`);
const redisUrl = (flags.values.redis as string | undefined) ?? process.env.REDIS_URL;
const adminToken = (flags.values.token as string | undefined) ?? process.env.ADMIN_TOKEN;
if (scenario !== "steady" && !(redisUrl && /^rediss?:\/\/\S+$/.test(redisUrl))) flags.fail(`--scenario ${scenario} needs the cluster's Redis: --redis redis://… or REDIS_URL`);
if (scenario === "drain-node" && !adminToken) flags.fail("--scenario drain-node needs the admin token: --token … or ADMIN_TOKEN");
const botCount = flags.int("bots", 50, 1, 5000);
const durationS = flags.int("duration", 30, 1, 3600);
const rampS = flags.int("ramp", 5, 0, 600);
const workerCount = Math.min(botCount, flags.int("workers", Math.max(1, cpus().length), 1, 32));

// A clear answer for an address nobody listens on, before any bot tries.
const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) }).catch((err: Error) => err);
if (health instanceof Error || !health.ok) {
  process.stderr.write(`loadtest: ${url} does not answer /healthz (${health instanceof Error ? (health.cause as Error | undefined)?.message ?? health.message : health.status}); is a Locus node or gateway running there?\n`);
  process.exit(1);
}

const latest = new Map<number, SwarmSample>();
const reconnectedBotGaps: number[] = [];
const ackLatencies: number[] = [];
let stateFrames = 0;
let bytes = 0;
let longestGapMs = 0;
const workers = Array.from({ length: workerCount }, (_, worker) => {
  const orders: WorkerOrders = {
    worker,
    url,
    bots: Math.floor(botCount / workerCount) + (worker < botCount % workerCount ? 1 : 0),
    rampMs: rampS * 1000,
    durationMs: durationS * 1000,
    tickHz: 30,
  };
  const child = fork(WORKER, [], { env: { ...process.env, LOCUS_SWARM_ORDERS: JSON.stringify(orders) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.on("message", (s: SwarmSample) => {
    latest.set(worker, s);
    for (const l of s.ackLatencies) ackLatencies.push(l);
    stateFrames += s.stateFrames;
    bytes += s.bytes;
    longestGapMs = Math.max(longestGapMs, s.longestGapMs);
    if (s.reconnectedBotGaps) reconnectedBotGaps.push(...s.reconnectedBotGaps);
  });
  return child;
});

const total = (key: "connected" | "failed" | "dropped" | "reconnected") => [...latest.values()].reduce((n, s) => n + s[key], 0);
const startedAt = Date.now();
const endAt = startedAt + (rampS + durationS) * 1000;
let windowAcks = 0;
let windowFrames = 0;
const progress = setInterval(() => {
  const newAcks = ackLatencies.slice(windowAcks);
  windowAcks = ackLatencies.length;
  const frames = stateFrames - windowFrames;
  windowFrames = stateFrames;
  const left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
  process.stderr.write(
    `\r${total("connected")}/${botCount} bots connected, ${total("failed")} failed, ${frames} state updates/s, ack p99 ${ms(percentile(newAcks, 0.99))}, ${left} s left   `,
  );
}, 1000);

let event: LoadReport["event"];
if (scenario !== "steady") {
  const chaosAt = startedAt + (rampS + durationS / 2) * 1000;
  await new Promise((r) => setTimeout(r, chaosAt - Date.now()));
  event = await strikeBusiestNode(scenario, redisUrl!, adminToken).then(
    (what) => ({ atS: (Date.now() - startedAt) / 1000, what }),
    (err: Error) => ({ atS: (Date.now() - startedAt) / 1000, what: `failed: ${err.message}` }),
  );
  process.stderr.write(`\n${event.what} at ${event.atS.toFixed(1)} s\n`);
}
await new Promise((r) => setTimeout(r, endAt - Date.now()));
clearInterval(progress);
await Promise.all(
  workers.map(
    (w) =>
      new Promise<void>((resolve) => {
        w.once("exit", () => resolve());
        w.send("stop");
        setTimeout(() => w.kill("SIGKILL"), 5000).unref();
      }),
  ),
);
process.stderr.write("\n");

const seconds = Math.max(1, (Date.now() - startedAt) / 1000);
const report: LoadReport = {
  url,
  bots: botCount,
  workers: workerCount,
  durationS,
  connected: total("connected"),
  failed: total("failed"),
  dropped: total("dropped"),
  reconnected: total("reconnected"),
  ackLatencyMs: {
    p50: percentile(ackLatencies, 0.5),
    p95: percentile(ackLatencies, 0.95),
    p99: percentile(ackLatencies, 0.99),
    max: ackLatencies.length ? Math.max(...ackLatencies) : Number.NaN,
    samples: ackLatencies.length,
  },
  stateUpdatesPerSecond: stateFrames / seconds,
  bytesPerSecondPerBot: bytes / seconds / Math.max(1, total("connected")),
  longestGapMs,
  lastError: [...latest.values()].map((s) => s.lastError).find((e) => e) ?? "",
  scenario,
  event,
  recoveryMs: event ? recovery(reconnectedBotGaps) : undefined,
};
const rows = [
  ["bots connected / failed / dropped / reconnected", `${report.connected} / ${report.failed} / ${report.dropped} / ${report.reconnected}`],
  ["input-to-ack latency p50 / p95 / p99 / max", `${ms(report.ackLatencyMs.p50)} / ${ms(report.ackLatencyMs.p95)} / ${ms(report.ackLatencyMs.p99)} / ${ms(report.ackLatencyMs.max)} (${report.ackLatencyMs.samples} inputs)`],
  ["state updates per second (all bots)", report.stateUpdatesPerSecond.toFixed(0)],
  ["bytes per second per bot", report.bytesPerSecondPerBot.toFixed(0)],
  ["longest gap between two state updates of one bot", ms(report.longestGapMs)],
  ...(report.event ? [["event", `${report.event.what} at ${report.event.atS.toFixed(1)} s`]] : []),
  ...(report.recoveryMs
    ? [["recovery of the bots whose room moved (count, p50 / p99 / max)", `${report.recoveryMs.bots}, ${ms(report.recoveryMs.p50)} / ${ms(report.recoveryMs.p99)} / ${ms(report.recoveryMs.max)}`]]
    : []),
];
process.stdout.write(`| measure | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`);
if (report.lastError) process.stdout.write(`last join error: ${report.lastError}\n`);
if (typeof flags.values.json === "string") {
  mkdirSync(dirname(flags.values.json), { recursive: true });
  writeFileSync(flags.values.json, `${JSON.stringify(report, null, 2)}\n`);
}
process.exit(report.connected === 0 || report.event?.what.startsWith("failed") ? 1 : 0);
