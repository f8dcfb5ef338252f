/**
 * Metrics fed on every room tick, kept as plain numbers and handed to the registry only when it is
 * read. prom-client's own `observe` and `inc` check and hash their labels and allocate on every
 * call; a node runs a few thousand room ticks a second, so on the hot path a tick's report is a
 * bucket search and a few additions instead. What a scrape shows is what prom-client's Histogram
 * and Counter fed the same values show (tick-metrics.test.ts compares the two).
 */
import { Counter, type Metric, type Registry } from "prom-client";

interface MetricConfig {
  readonly name: string;
  readonly help: string;
  readonly registers: readonly Registry[];
}

/** One line of a scrape, as a prom-client metric's `get()` lists it. */
interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/** A Counter whose increments are summed here and added to it when the registry is read. */
export class TallyCounter {
  private pending = 0;

  constructor(config: MetricConfig) {
    const tally = this;
    new Counter({
      ...config,
      registers: [...config.registers],
      collect() {
        if (tally.pending === 0) return;
        this.inc(tally.pending);
        tally.pending = 0;
      },
    });
  }

  inc(value = 1): void {
    if (!(value >= 0 && Number.isFinite(value))) throw new TypeError(`a counter only goes up, by a finite amount; got ${value}`);
    this.pending += value;
  }
}

/** A Histogram without labels, in the registry as prom-client's own (its `get()` has the same shape). */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly upperBounds: readonly number[];
  /** Observations per bucket (le each upper bound, the last slot past them all), not cumulative. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(config: MetricConfig & { readonly buckets: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.upperBounds = [...config.buckets];
    this.counts = new Float64Array(this.upperBounds.length + 1);
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const bucket = `${this.name}_bucket`;
    const values: Sample[] = [];
    let cumulative = 0;
    this.upperBounds.forEach((le, i) => {
      cumulative += this.counts[i]!;
      values.push({ labels: { le }, value: cumulative, metricName: bucket });
    });
    values.push(
      { labels: { le: "+Inf" }, value: this.count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
