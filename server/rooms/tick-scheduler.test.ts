import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TickScheduler } from "./tick-scheduler.ts";

const PERIOD = 1000 / 30;

describe("TickScheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Adds loops that note when they ran (performance.now()). */
  const loops = (scheduler: TickScheduler, n: number) => {
    const runs = Array.from({ length: n }, () => [] as number[]);
    const stops = runs.map((r) => scheduler.add(() => r.push(performance.now())));
    return { runs, stops };
  };
  const phaseOf = (t: number) => ((t % PERIOD) + PERIOD) % PERIOD;

  it("spreads loops over the period, each once a period and never early", () => {
    const { runs } = loops(new TickScheduler(PERIOD), 4);
    vi.advanceTimersByTime(PERIOD * 30);
    const phases = runs.map((r) => phaseOf(r.at(-1)!));
    // Gaps of a quarter period, give or take the timers' whole milliseconds.
    const sorted = [...phases].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThan(PERIOD / 4 - 1.5);
    for (const r of runs) {
      expect(r.length).toBeGreaterThanOrEqual(29);
      expect(r.length).toBeLessThanOrEqual(31);
      for (let i = 1; i < r.length; i++) expect(r[i]! - r[i - 1]!).toBeGreaterThan(PERIOD - 1.5);
    }
  });

  it("runs late loops once after a stall, and each is back at its own phase for the next period", () => {
    const scheduler = new TickScheduler(PERIOD);
    const { runs } = loops(scheduler, 6);
    vi.advanceTimersByTime(PERIOD * 10);
    const before = runs.map((r) => phaseOf(r.at(-1)!));
    // The clock jumps three periods (a stall: nothing ran meanwhile).
    const stallUntil = performance.now() + 3 * PERIOD;
    const now = performance.now.bind(performance);
    vi.spyOn(performance, "now").mockImplementation(() => Math.max(now(), stallUntil));
    runs.forEach((r) => (r.length = 0));
    vi.advanceTimersByTime(PERIOD * 10);
    const apart = (a: number, b: number) => Math.min(Math.abs(a - b), PERIOD - Math.abs(a - b));
    for (const [i, r] of runs.entries()) {
      expect(r[0]).toBeGreaterThanOrEqual(stallUntil);
      for (const p of r.slice(1).map(phaseOf)) expect(apart(p, before[i]!)).toBeLessThan(1.5);
    }
  });

  it("stops a loop, and keeps no timer once none is left", () => {
    const scheduler = new TickScheduler(PERIOD);
    const { runs, stops } = loops(scheduler, 2);
    vi.advanceTimersByTime(PERIOD * 3);
    stops[0]!();
    const ran = runs[0]!.length;
    vi.advanceTimersByTime(PERIOD * 3);
    expect(runs[0]!.length).toBe(ran);
    stops[1]!();
    expect(vi.getTimerCount()).toBe(0);
  });
});
