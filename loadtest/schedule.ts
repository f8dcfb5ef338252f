/**
 * How many bots a run wants connected over time: stages, each ramping linearly from the previous
 * stage's target to its own over its duration (`--stages 30s:100,60s:100,10s:500,30s:0`, as k6
 * reads them), and the shares of it that agents and worker processes carry.
 */

export interface Stage {
  readonly durationMs: number;
  /** Bots connected at the end of the stage. */
  readonly target: number;
}

export const MAX_BOTS = 5000;
const MAX_STAGES = 100;
/** Runs end by themselves; a day is longer than any soak needs. */
export const MAX_RUN_MS = 24 * 3600 * 1000;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const STAGE = /^(\d+(?:\.\d+)?)(ms|s|m|h):(\d+)$/;

/** Parses `30s:100,1m:100,10s:0`; throws a message fit for the user on anything else. */
export function parseStages(text: string): Stage[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > MAX_STAGES) throw new Error(`--stages takes at most ${MAX_STAGES} stages, got ${parts.length}`);
  const stages = parts.map((part) => {
    const m = STAGE.exec(part);
    if (!m) throw new Error(`--stages takes DURATION:TARGET pairs such as 30s:100 (units ms, s, m, h), got ${JSON.stringify(part)}`);
    const durationMs = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
    const target = Number(m[3]);
    if (target > MAX_BOTS) throw new Error(`a stage's target must be 0 to ${MAX_BOTS} bots, got ${target} in ${JSON.stringify(part)}`);
    return { durationMs, target };
  });
  if (totalMs(stages) === 0) throw new Error("--stages must last longer than 0 s in all");
  if (totalMs(stages) > MAX_RUN_MS) throw new Error(`--stages may last at most ${MAX_RUN_MS / 3_600_000} h in all`);
  if (peak(stages) === 0) throw new Error("--stages must ask for at least one bot");
  return stages;
}

/** The classic shape: join `bots` over `rampMs`, then hold them for `holdMs`. */
export function rampThenHold(bots: number, rampMs: number, holdMs: number): Stage[] {
  return [
    { durationMs: rampMs, target: bots },
    { durationMs: holdMs, target: bots },
  ];
}

export function totalMs(stages: readonly Stage[]): number {
  return stages.reduce((n, s) => n + s.durationMs, 0);
}

export function peak(stages: readonly Stage[]): number {
  return Math.max(0, ...stages.map((s) => s.target));
}

/** The target `atMs` into the run, fractional while ramping; the last target once the stages are over. */
export function targetAt(stages: readonly Stage[], atMs: number): number {
  let from = 0;
  let start = 0;
  for (const s of stages) {
    if (atMs < start + s.durationMs) return from + ((s.target - from) * (atMs - start)) / s.durationMs;
    start += s.durationMs;
    from = s.target;
  }
  return from;
}

/** True while the stage at `atMs` holds its target steady (above zero): when churn runs. */
export function holdingAt(stages: readonly Stage[], atMs: number): boolean {
  let from = 0;
  let start = 0;
  for (const s of stages) {
    if (atMs < start + s.durationMs) return s.target === from && s.target > 0;
    start += s.durationMs;
    from = s.target;
  }
  return false;
}

/** When the run first reaches its peak. */
export function peakReachedMs(stages: readonly Stage[]): number {
  const top = peak(stages);
  let end = 0;
  for (const s of stages) {
    end += s.durationMs;
    if (s.target === top) return end;
  }
  return end;
}

/**
 * When a scenario strikes: halfway through the longest stage that holds the peak, so the most bots
 * are there to see it and half the stage is left to watch them recover; failing such a stage, the
 * moment the peak is first reached.
 */
export function strikeAtMs(stages: readonly Stage[]): number {
  const top = peak(stages);
  let from = 0;
  let start = 0;
  let best: { at: number; length: number } | undefined;
  for (const s of stages) {
    if (from === top && s.target === top && s.durationMs > (best?.length ?? -1)) best = { at: start + s.durationMs / 2, length: s.durationMs };
    start += s.durationMs;
    from = s.target;
  }
  return best?.at ?? peakReachedMs(stages);
}

/** Part `i` of `n` of a whole number: the parts differ by at most one and add up to `total`. */
export function share(total: number, n: number, i: number): number {
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

/** Part `i` of `n` of every stage's target. */
export function shareStages(stages: readonly Stage[], n: number, i: number): Stage[] {
  return stages.map((s) => ({ durationMs: s.durationMs, target: share(s.target, n, i) }));
}
