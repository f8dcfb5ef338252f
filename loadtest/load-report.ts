/**
 * The load test's report: what `npm run loadtest` prints at the end, keeps as JSON, and plots as
 * HTML.
 */
import type { Recovery } from "./chaos.ts";
import { ms } from "./report.ts";
import type { Stage } from "./schedule.ts";
import type { SoakReport } from "./soak.ts";
import { formatMeasured, type ThresholdResult } from "./thresholds.ts";
import type { TimelineEvent, TimelinePoint } from "./timeline.ts";

export interface StormReport extends Recovery {
  /** How the sockets were cut: by the bots themselves, or by restarting the gateway. */
  readonly cut: "bots" | "gateway";
  /** Bots of the storm's cohort that never had state again. */
  readonly lost: number;
}

export interface AgentSummary {
  readonly id: string;
  readonly host: string;
  readonly workers: number;
  /** Its share of the run's peak. */
  readonly bots: number;
}

export interface LoadReport {
  readonly url: string;
  readonly startedAt: string;
  /** The run's peak target. */
  readonly bots: number;
  /** Of `bots` at the peak, how many ran the full client library (they decode state; the rest are lean). */
  readonly fullBots: number;
  /** Bot processes, over every agent. */
  readonly workers: number;
  /** The generator machines of a distributed run; absent when the bots ran here. */
  readonly agents: readonly AgentSummary[] | undefined;
  /** The whole run, every stage, in seconds. */
  readonly durationS: number;
  readonly stages: readonly Stage[];
  /** Bots per second replaced while a stage held steady. */
  readonly churnPerSecond: number;
  /** The bots' sockets went straight to their rooms' nodes where the gateway named them (`--follow-room`). */
  readonly followRoom: boolean;
  /** The distant network the bots played through (`--net`), as the feel benchmark describes it; absent for a direct run. */
  readonly network?: string;
  readonly connected: number;
  readonly joined: number;
  readonly failed: number;
  readonly dropped: number;
  /** The dropped bots by the close code that ended them. */
  readonly droppedCodes: Readonly<Record<string, number>>;
  readonly reconnected: number;
  readonly churned: number;
  /** From the lean bots, which read each ack from the patch header; an HDR histogram's percentiles. */
  readonly ackLatencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null; samples: number };
  readonly stateUpdatesPerSecond: number;
  readonly bytesPerSecondPerBot: number;
  readonly longestGapMs: number;
  readonly lastError: string;
  readonly scenario: string;
  /** The chaos event, when the scenario has one. */
  readonly event: TimelineEvent | undefined;
  /** Chaos scenarios: per bot whose room moved (it reconnected), the longest time without state, i.e. its recovery. */
  readonly recoveryMs: Recovery | undefined;
  /** Chaos scenarios: per move of a full bot's room, the ticks of history the room lost (0 on a drain). */
  readonly stateLostTicks: { moves: number; p50: number | null; max: number | null } | undefined;
  /** A reconnect storm: per bot of its cohort, the time from its socket's cut to state again; and the bots lost. */
  readonly storm: StormReport | undefined;
  /** Chaos scenarios and storms: the raw figures behind the summaries above. */
  readonly perBot: { readonly recoveryMs: readonly number[]; readonly stateLostTicks: readonly number[]; readonly stormBackMs?: readonly number[] } | undefined;
  readonly soak: SoakReport | undefined;
  /** How hard the bot processes themselves worked: if they saturate, the latencies are partly theirs. */
  readonly botSide: { maxCpuPercent: number; maxLoopDelayP99Ms: number; saturatedSeconds: number };
  readonly thresholds: readonly ThresholdResult[];
  readonly timeline: readonly TimelinePoint[];
}

const opt = (v: number | null) => (v === null ? "n/a" : ms(v));
type Row = [string, string];

/** The report as rows of (measure, value), for the terminal's Markdown table and the HTML page. */
export function reportRows(r: LoadReport): Row[] {
  const a = r.ackLatencyMs;
  const rows: Row[] = [
    ["bots at peak (lean + full) / workers", `${r.bots - r.fullBots} + ${r.fullBots} / ${r.workers}${r.agents ? ` on ${r.agents.length} agents` : ""}`],
    ["bots connected / failed / dropped / reconnected", `${r.connected} / ${r.failed} / ${r.dropped} / ${r.reconnected}`],
  ];
  if (r.network !== undefined) rows.push(["network the bots played through", r.network]);
  if (r.followRoom) rows.push(["bots' sockets", "straight to their rooms' nodes where the gateway named them (--follow-room)"]);
  if (r.churnPerSecond > 0) rows.push(["bots churned (left and replaced)", `${r.churned} (${r.churnPerSecond}/s while holding)`]);
  if (r.dropped > 0) rows.push(["dropped bots by close code", Object.entries(r.droppedCodes).map(([code, n]) => `${code} × ${n}`).join(", ")]);
  rows.push(
    ["input-to-ack latency p50 / p95 / p99 / max", `${opt(a.p50)} / ${opt(a.p95)} / ${opt(a.p99)} / ${opt(a.max)} (${a.samples} inputs)`],
    ["state updates per second (lean bots)", r.stateUpdatesPerSecond.toFixed(0)],
    ["bytes per second per bot", r.bytesPerSecondPerBot.toFixed(0)],
    ["longest gap between two state updates of one bot", ms(r.longestGapMs)],
  );
  if (r.event) rows.push(["event", `${r.event.what} at ${r.event.atS.toFixed(1)} s`]);
  if (r.recoveryMs) rows.push(["recovery of the bots whose room moved (count, p50 / p99 / max)", `${r.recoveryMs.bots}, ${ms(r.recoveryMs.p50)} / ${ms(r.recoveryMs.p99)} / ${ms(r.recoveryMs.max)}`]);
  if (r.stateLostTicks) {
    rows.push(["state lost per moved full bot (moves, p50 / max)", r.stateLostTicks.moves === 0 ? "0 (no full bot's room moved)" : `${r.stateLostTicks.moves}, ${r.stateLostTicks.p50} / ${r.stateLostTicks.max} ticks`]);
  }
  if (r.storm) {
    rows.push(
      [`reconnect storm (sockets cut by the ${r.storm.cut}): bots back / lost`, `${r.storm.bots} / ${r.storm.lost}`],
      ["time to state again after the cut p50 / p99 / max", `${ms(r.storm.p50)} / ${ms(r.storm.p99)} / ${ms(r.storm.max)}`],
    );
  }
  if (r.soak) {
    const growth = r.soak.memoryGrowthPct === null ? "n/a" : `${r.soak.memoryGrowthPct.toFixed(1)} %`;
    const drift = r.soak.ackP99DriftPct === null ? "n/a" : `${r.soak.ackP99DriftPct.toFixed(1)} %`;
    rows.push([`soak (${r.soak.samples.length} periods of ${r.soak.everyS} s): node memory growth / ack p99 drift`, `${growth} / ${drift}`]);
  }
  rows.push(["bot processes: busiest CPU / worst event-loop delay p99", `${r.botSide.maxCpuPercent.toFixed(0)} % / ${ms(r.botSide.maxLoopDelayP99Ms)}`]);
  for (const t of r.thresholds) rows.push([`threshold ${t.threshold}`, `${t.pass ? "pass" : "FAIL"}: ${formatMeasured(t.metric, t.measured)}`]);
  return rows;
}
