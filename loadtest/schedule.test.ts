import { describe, expect, it } from "vitest";
import { holdingAt, parseStages, peak, peakReachedMs, rampThenHold, share, shareStages, strikeAtMs, targetAt, totalMs } from "./schedule.ts";

describe("stages", () => {
  const stages = parseStages("30s:100,60s:100,10s:500,30s:0");

  it("parse durations in ms, s, m and h", () => {
    expect(stages).toEqual([
      { durationMs: 30_000, target: 100 },
      { durationMs: 60_000, target: 100 },
      { durationMs: 10_000, target: 500 },
      { durationMs: 30_000, target: 0 },
    ]);
    expect(parseStages("500ms:1, 1.5m:2,2h:3").map((s) => s.durationMs)).toEqual([500, 90_000, 7_200_000]);
  });

  it("refuse what is not a list of DURATION:TARGET, and runs that ask for nobody or last over a day", () => {
    expect(() => parseStages("30:100")).toThrow(/DURATION:TARGET/);
    expect(() => parseStages("30s:100,")).toThrow(/got ""/);
    expect(() => parseStages("10s:5001")).toThrow(/0 to 5000 bots/);
    expect(() => parseStages("10s:0")).toThrow(/at least one bot/);
    expect(() => parseStages("0s:10")).toThrow(/longer than 0 s/);
    expect(() => parseStages("25h:10")).toThrow(/at most 24 h/);
  });

  it("ramp linearly from each target to the next and hold the last one after the end", () => {
    expect(targetAt(stages, 0)).toBe(0);
    expect(targetAt(stages, 15_000)).toBe(50);
    expect(targetAt(stages, 60_000)).toBe(100);
    expect(targetAt(stages, 95_000)).toBe(300);
    expect(targetAt(stages, 100_000)).toBe(500);
    expect(targetAt(stages, 115_000)).toBe(250);
    expect(targetAt(stages, 999_000)).toBe(0);
    expect(targetAt(rampThenHold(10, 0, 5000), 0)).toBe(10);
  });

  it("hold steady only where a stage keeps its target above zero", () => {
    expect(holdingAt(stages, 10_000)).toBe(false);
    expect(holdingAt(stages, 40_000)).toBe(true);
    expect(holdingAt(stages, 95_000)).toBe(false);
    expect(holdingAt(stages, 999_000)).toBe(false);
  });

  it("strike halfway through the longest hold at the peak, or when the peak is first reached", () => {
    expect(strikeAtMs(rampThenHold(50, 5000, 30_000))).toBe(20_000);
    expect(strikeAtMs(rampThenHold(50, 0, 10_000))).toBe(5000);
    expect(strikeAtMs(stages)).toBe(100_000);
    expect(peakReachedMs(stages)).toBe(100_000);
    expect(peak(stages)).toBe(500);
    expect(totalMs(stages)).toBe(130_000);
  });

  it("share out so that the parts add up to the whole at every stage", () => {
    for (const n of [1, 2, 3, 7]) {
      const parts = Array.from({ length: n }, (_, i) => shareStages(stages, n, i));
      stages.forEach((s, k) => expect(parts.reduce((sum, p) => sum + p[k]!.target, 0)).toBe(s.target));
      expect(Array.from({ length: n }, (_, i) => share(10, n, i)).reduce((a, b) => a + b, 0)).toBe(10);
    }
  });
});
