/**
 * Just enough of the Prometheus text format to read a node's /metrics (on its operator listener) in benchmarks.
 */

/** The value of an unlabelled-by-us sample (the node label is ignored), or NaN when absent. */
export function sampleValue(text: string, name: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return Number.NaN;
}

export interface Buckets {
  readonly bounds: number[];
  readonly counts: number[];
}

/** Cumulative bucket counts of a histogram, `+Inf` last. */
export function histogramBuckets(text: string, name: string): Buckets {
  const bounds: number[] = [];
  const counts: number[] = [];
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`);
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (!m) continue;
    bounds.push(m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]));
    counts.push(Number(m[2]));
  }
  return { bounds, counts };
}

/** The difference of two cumulative histograms: what was observed between two scrapes. */
export function bucketDelta(after: Buckets, before: Buckets): Buckets {
  return { bounds: after.bounds, counts: after.counts.map((c, i) => c - (before.counts[i] ?? 0)) };
}

/** Quantile by linear interpolation inside the bucket, as PromQL's histogram_quantile does. */
export function bucketQuantile(b: Buckets, q: number): number {
  const total = b.counts[b.counts.length - 1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < b.counts.length; i++) {
    if (b.counts[i]! >= rank) {
      const lower = i === 0 ? 0 : b.bounds[i - 1]!;
      const upper = b.bounds[i]!;
      if (upper === Number.POSITIVE_INFINITY) return lower;
      const below = i === 0 ? 0 : b.counts[i - 1]!;
      const inBucket = b.counts[i]! - below;
      return lower + (upper - lower) * (inBucket === 0 ? 0 : (rank - below) / inBucket);
    }
  }
  return b.bounds[b.bounds.length - 2] ?? Number.NaN;
}
