/**
 * Network conditions the proxy imposes, and their one-line text form (`rtt=100,jitter=20,loss=1%`)
 * that the load tester's `--net` flag and the feel benchmark's labels use.
 */

export interface NetConditions {
  /** Mean round trip the proxy adds, in milliseconds: each direction delays by half of it. */
  readonly rttMs: number;
  /** The round trip's jitter, in milliseconds: each direction's delay is normal with half of it as its standard deviation. */
  readonly jitterMs: number;
  /** Fraction of chunks (0 to 1) that are lost once and so arrive LOSS_HOLD_MS late, as a TCP retransmission would. */
  readonly loss: number;
}

/** A lost chunk's extra delay: TCP's minimum retransmission timeout on Linux. */
export const LOSS_HOLD_MS = 200;

export const NO_DELAY: NetConditions = { rttMs: 0, jitterMs: 0, loss: 0 };

const MAX_MS = 10_000;

/** Parses `rtt=100,jitter=20,loss=1%` (any subset, in any order; milliseconds may say `ms`, loss must say `%`). */
export function parseNetConditions(text: string): NetConditions {
  const values: Record<string, number> = { rtt: 0, jitter: 0, loss: 0 };
  const seen = new Set<string>();
  for (const part of text.split(",")) {
    const m = /^\s*(rtt|jitter|loss)\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*(%|ms)?\s*$/.exec(part);
    if (!m) throw new Error(`network conditions are rtt=MS,jitter=MS,loss=PERCENT%, got ${JSON.stringify(part)}`);
    const [, key, number, unit] = m as unknown as [string, string, string, string | undefined];
    if (seen.has(key)) throw new Error(`${key} is given twice in ${JSON.stringify(text)}`);
    seen.add(key);
    if (key === "loss" && unit !== "%") throw new Error(`loss is a percentage like loss=1%, got ${JSON.stringify(part)}`);
    if (key !== "loss" && unit === "%") throw new Error(`${key} is in milliseconds, got ${JSON.stringify(part)}`);
    values[key] = key === "loss" ? Number(number) / 100 : Number(number);
  }
  return checkNetConditions({ rttMs: values.rtt!, jitterMs: values.jitter!, loss: values.loss! });
}

/** Throws a message naming the bad field; returns the conditions unchanged when they hold. */
export function checkNetConditions(c: NetConditions): NetConditions {
  if (!(c.rttMs >= 0 && c.rttMs <= MAX_MS)) throw new Error(`rtt must be 0 to ${MAX_MS} ms, got ${c.rttMs}`);
  if (!(c.jitterMs >= 0 && c.jitterMs <= MAX_MS)) throw new Error(`jitter must be 0 to ${MAX_MS} ms, got ${c.jitterMs}`);
  if (!(c.loss >= 0 && c.loss <= 1)) throw new Error(`loss must be 0 to 100 %, got ${c.loss * 100} %`);
  return c;
}

/** `100 ms ± 20, 1 % held`, or `no delay`: the form the benchmark's tables use. */
export function describeNetConditions(c: NetConditions): string {
  if (c.rttMs === 0 && c.jitterMs === 0 && c.loss === 0) return "no delay";
  const parts = [`${c.rttMs} ms${c.jitterMs > 0 ? ` ± ${c.jitterMs}` : ""}`];
  if (c.loss > 0) parts.push(`${+(c.loss * 100).toFixed(3)} % held`);
  return parts.join(", ");
}
