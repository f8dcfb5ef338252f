import { describe, expect, it } from "vitest";
import { TickClock } from "./tick-clock.ts";

const STEP = 1000 / 30;

describe("TickClock", () => {
  it("stamps ticks one step apart while the loop runs them late and then two at once", () => {
    const clock = new TickClock(STEP);
    // Node runs a 33.3 ms interval every 34 ms; the loop runs a second tick when a whole step has piled up.
    const stamps: number[] = [];
    let acc = 0;
    let doubles = 0;
    for (let t = 34; t < 34 * 120; t += 34) {
      acc += 34;
      let ran = 0;
      while (acc >= STEP) {
        acc -= STEP;
        const at = clock.next(t);
        expect(t - at).toBeLessThan(2 * STEP);
        stamps.push(at);
        ran++;
      }
      if (ran === 2) doubles++;
    }
    expect(doubles).toBeGreaterThan(0);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 1]!).toBeCloseTo(STEP, 6);
  });

  it("stamps a tick that runs early one step after the last, ahead of the room clock", () => {
    const clock = new TickClock(STEP);
    // The first tick ran a step late, so the loop ran the second in the same callback.
    expect(clock.next(1000)).toBe(1000);
    for (let i = 1; i < 60; i++) expect(clock.next(1000 + (i - 1) * STEP)).toBeCloseTo(1000 + i * STEP, 6);
  });

  it("rejoins the room clock after the loop dropped time", () => {
    const clock = new TickClock(STEP);
    clock.next(100);
    expect(clock.next(1000)).toBe(1000);
  });
});
