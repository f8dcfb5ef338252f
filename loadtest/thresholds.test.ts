import { describe, expect, it } from "vitest";
import type { LoadReport } from "./load-report.ts";
import { evaluate, formatMeasured, parseThreshold } from "./thresholds.ts";

const report = {
  ackLatencyMs: { p50: 20, p95: 40, p99: 49.9, max: 80, samples: 1000 },
  dropped: 0,
  bytesPerSecondPerBot: 7999,
  recoveryMs: { bots: 4, p50: 300, p99: 2100, max: 2100 },
} as unknown as LoadReport;

describe("thresholds", () => {
  it("read times in ms or s, counts and rates as plain numbers", () => {
    expect(parseThreshold("ack_p99<50ms", "steady")).toEqual({ text: "ack_p99<50ms", metric: "ack_p99", op: "<", limit: 50 });
    expect(parseThreshold("recovery_p99 < 2s", "kill-node")).toMatchObject({ op: "<", limit: 2000 });
    expect(parseThreshold("ack_max<=120", "steady")).toMatchObject({ op: "<=", limit: 120 });
    expect(parseThreshold("dropped==0", "steady")).toMatchObject({ op: "==", limit: 0 });
    expect(parseThreshold("memory_growth_pct<20%", "soak")).toMatchObject({ limit: 20 });
  });

  it("refuse an unknown metric, a metric the scenario does not measure, and a unit that does not fit", () => {
    expect(() => parseThreshold("p99<50ms", "steady")).toThrow(/unknown metric "p99"/);
    expect(() => parseThreshold("storm_lost==0", "steady")).toThrow(/only in --scenario reconnect-storm/);
    expect(() => parseThreshold("ack_p99<50%", "steady")).toThrow(/is a time/);
    expect(() => parseThreshold("bytes_per_bot_per_s<8s", "steady")).toThrow(/plain number/);
    expect(() => parseThreshold("ack_p99~50", "steady")).toThrow(/METRIC OP VALUE/);
  });

  it("pass or fail against the report, and fail a metric that was not measured", () => {
    const results = evaluate(
      [
        parseThreshold("ack_p99<50ms", "kill-node"),
        parseThreshold("dropped==0", "kill-node"),
        parseThreshold("bytes_per_bot_per_s<8000", "kill-node"),
        parseThreshold("recovery_p99<2s", "kill-node"),
        parseThreshold("state_lost_max<=1", "kill-node"),
      ],
      report,
    );
    expect(results.map((r) => [r.threshold, r.pass])).toEqual([
      ["ack_p99<50ms", true],
      ["dropped==0", true],
      ["bytes_per_bot_per_s<8000", true],
      ["recovery_p99<2s", false],
      ["state_lost_max<=1", false],
    ]);
    expect(results[3]!.measured).toBe(2100);
    expect(results[4]!.measured).toBeNull();
    expect(formatMeasured("recovery_p99", 2100)).toBe("2100 ms");
    expect(formatMeasured("state_lost_max", null)).toBe("n/a (not measured)");
  });
});
