/**
 * What the benchmarks share for their reports: percentiles, millisecond formatting, and writing
 * the Markdown both to its file and to the terminal.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The q-quantile (0 to 1) of a plain list of samples, nearest rank. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

export function writeReport(path: string, markdown: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, markdown);
  process.stdout.write(markdown);
}
