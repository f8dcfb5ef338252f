import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { TallyCounter, TallyHistogram } from "./tick-metrics.ts";

const BUCKETS = [0.00005, 0.0001, 0.001, 0.0333, 0.1];
const VALUES = [0, 0.00005, 0.00007, 0.0005, 0.001, 0.02, 0.0333, 0.05, 0.1, 0.25, 3];

/** Two registries with the node's default label, one holding the tallies, the other prom-client's own metrics. */
function registries(): [Registry, Registry] {
  const tallied = new Registry();
  const plain = new Registry();
  for (const r of [tallied, plain]) r.setDefaultLabels({ node: "n1" });
  return [tallied, plain];
}

describe("tick metrics", () => {
  it("scrape as prom-client's Histogram and Counter fed the same values, scrape after scrape", async () => {
    const [tallied, plain] = registries();
    const config = (registry: Registry) => ({ name: "t_seconds", help: "Tick time.", buckets: BUCKETS, registers: [registry] });
    const histogram = new TallyHistogram(config(tallied));
    const reference = new Histogram(config(plain));
    const counterConfig = (registry: Registry) => ({ name: "t_bytes_total", help: "Bytes.", registers: [registry] });
    const counter = new TallyCounter(counterConfig(tallied));
    const referenceCounter = new Counter(counterConfig(plain));
    expect(await tallied.metrics()).toBe(await plain.metrics());
    for (const round of [VALUES, VALUES.slice(3)]) {
      for (const v of round) {
        histogram.observe(v);
        reference.observe(v);
        counter.inc(v * 1000);
        referenceCounter.inc(v * 1000);
      }
      counter.inc();
      referenceCounter.inc();
      expect(await tallied.metrics()).toBe(await plain.metrics());
    }
  });

  it("refuse what prom-client refuses", () => {
    const [tallied] = registries();
    const histogram = new TallyHistogram({ name: "h", help: "h", buckets: BUCKETS, registers: [tallied] });
    const counter = new TallyCounter({ name: "c", help: "c", registers: [tallied] });
    expect(() => histogram.observe(Number.NaN)).toThrow(TypeError);
    expect(() => counter.inc(-1)).toThrow(TypeError);
    expect(() => counter.inc(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
