/**
 * Pass/fail thresholds on a run's figures, as k6 has them: `--threshold ack_p99<50ms` fails the
 * run (exit code 1) when the p99 input-to-ack latency was 50 ms or more. Every metric a threshold
 * may name is listed here with its unit and the scenarios that measure it, so a typo or a metric
 * the run will not measure is refused before the run starts.
 */
import type { LoadReport } from "./load-report.ts";

type Unit = "ms" | "count" | "number" | "percent";

interface Metric {
  readonly unit: Unit;
  /** The scenarios that measure it; every scenario when absent. */
  readonly scenarios?: readonly string[];
  readonly value: (r: LoadReport) => number | null;
}

const CHAOS = ["kill-node", "drain-node"];
const finite = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? null : v);

export const METRICS: Readonly<Record<string, Metric>> = {
  ack_p50: { unit: "ms", value: (r) => r.ackLatencyMs.p50 },
  ack_p95: { unit: "ms", value: (r) => r.ackLatencyMs.p95 },
  ack_p99: { unit: "ms", value: (r) => r.ackLatencyMs.p99 },
  ack_max: { unit: "ms", value: (r) => r.ackLatencyMs.max },
  connected: { unit: "count", value: (r) => r.connected },
  failed: { unit: "count", value: (r) => r.failed },
  dropped: { unit: "count", value: (r) => r.dropped },
  reconnected: { unit: "count", value: (r) => r.reconnected },
  churned: { unit: "count", value: (r) => r.churned },
  bytes_per_bot_per_s: { unit: "number", value: (r) => r.bytesPerSecondPerBot },
  state_updates_per_s: { unit: "number", value: (r) => r.stateUpdatesPerSecond },
  longest_gap: { unit: "ms", value: (r) => r.longestGapMs },
  saturated_s: { unit: "count", value: (r) => r.botSide.saturatedSeconds },
  recovery_p50: { unit: "ms", scenarios: CHAOS, value: (r) => finite(r.recoveryMs?.p50) },
  recovery_p99: { unit: "ms", scenarios: CHAOS, value: (r) => finite(r.recoveryMs?.p99) },
  recovery_max: { unit: "ms", scenarios: CHAOS, value: (r) => finite(r.recoveryMs?.max) },
  state_lost_max: { unit: "count", scenarios: CHAOS, value: (r) => r.stateLostTicks?.max ?? null },
  storm_back_p50: { unit: "ms", scenarios: ["reconnect-storm"], value: (r) => finite(r.storm?.p50) },
  storm_back_p99: { unit: "ms", scenarios: ["reconnect-storm"], value: (r) => finite(r.storm?.p99) },
  storm_back_max: { unit: "ms", scenarios: ["reconnect-storm"], value: (r) => finite(r.storm?.max) },
  storm_lost: { unit: "count", scenarios: ["reconnect-storm"], value: (r) => r.storm?.lost ?? null },
  memory_growth_pct: { unit: "percent", scenarios: ["soak"], value: (r) => r.soak?.memoryGrowthPct ?? null },
  ack_p99_drift_pct: { unit: "percent", scenarios: ["soak"], value: (r) => r.soak?.ackP99DriftPct ?? null },
};

const OPS = {
  "<": (a: number, b: number) => a < b,
  "<=": (a: number, b: number) => a <= b,
  ">": (a: number, b: number) => a > b,
  ">=": (a: number, b: number) => a >= b,
  "==": (a: number, b: number) => a === b,
  "!=": (a: number, b: number) => a !== b,
} as const;
type Op = keyof typeof OPS;

export interface Threshold {
  /** As the user wrote it. */
  readonly text: string;
  readonly metric: string;
  readonly op: Op;
  /** In the metric's own unit (milliseconds for times). */
  readonly limit: number;
}

export interface ThresholdResult {
  readonly threshold: string;
  readonly metric: string;
  /** The measured value in the metric's unit, or null when the run measured none (which fails). */
  readonly measured: number | null;
  readonly pass: boolean;
}

const SYNTAX = /^([a-z0-9_]+)\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?$/;

/** Parses one `--threshold`; throws a message fit for the user, naming what is wrong. */
export function parseThreshold(text: string, scenario: string): Threshold {
  const m = SYNTAX.exec(text.trim());
  if (!m) throw new Error(`--threshold takes METRIC OP VALUE, such as ack_p99<50ms or dropped==0 (OP one of < <= > >= == !=), got ${JSON.stringify(text)}`);
  const [, name, op, number, unit] = m as unknown as [string, string, Op, string, string | undefined];
  const metric = METRICS[name];
  if (!metric) throw new Error(`--threshold names an unknown metric ${JSON.stringify(name)}; known: ${Object.keys(METRICS).join(", ")}`);
  if (metric.scenarios && !metric.scenarios.includes(scenario)) {
    throw new Error(`--threshold ${name} is measured only in --scenario ${metric.scenarios.join(" or ")}, not ${scenario}`);
  }
  let limit = Number(number);
  if (metric.unit === "ms") {
    if (unit === "%") throw new Error(`--threshold ${name} is a time: give ms or s, got ${JSON.stringify(text)}`);
    if (unit === "s") limit *= 1000;
  } else if (unit === "ms" || unit === "s" || (unit === "%" && metric.unit !== "percent")) {
    throw new Error(`--threshold ${name} is ${metric.unit === "percent" ? "a percentage" : "a plain number"}; ${unit} does not apply, got ${JSON.stringify(text)}`);
  }
  return { text: text.trim(), metric: name, op, limit };
}

export function evaluate(thresholds: readonly Threshold[], report: LoadReport): ThresholdResult[] {
  return thresholds.map((t) => {
    const measured = METRICS[t.metric]!.value(report);
    return { threshold: t.text, metric: t.metric, measured, pass: measured !== null && OPS[t.op](measured, t.limit) };
  });
}

/** A measured value in its metric's unit, for the report. */
export function formatMeasured(metric: string, measured: number | null): string {
  if (measured === null) return "n/a (not measured)";
  const unit = METRICS[metric]?.unit;
  if (unit === "ms") return `${measured.toFixed(measured < 10 ? 2 : 0)} ms`;
  if (unit === "percent") return `${measured.toFixed(1)} %`;
  return Number.isInteger(measured) ? String(measured) : measured.toFixed(1);
}
