/**
 * What the benchmarks share for their reports: percentiles of plain sample lists, millisecond
 * formatting and Markdown tables.
 */

/** The q-quantile (0 to 1) of a plain list of samples, nearest rank. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Milliseconds for a report; an empty measurement (NaN, ±Infinity from an empty list) reads n/a. */
export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : "n/a";
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}
