/**
 * The run command: a swarm of bots against a node or a gateway, here or anywhere, following the
 * run's stages (churning bots while they hold), on worker processes of this machine or on agents
 * elsewhere; a chaos scenario strikes once; a soak watches for drift. Prints a progress line every
 * second and a report at the end, with each threshold passed or failed; `--json FILE` and
 * `--html FILE` keep it. Exit code 0 when every threshold passes, 1 when any fails (or nothing
 * could be measured), 2 for bad flags.
 */
import { writeFileSync } from "node:fs";
import { adminAddress } from "../server/cluster/node-registry.ts";
import { redactUrl } from "../server/redact.ts";
import { type AgentCrew, recruitAgents } from "./agent-link.ts";
import { clusterNodes, residentMemoryMb } from "./admin-api.ts";
import { drainNode, killBusiestNode, recovery } from "./chaos.ts";
import { restartLocalGateway } from "./gateway-restart.ts";
import { renderHtmlReport } from "./html-report.ts";
import { maxMs, quantileMs } from "./latency-histogram.ts";
import { type LoadReport, reportRows } from "./load-report.ts";
import { describeNetConditions } from "./netem/conditions.ts";
import { markdownTable, ms, percentile } from "./report.ts";
import { readRunPlan } from "./run-plan.ts";
import { peak, peakReachedMs, strikeAtMs, targetAt, totalMs } from "./schedule.ts";
import { Soak, type SoakNode } from "./soak.ts";
import { Swarm } from "./swarm.ts";
import { STORM_SETTLE_MS, splitPlan } from "./swarm-protocol.ts";
import { evaluate, formatMeasured } from "./thresholds.ts";

/** An agent answers after asking its own workers (up to 800 ms), so its coordinator waits a little longer. */
const AGENT_WAITS = { sampleMs: 950, stopMs: 8000 };

const plan = readRunPlan("npm run loadtest --", process.argv.slice(2));
const { url, swarm: swarmPlan } = plan;
const stages = swarmPlan.stages;
const peakBots = peak(stages);
const runMs = totalMs(stages);

// A clear answer for an address nobody listens on, before any bot tries.
const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) }).catch((err: Error) => err);
if (health instanceof Error || !health.ok) {
  process.stderr.write(`loadtest: ${url} does not answer /healthz (${health instanceof Error ? (health.cause as Error | undefined)?.message ?? health.message : health.status}); is a Locus node or gateway running there?\n`);
  process.exit(1);
}

let crew: AgentCrew | undefined;
if (plan.agents) {
  const { count, coordinator, waitS } = plan.agents;
  try {
    crew = await recruitAgents(coordinator, count, waitS * 1000, swarmPlan, (have) => process.stderr.write(`\rwaiting for agents at ${redactUrl(coordinator)}: ${have} of ${count}   `));
  } catch (err) {
    process.stderr.write(`\nloadtest: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stderr.write(`\r${crew.agents.length} agents: ${crew.agents.map((a) => `${a.id} (${a.bots} bots)`).join(", ")}\n`);
}
const startedAt = new Date();
const runStart = performance.now();
const swarm = crew
  ? new Swarm(crew.peers, AGENT_WAITS)
  : Swarm.local(
      Array.from({ length: plan.workers }, (_, worker) => ({
        ...splitPlan(swarmPlan, plan.workers, worker),
        worker,
        startedAt: startedAt.getTime(),
        ...(plan.rawAcksDir === undefined ? {} : { rawAcksDir: plan.rawAcksDir }),
      })),
    );
const workerCount = crew ? crew.agents.reduce((n, a) => n + a.workers, 0) : plan.workers;
const elapsedMs = () => performance.now() - runStart;
const endAt = runStart + runMs;
let warned = false;
/** Set while the run, past its end, waits for a storm's cohort to be back. */
let settlingStorm = false;
let allRefused: (why: "refused") => void = () => undefined;
/** Resolves when every join so far was refused, as many as the peak: nothing is left to measure, and the report should say why now. */
const refused = new Promise<"refused">((resolve) => (allRefused = resolve));

const soak =
  plan.scenario === "soak"
    ? new Soak(plan.sampleEveryS, async (): Promise<SoakNode[]> => {
        if (plan.adminUrls.length > 0) return plan.adminUrls.map((a) => ({ name: a, memoryMb: () => residentMemoryMb(a, plan.token) }));
        return (await clusterNodes(plan.redis!)).map((n) => ({ name: n.nodeId, memoryMb: () => residentMemoryMb(adminAddress(n), plan.token) }));
      })
    : undefined;

let ticking: Promise<void> = Promise.resolve();
const progress = setInterval(() => (ticking = ticking.then(showProgress)), 1000);
let soaking: Promise<unknown> = Promise.resolve();
const soakTimer = soak && setInterval(() => (soaking = soaking.then(() => soak.sample(elapsedMs() / 1000))), plan.sampleEveryS * 1000);

async function showProgress(): Promise<void> {
  const p = await swarm.tick(Math.round(targetAt(stages, elapsedMs())), (w) => soak?.add(w.acks));
  if (swarm.total("joined") === 0 && swarm.total("failed") >= peakBots) allRefused("refused");
  const left = settlingStorm ? `waiting for ${swarm.total("stormPending")} bots still reconnecting after the storm` : `${Math.max(0, Math.round((endAt - performance.now()) / 1000))} s left`;
  const saturated = swarm.saturatedSeconds > 0 ? `, BOTS SATURATED ${swarm.saturatedSeconds} s` : "";
  process.stderr.write(
    `\r${p.connected}/${p.target} bots connected, ${swarm.total("failed")} failed, ${p.stateUpdates} state updates/s, ack p99 ${p.ackP99 === null ? "n/a" : ms(p.ackP99)}${saturated}, ${left}   `,
  );
  if (swarm.saturatedSeconds > 0 && !warned) {
    warned = true;
    process.stderr.write(`\nloadtest: a bot process is saturated (CPU ${swarm.maxWorkerCpuPercent.toFixed(0)} %, event-loop delay p99 ${ms(swarm.maxWorkerLoopDelayMs)}); latencies now include the bots' own delay: use more --workers, fewer bots, or another machine\n`);
  }
}

/** Waits, unless every join is refused first. */
const sleep = (msToWait: number) => Promise.race([new Promise<"slept">((r) => setTimeout(() => r("slept"), Math.max(0, msToWait))), refused]);

/** The scenario's one event: a node killed or drained, or every bot's socket cut. */
async function strike(): Promise<string> {
  if (plan.scenario === "kill-node") return killBusiestNode(plan.redis!);
  if (plan.scenario === "drain-node") return drainNode(plan.adminUrls[0] ? { adminUrl: plan.adminUrls[0] } : { redis: plan.redis! }, plan.token!);
  const cohort = swarm.total("leanConnected");
  if (plan.cut === "bots") {
    await swarm.startStorm(true);
    return `cut every bot's socket at once (${cohort} bots)`;
  }
  // The bots connected now are the cohort, each timed from its own socket's end.
  await swarm.startStorm(false);
  return `${await restartLocalGateway(Number(new URL(url).port || (url.startsWith("https:") ? 443 : 80)))} under ${cohort} bots`;
}

/**
 * A strike is meant for the run's peak: on a machine slow to seat them it waits for the bots, but
 * at most halfway to the end, so that there is time left to watch them recover.
 */
async function peakOrHalfwayToEnd(): Promise<"slept" | "refused"> {
  const until = (performance.now() + endAt) / 2;
  while (swarm.total("connected") < peakBots && performance.now() < until) if ((await sleep(100)) === "refused") return "refused";
  return "slept";
}

/**
 * Waits, past the run's end if need be, until every bot of the storm's cohort is back with state
 * or has given up, or until `deadline`: a storm cut late in a run is measured whole.
 */
async function stormSettled(deadline: number): Promise<void> {
  settlingStorm = true;
  while (swarm.total("stormPending") > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 250));
}

let event: LoadReport["event"];
let stormSettleBy: number | undefined;
if (
  ["kill-node", "drain-node", "reconnect-storm"].includes(plan.scenario) &&
  (await sleep(runStart + strikeAtMs(stages) - performance.now())) === "slept" &&
  (await peakOrHalfwayToEnd()) === "slept"
) {
  const atS = () => elapsedMs() / 1000;
  const struckAt = performance.now();
  const short = swarm.total("connected") < peakBots ? ` (only ${swarm.total("connected")} of ${peakBots} bots had joined)` : "";
  event = await strike().then(
    (what) => ({ atS: atS(), what: `${what}${short}` }),
    (err: Error) => ({ atS: atS(), what: `failed: ${err.message}` }),
  );
  process.stderr.write(`\n${event.what} at ${event.atS.toFixed(1)} s\n`);
  if (plan.scenario === "reconnect-storm" && !event.what.startsWith("failed")) stormSettleBy = struckAt + STORM_SETTLE_MS;
}
await sleep(endAt - performance.now());
if (stormSettleBy !== undefined) await stormSettled(stormSettleBy);
clearInterval(progress);
clearInterval(soakTimer);
await ticking;
await soaking;
await swarm.stop();
// The peers' last samples close the run's last, partial second.
await swarm.tick(Math.round(targetAt(stages, elapsedMs())));
crew?.close();
process.stderr.write("\n");

// Rates are averaged over the seconds at the peak, not the ramps or the stop; a run that never holds its peak averages every second with bots.
const peakFromS = peakReachedMs(stages) / 1000;
const atPeak = swarm.timeline.filter((p) => p.t > peakFromS + 1 && p.target === peakBots && p.connected > 0);
const rated = atPeak.length > 0 ? atPeak : swarm.timeline.filter((p) => p.connected > 0);
const meanOf = (pick: (p: (typeof rated)[number]) => number) => (rated.length ? rated.reduce((n, p) => n + pick(p), 0) / rated.length : 0);
const chaos = plan.scenario === "kill-node" || plan.scenario === "drain-node";
const stormBack = swarm.storm?.backMs ?? [];
const measured: LoadReport = {
  url,
  startedAt: startedAt.toISOString(),
  bots: peakBots,
  fullBots: swarmPlan.fullBots,
  workers: workerCount,
  agents: crew?.agents,
  durationS: runMs / 1000,
  stages,
  churnPerSecond: swarmPlan.churnPerSecond,
  followRoom: swarmPlan.followRoom,
  ...(swarmPlan.net === undefined ? {} : { network: describeNetConditions(swarmPlan.net) }),
  connected: swarm.total("connected"),
  joined: swarm.total("joined"),
  failed: swarm.total("failed"),
  dropped: swarm.total("dropped"),
  droppedCodes: swarm.droppedCodes,
  reconnected: swarm.total("reconnected"),
  churned: swarm.total("churned"),
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
  scenario: plan.scenario,
  event,
  recoveryMs: chaos && event ? recovery(swarm.reconnectedBotGaps) : undefined,
  stateLostTicks:
    chaos && event
      ? {
          moves: swarm.lostTicks.length,
          p50: swarm.lostTicks.length ? percentile(swarm.lostTicks, 0.5) : null,
          max: swarm.lostTicks.length ? Math.max(...swarm.lostTicks) : null,
        }
      : undefined,
  storm: swarm.storm ? { ...recovery(stormBack), cut: plan.cut, lost: swarm.storm.lost } : undefined,
  perBot: event ? { recoveryMs: swarm.reconnectedBotGaps, stateLostTicks: swarm.lostTicks, ...(swarm.storm ? { stormBackMs: stormBack } : {}) } : undefined,
  soak: soak?.report(peakFromS),
  botSide: { maxCpuPercent: swarm.maxWorkerCpuPercent, maxLoopDelayP99Ms: swarm.maxWorkerLoopDelayMs, saturatedSeconds: swarm.saturatedSeconds },
  thresholds: [],
  timeline: swarm.timeline,
};
const report: LoadReport = { ...measured, thresholds: evaluate(plan.thresholds, measured) };
const rows = reportRows(report);
process.stdout.write(`${markdownTable(["measure", "value"], rows)}\n`);
if (report.botSide.saturatedSeconds > 0) {
  process.stdout.write(`warning: the bot processes were saturated for ${report.botSide.saturatedSeconds} s; the latencies above include the bots' own delay\n`);
}
for (const w of report.soak?.warnings ?? []) process.stdout.write(`warning: soak: ${w}\n`);
for (const p of crew?.problems ?? []) process.stdout.write(`warning: agents: ${p}\n`);
if (report.lastError) process.stdout.write(`last join error: ${report.lastError}\n`);
if (report.joined === 0) process.stderr.write(`loadtest: no bot could join ${url}${report.lastError ? `: ${report.lastError}` : ""}\n`);
const failedThresholds = report.thresholds.filter((t) => !t.pass);
if (report.thresholds.length > 0) {
  process.stdout.write(
    failedThresholds.length === 0
      ? `thresholds: all ${report.thresholds.length} passed\n`
      : `thresholds: ${failedThresholds.length} of ${report.thresholds.length} FAILED: ${failedThresholds.map((t) => `${t.threshold} (measured ${formatMeasured(t.metric, t.measured)})`).join(", ")}\n`,
  );
}
if (plan.json) writeFileSync(plan.json, `${JSON.stringify(report, null, 2)}\n`);
if (plan.html) {
  const memory = new Map<string, [number, number][]>();
  for (const s of report.soak?.samples ?? []) for (const [node, mb] of Object.entries(s.memoryMb)) memory.set(node, [...(memory.get(node) ?? []), [s.atS, mb]]);
  writeFileSync(
    plan.html,
    renderHtmlReport({
      title: `Locus load test: ${plan.scenario}, ${peakBots} bots${crew ? ` on ${crew.agents.length} agents` : ""}`,
      subtitle: `${url}, started ${report.startedAt}, stages ${stages.map((s) => `${s.durationMs / 1000} s to ${s.target}`).join(", ")}${swarmPlan.churnPerSecond > 0 ? `, churn ${swarmPlan.churnPerSecond}/s` : ""}`,
      summary: rows,
      timeline: report.timeline,
      events: event ? [event] : [],
      memory: [...memory].map(([name, points]) => ({ name, points })),
    }),
  );
}
process.exit(report.joined === 0 || report.event?.what.startsWith("failed") || failedThresholds.length > 0 ? 1 : 0);
