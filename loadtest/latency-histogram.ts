/**
 * Latency histograms for the swarm: HDR histograms (3 significant digits, any range) kept in
 * microseconds, so a percentile is exact to 0.1 % however many samples a run takes and worker
 * processes can ship a second's worth to the parent as a few hundred bytes.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

export type { Histogram };

export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** A latency as the histograms record it: whole microseconds, at least one. */
export function toMicros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(toMicros(ms));
}

/** The q-quantile (0 to 1) in milliseconds, or null for an empty histogram. */
export function quantileMs(h: Histogram, q: number): number | null {
  return h.totalCount === 0 ? null : h.getValueAtPercentile(q * 100) / 1000;
}

export function maxMs(h: Histogram): number | null {
  return h.totalCount === 0 ? null : h.maxValue / 1000;
}

export function encode(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Adds an encoded histogram (from a worker) into `into`. */
export function addEncoded(into: Histogram, encoded: string): void {
  const h = decodeFromCompressedBase64(encoded);
  into.add(h);
  h.destroy();
}
