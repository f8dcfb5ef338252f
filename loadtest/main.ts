/**
 * `npm run loadtest -- --url http://127.0.0.1:2567 --bots 200 --duration 60`: a swarm of bots
 * against a node or a gateway, spread over worker processes so the bots do not saturate before the
 * server (and saying so when they do). Most bots are lean (the same wire traffic, no state
 * decoding); a few run the full client library and measure what a moved room lost. Prints a
 * progress line every second and a report at the end; `--json FILE` and `--html FILE` keep it.
 * It only ever targets this machine (loopback addresses), and stops by itself.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { parseFlags } from "../server/cli.ts";
import { redactUrl } from "../server/redact.ts";
import { LOOPBACK, recovery, strikeBusiestNode } from "./chaos.ts";
import { renderHtmlReport } from "./html-report.ts";
import { maxMs, quantileMs } from "./latency-histogram.ts";
import { type LoadReport, reportRows } from "./load-report.ts";
import { markdownTable, ms, percentile } from "./report.ts";
import { Swarm } from "./swarm.ts";

const spec = {
  url: { type: "string", help: "the gateway or node to load, http://127.0.0.1:PORT (loopback only)" },
  bots: { type: "string", help: "bots to run (1 to 5000, default 50)" },
  "full-bots": { type: "string", help: "how many of them run the full client library (0 to 200, default 5 % of --bots, at least 1)" },
  duration: { type: "string", help: "seconds of full load after the ramp (1 to 3600, default 30)" },
  ramp: { type: "string", help: "seconds over which the bots join (0 to 600, default 5)" },
  workers: { type: "string", help: "bot processes (1 to 32, default: one per core)" },
  scenario: { type: "string", help: "steady (default), kill-node (SIGKILL the busiest node halfway) or drain-node (drain it halfway)" },
  redis: { type: "string", help: "the cluster's Redis, for kill-node and drain-node (default: $REDIS_URL)" },
  token: { type: "string", help: "the admin token, for drain-node (default: $ADMIN_TOKEN)" },
  json: { type: "string", help: "write the report as JSON to this file" },
  html: { type: "string", help: "write the report with plots over time as one self-contained HTML file" },
} as const;

export type { LoadReport } from "./load-report.ts";

const program = "npm run loadtest --";
const flags = parseFlags(program, spec);
const url = typeof flags.values.url === "string" ? flags.values.url.replace(/\/$/, "") : flags.fail("--url is required");
let host: string;
try {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http");
  if (parsed.pathname !== "/" || parsed.search || parsed.hash) throw new Error("not a bare address");
  host = parsed.hostname;
} catch {
  flags.fail(`--url must be an http:// URL with no path or query, got ${JSON.stringify(url)}`);
}
if (!LOOPBACK.test(host!)) flags.fail(`--url must point at this machine (localhost, 127.x.x.x or [::1]), not ${host!}`);
const SCENARIOS = ["steady", "kill-node", "drain-node"] as const;
const scenario = SCENARIOS.find((s) => s === (flags.values.scenario ?? "steady")) ?? flags.fail(`--scenario must be steady, kill-node or drain-node, got ${JSON.stringify(flags.values.scenario)}`);
const redisUrl = (flags.values.redis as string | undefined) ?? process.env.REDIS_URL;
const adminToken = (flags.values.token as string | undefined) ?? process.env.ADMIN_TOKEN;
if (scenario !== "steady" && !(redisUrl && /^rediss?:\/\/\S+$/.test(redisUrl))) flags.fail(`--scenario ${scenario} needs the cluster's Redis: --redis redis://… or REDIS_URL`);
if (scenario !== "steady") {
  let redisHost = "";
  try {
    redisHost = new URL(redisUrl!).hostname;
  } catch {
    flags.fail(`--redis must be a redis:// URL, got ${redactUrl(JSON.stringify(redisUrl))}`);
  }
  if (!LOOPBACK.test(redisHost)) flags.fail(`--redis must point at this machine (localhost, 127.x.x.x or [::1]), not ${redisHost}`);
}
if (scenario === "drain-node" && !adminToken) flags.fail("--scenario drain-node needs the admin token: --token … or ADMIN_TOKEN");
const botCount = flags.int("bots", 50, 1, 5000);
const fullBots = flags.int("full-bots", Math.max(1, Math.round(botCount * 0.05)), 0, 200);
if (fullBots > botCount) flags.fail(`--full-bots (${fullBots}) cannot exceed --bots (${botCount})`);
const durationS = flags.int("duration", 30, 1, 3600);
const rampS = flags.int("ramp", 5, 0, 600);
const workerCount = Math.min(botCount, flags.int("workers", Math.max(1, cpus().length), 1, 32));
const outputs = (["json", "html"] as const).map((k) => flags.values[k]).filter((f): f is string => typeof f === "string");
for (const file of outputs) {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    flags.fail(`cannot write ${file}: ${(err as Error).message}`);
  }
}

// A clear answer for an address nobody listens on, before any bot tries.
const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) }).catch((err: Error) => err);
if (health instanceof Error || !health.ok) {
  process.stderr.write(`loadtest: ${url} does not answer /healthz (${health instanceof Error ? (health.cause as Error | undefined)?.message ?? health.message : health.status}); is a Locus node or gateway running there?\n`);
  process.exit(1);
}

const startedAt = new Date();
const swarm = new Swarm({ url, bots: botCount - fullBots, fullBots, workers: workerCount, rampMs: rampS * 1000, durationMs: durationS * 1000 });
const endAt = Date.now() + (rampS + durationS) * 1000;
let warned = false;
let allRefused: (why: "refused") => void = () => undefined;
/** Resolves when every bot's join was refused: nothing is left to measure, and the report should say why now. */
const refused = new Promise<"refused">((resolve) => (allRefused = resolve));
let ticking: Promise<void> = Promise.resolve();
const progress = setInterval(() => (ticking = ticking.then(showProgress)), 1000);

async function showProgress(): Promise<void> {
  const p = await swarm.tick();
  if (swarm.total("failed") >= botCount) allRefused("refused");
  const left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
  const saturated = swarm.saturatedSeconds > 0 ? `, BOTS SATURATED ${swarm.saturatedSeconds} s` : "";
  process.stderr.write(
    `\r${p.connected}/${botCount} bots connected, ${swarm.total("failed")} failed, ${p.stateUpdates} state updates/s, ack p99 ${p.ackP99 === null ? "n/a" : ms(p.ackP99)}${saturated}, ${left} s left   `,
  );
  if (swarm.saturatedSeconds > 0 && !warned) {
    warned = true;
    process.stderr.write(`\nloadtest: a bot process is saturated (CPU ${swarm.maxWorkerCpuPercent.toFixed(0)} %, event-loop delay p99 ${ms(swarm.maxWorkerLoopDelayMs)}); latencies now include the bots' own delay: use more --workers, fewer --bots, or another machine\n`);
  }
}

/** Waits, unless every join is refused first. */
const sleep = (msToWait: number) => Promise.race([new Promise<"slept">((r) => setTimeout(() => r("slept"), msToWait)), refused]);
let event: LoadReport["event"];
if (scenario !== "steady" && (await sleep((rampS + durationS / 2) * 1000)) === "slept") {
  const atS = () => (Date.now() - startedAt.getTime()) / 1000;
  event = await strikeBusiestNode(scenario, redisUrl!, adminToken).then(
    (what) => ({ atS: atS(), what }),
    (err: Error) => ({ atS: atS(), what: `failed: ${err.message}` }),
  );
  process.stderr.write(`\n${event.what} at ${event.atS.toFixed(1)} s\n`);
}
await sleep(endAt - Date.now());
clearInterval(progress);
await ticking;
await swarm.stop();
// The workers' last samples close the run's last, partial second.
await swarm.tick();
process.stderr.write("\n");

// Rates are averaged over the full-load seconds, not the ramp or the stop.
const fullLoad = swarm.timeline.filter((p) => p.t > rampS + 1 && p.connected > 0);
const rated = fullLoad.length > 0 ? fullLoad : swarm.timeline.filter((p) => p.connected > 0);
const meanOf = (pick: (p: (typeof rated)[number]) => number) => (rated.length ? rated.reduce((n, p) => n + pick(p), 0) / rated.length : 0);
const report: LoadReport = {
  url,
  startedAt: startedAt.toISOString(),
  bots: botCount,
  fullBots,
  workers: workerCount,
  durationS,
  connected: swarm.total("connected"),
  failed: swarm.total("failed"),
  dropped: swarm.total("dropped"),
  reconnected: swarm.total("reconnected"),
  ackLatencyMs: {
    p50: quantileMs(swarm.acks, 0.5),
    p95: quantileMs(swarm.acks, 0.95),
    p99: quantileMs(swarm.acks, 0.99),
    max: maxMs(swarm.acks),
    samples: swarm.acks.totalCount,
  },
  stateUpdatesPerSecond: meanOf((p) => p.stateUpdates),
  bytesPerSecondPerBot: meanOf((p) => p.bytesPerBot),
  longestGapMs: swarm.longestGapMs,
  lastError: swarm.lastError,
  scenario,
  event,
  recoveryMs: event ? recovery(swarm.reconnectedBotGaps) : undefined,
  stateLostTicks: event
    ? {
        moves: swarm.lostTicks.length,
        p50: swarm.lostTicks.length ? percentile(swarm.lostTicks, 0.5) : null,
        max: swarm.lostTicks.length ? Math.max(...swarm.lostTicks) : null,
      }
    : undefined,
  perBot: event ? { recoveryMs: swarm.reconnectedBotGaps, stateLostTicks: swarm.lostTicks } : undefined,
  botSide: { maxCpuPercent: swarm.maxWorkerCpuPercent, maxLoopDelayP99Ms: swarm.maxWorkerLoopDelayMs, saturatedSeconds: swarm.saturatedSeconds },
  timeline: swarm.timeline,
};
const rows = reportRows(report);
process.stdout.write(`${markdownTable(["measure", "value"], rows)}\n`);
if (report.botSide.saturatedSeconds > 0) {
  process.stdout.write(`warning: the bot processes were saturated for ${report.botSide.saturatedSeconds} s; the latencies above include the bots' own delay\n`);
}
if (report.lastError) process.stdout.write(`last join error: ${report.lastError}\n`);
if (report.connected === 0) process.stderr.write(`loadtest: no bot could join ${url}${report.lastError ? `: ${report.lastError}` : ""}\n`);
if (typeof flags.values.json === "string") writeFileSync(flags.values.json, `${JSON.stringify(report, null, 2)}\n`);
if (typeof flags.values.html === "string") {
  writeFileSync(
    flags.values.html,
    renderHtmlReport({
      title: `Locus load test: ${scenario}, ${botCount} bots`,
      subtitle: `${url}, started ${report.startedAt}, ${rampS} s ramp + ${durationS} s`,
      summary: rows,
      timeline: report.timeline,
      events: event ? [event] : [],
    }),
  );
}
process.exit(report.connected === 0 || report.event?.what.startsWith("failed") ? 1 : 0);
