/**
 * The load test's report: what `npm run loadtest` prints at the end, keeps as JSON, and plots as
 * HTML.
 */
import type { Recovery } from "./chaos.ts";
import { ms } from "./report.ts";
import type { TimelineEvent, TimelinePoint } from "./timeline.ts";

export interface LoadReport {
  readonly url: string;
  readonly startedAt: string;
  readonly bots: number;
  /** Of `bots`, how many ran the full client library (they decode state; the rest are lean). */
  readonly fullBots: number;
  readonly workers: number;
  readonly durationS: number;
  readonly connected: number;
  readonly failed: number;
  readonly dropped: number;
  readonly reconnected: number;
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
  /** Chaos scenarios: the raw figures behind the two above, one per moved bot and one per move. */
  readonly perBot: { readonly recoveryMs: readonly number[]; readonly stateLostTicks: readonly number[] } | undefined;
  /** How hard the bot processes themselves worked: if they saturate, the latencies are partly theirs. */
  readonly botSide: { maxCpuPercent: number; maxLoopDelayP99Ms: number; saturatedSeconds: number };
  readonly timeline: readonly TimelinePoint[];
}

const opt = (v: number | null) => (v === null ? "n/a" : ms(v));

/** The report as rows of (measure, value), for the terminal's Markdown table and the HTML page. */
export function reportRows(r: LoadReport): [string, string][] {
  const a = r.ackLatencyMs;
  return [
    ["bots (lean + full) / workers", `${r.bots - r.fullBots} + ${r.fullBots} / ${r.workers}`],
    ["bots connected / failed / dropped / reconnected", `${r.connected} / ${r.failed} / ${r.dropped} / ${r.reconnected}`],
    ["input-to-ack latency p50 / p95 / p99 / max", `${opt(a.p50)} / ${opt(a.p95)} / ${opt(a.p99)} / ${opt(a.max)} (${a.samples} inputs)`],
    ["state updates per second (lean bots)", r.stateUpdatesPerSecond.toFixed(0)],
    ["bytes per second per bot", r.bytesPerSecondPerBot.toFixed(0)],
    ["longest gap between two state updates of one bot", ms(r.longestGapMs)],
    ...(r.event ? ([["event", `${r.event.what} at ${r.event.atS.toFixed(1)} s`]] as [string, string][]) : []),
    ...(r.recoveryMs
      ? ([["recovery of the bots whose room moved (count, p50 / p99 / max)", `${r.recoveryMs.bots}, ${ms(r.recoveryMs.p50)} / ${ms(r.recoveryMs.p99)} / ${ms(r.recoveryMs.max)}`]] as [string, string][])
      : []),
    ...(r.stateLostTicks
      ? ([["state lost per moved full bot (moves, p50 / max)", r.stateLostTicks.moves === 0 ? "0 (no full bot's room moved)" : `${r.stateLostTicks.moves}, ${r.stateLostTicks.p50} / ${r.stateLostTicks.max} ticks`]] as [string, string][])
      : []),
    ["bot processes: busiest CPU / worst event-loop delay p99", `${r.botSide.maxCpuPercent.toFixed(0)} % / ${ms(r.botSide.maxLoopDelayP99Ms)}`],
  ];
}
