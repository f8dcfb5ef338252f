import { describe, expect, it } from "vitest";
import { encode, latencyHistogram, quantileMs, toMicros } from "./latency-histogram.ts";
import { SampleMerger } from "./sample-merger.ts";
import type { SwarmSample } from "./swarm-protocol.ts";

function sample(latenciesMs: readonly number[], extra: Partial<SwarmSample> = {}): SwarmSample {
  const h = latencyHistogram();
  for (const l of latenciesMs) h.recordValue(toMicros(l));
  return {
    connected: 1,
    leanConnected: 1,
    joined: 1,
    failed: 0,
    dropped: 0,
    droppedCodes: {},
    reconnected: 0,
    churned: 0,
    stormPending: 0,
    stateFrames: 30,
    bytes: 100,
    ackHistogram: h.totalCount ? encode(h) : "",
    longestGapMs: 40,
    lastError: "",
    cpuPercent: 10,
    loopDelayP99Ms: 1,
    ...extra,
  };
}

/** A skewed, wide spread of latencies, as a loaded server gives. */
function latencies(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 0.2 + (x / 2 ** 31) ** 4 * 3000;
  });
}

describe("SampleMerger", () => {
  it("merges three agents' windows into the exact percentiles of all their raw latencies together", () => {
    const agents = [latencies(5000, 1), latencies(20_000, 2), latencies(700, 3)];
    // Each agent is itself a merge of its workers, sent up as one sample a second.
    const agentSamples = agents.map((raw) => {
      const own = new SampleMerger();
      own.absorb(0, sample(raw.slice(0, raw.length / 2)));
      own.absorb(1, sample(raw.slice(raw.length / 2)));
      return own.takeSample();
    });
    const coordinator = new SampleMerger();
    agentSamples.forEach((s, i) => coordinator.absorb(i, s));
    const merged = coordinator.take().acks;

    const all = latencyHistogram();
    for (const l of agents.flat()) all.recordValue(toMicros(l));
    const sorted = agents.flat().map(toMicros).sort((a, b) => a - b);
    expect(merged.totalCount).toBe(sorted.length);
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      expect(quantileMs(merged, q)).toBe(quantileMs(all, q));
      // HDR keeps 3 significant digits: the raw nearest-rank percentile is within 0.1 %.
      const raw = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! / 1000;
      expect(Math.abs(quantileMs(merged, q)! - raw) / raw).toBeLessThan(0.001);
    }
  });

  it("sums each peer's latest gauges, adds windows until taken, and keeps the worst of a window", () => {
    const m = new SampleMerger();
    m.absorb(0, sample([10], { connected: 3, failed: 1 }));
    m.absorb(0, sample([20], { connected: 5, failed: 2, cpuPercent: 95 }));
    m.absorb(1, sample([], { connected: 4, lastError: "join refused", droppedCodes: { 4003: 1 }, storm: { backMs: [100, 200], lost: 1 } }));
    m.absorb(2, sample([], { droppedCodes: { 4003: 2, 1006: 1 } }));
    expect(m.total("connected")).toBe(10);
    expect(m.droppedCodes).toEqual({ 4003: 3, 1006: 1 });
    expect(m.total("failed")).toBe(2);
    expect(m.lastError).toBe("join refused");
    const w = m.take();
    expect(w.acks.totalCount).toBe(2);
    expect(w.stateFrames).toBe(120);
    expect(w.saturated).toBe(true);
    expect(w.storm).toEqual({ backMs: [100, 200], lost: 1 });
    const next = m.take();
    expect(next.acks.totalCount).toBe(0);
    expect(next.storm).toBeUndefined();
  });
});
