import { describe, expect, it } from "vitest";
import { InputCadence } from "./input-cadence.ts";

const HZ = 30;

describe("InputCadence", () => {
  it("guesses a late input of a moving player and drops it unacknowledged when it comes", () => {
    const c = new InputCadence(HZ);
    expect(c.plan(0, false)).toBe("guess");
    expect(c.settle(2)).toBe(1);
    expect(c.settle(1)).toBe(0);
    expect(c.plan(1, false)).toBe("step");
  });

  it("waits for a still player's late input instead, owing nothing", () => {
    const c = new InputCadence(HZ);
    expect(c.plan(0, true)).toBe("wait");
    expect(c.settle(1)).toBe(0);
  });

  it("keeps a still player's queue at its depth: waits below it at once, gives a centred input back once it stayed above it", () => {
    const c = new InputCadence(HZ);
    // A new player's queue is set to two inputs waiting beside the one a tick takes.
    expect(c.plan(2, true)).toBe("wait");
    const window = Math.round(0.3 * HZ);
    const givenBack: boolean[] = [];
    for (let tick = 0; tick < window + 1; tick++) {
      expect(c.plan(5, true)).toBe("step");
      givenBack.push(c.giveBack(tick < window ? 4 : 3, true));
    }
    // Two to spare on every tick of the window: given back on its last tick and the next, not before.
    expect(givenBack.indexOf(true)).toBe(window - 1);
    expect(givenBack.filter(Boolean)).toHaveLength(2);
    expect(c.plan(3, true)).toBe("step");
    expect(c.giveBack(2, true)).toBe(false);
    // Never a pressed stick, never while moving: those would change what is run.
    expect(c.giveBack(3, false)).toBe(false);
    expect(c.plan(1, false)).toBe("step");
  });

  it("gives a still player's inputs beyond a burst back at once, and the last one over its depth only after the window", () => {
    const c = new InputCadence(HZ);
    // Depth two: five left is three over it, a burst.
    expect(c.plan(6, true)).toBe("step");
    expect(c.giveBack(5, true)).toBe(true);
    const window = Math.round(0.3 * HZ);
    const givenBack: boolean[] = [];
    for (let tick = 0; tick < window; tick++) {
      expect(c.plan(5, true)).toBe("step");
      givenBack.push(c.giveBack(4, true));
    }
    // Two over is no burst: the window counts the burst's tick at what it left once given back, two over too.
    expect(givenBack.indexOf(true)).toBe(window - 2);
  });

  it("leaves a still player's queue deep enough for the jitter it saw, so the leg that follows has no late input", () => {
    // Input k is sent at tick k and comes a tick and a half later, give or take up to 0.6 of a
    // tick, in order: the queue a tick finds swings by up to two inputs with the jitter alone.
    const jitter = [0, -0.6, 0.3, 0.1, -0.5, 0.6, 0, -0.3, 0.2, -0.1, 0.45, -0.6];
    const comesAt = (k: number) => k + 1.5 + jitter[k % jitter.length]!;
    let guessedWhileMoving = 0;
    // A rest long enough for the depth to settle at one, then a leg; the leg starts at every phase of the jitter.
    for (let restTicks = 180; restTicks < 180 + jitter.length; restTicks++) {
      const c = new InputCadence(HZ);
      let arrived = 0;
      let taken = 0;
      for (let tick = 0; tick < restTicks + 45; tick++) {
        while (comesAt(arrived) <= tick) arrived++;
        taken += c.settle(arrived - taken);
        const still = tick < restTicks;
        const feed = c.plan(arrived - taken, still);
        if (feed === "guess" && !still) guessedWhileMoving++;
        if (feed === "step" && c.giveBack(arrived - ++taken, still)) taken++;
      }
    }
    expect(guessedWhileMoving).toBe(0);
  });

  it("guesses through as many late ticks as its queue is deep plus one, then waits until its inputs come", () => {
    const c = new InputCadence(HZ);
    // A new player's queue is two deep.
    const feeds = Array.from({ length: 10 }, () => c.plan(0, false));
    expect(feeds.slice(0, 3)).toEqual(["guess", "guess", "guess"]);
    expect(feeds.slice(3).every((f) => f === "wait")).toBe(true);
    // They come: the first three settle the guesses (the waits owe nothing), and the rest are run.
    expect(c.settle(9)).toBe(3);
    expect(c.plan(6, false)).toBe("step");
    // A later late run is guessed afresh.
    expect(c.plan(0, false)).toBe("guess");
  });

  it("catches a moving player up after waiting for it, one tick back for each tick waited, never below its depth", () => {
    const c = new InputCadence(HZ);
    // Depth two: three ticks guessed, then three waited while a held chunk keeps the inputs back.
    const feeds = Array.from({ length: 6 }, () => c.plan(0, false));
    expect(feeds).toEqual(["guess", "guess", "guess", "wait", "wait", "wait"]);
    // The chunk comes with the six inputs sent meanwhile and two more: three settle the guesses.
    expect(c.settle(8)).toBe(3);
    const caughtUp: boolean[] = [];
    let queued = 5;
    for (let tick = 0; tick < 6; tick++) {
      expect(c.plan(queued, false)).toBe("step");
      const again = c.catchUp(queued - 1);
      caughtUp.push(again);
      // One input comes a tick; the tick takes one, or two when it catches up.
      queued += 1 - 1 - (again ? 1 : 0);
    }
    // Two ticks find more than the depth left (4, then 3): caught up. The third waited tick is not,
    // as the queue is down to its depth; it is given back at the next rest.
    expect(caughtUp).toEqual([true, true, false, false, false, false]);
    expect(queued).toBe(3);
  });

  it("catches up only for ticks waited through an outage: also one at rest whose burst the next leg starts with, never a deep queue alone", () => {
    const deep = new InputCadence(HZ);
    for (let tick = 0; tick < 10; tick++) {
      expect(deep.plan(6, false)).toBe("step");
      expect(deep.catchUp(5)).toBe(false);
    }
    const outageAtRest = () => {
      const c = new InputCadence(HZ);
      // A still player is waited for at once; the ticks past depth plus one (three) are the outage's.
      for (let tick = 0; tick < 6; tick++) expect(c.plan(0, true)).toBe("wait");
      return c;
    };
    const leg = outageAtRest();
    expect(leg.plan(7, false)).toBe("step");
    expect([leg.catchUp(6), leg.catchUp(5), leg.catchUp(4), leg.catchUp(3)]).toEqual([true, true, true, false]);
    // A rest that finds the queue back at its depth owes the leg nothing.
    const rested = outageAtRest();
    expect(rested.plan(3, true)).toBe("step");
    expect(rested.plan(7, false)).toBe("step");
    expect(rested.catchUp(6)).toBe(false);
  });

  it("waits within four ticks for a client whose inputs come a tick after their guesses, and is on time again", () => {
    const c = new InputCadence(HZ);
    const feeds: string[] = [];
    for (let tick = 0; tick < 6; tick++) {
      const queued = tick === 0 ? 0 : 1;
      feeds.push(c.plan(queued - c.settle(queued), false));
    }
    expect(feeds).toEqual(["guess", "guess", "guess", "wait", "step", "step"]);
  });

  it("deepens after a window with inputs late now and then (three times), and not for an outage", () => {
    const window = 2 * HZ;
    const run = (lateAt: (tick: number) => boolean) => {
      const c = new InputCadence(HZ);
      for (let tick = 0; tick < window; tick++) c.plan(lateAt(tick) ? 0 : 1, true);
      // A still player's queue of three waits only while the depth is above two.
      return c.plan(3, true);
    };
    expect(run(() => false)).toBe("step");
    expect(run((t) => t === 10 || t === 30)).toBe("step");
    expect(run((t) => t === 10 || t === 30 || t === 50)).toBe("wait");
    expect(run((t) => t >= 10 && t < 20)).toBe("step");
  });

  it("gets shallower after clean windows, down to one input waiting", () => {
    const c = new InputCadence(HZ);
    expect(c.plan(2, true)).toBe("wait");
    for (let tick = 0; tick < 3 * 2 * HZ; tick++) c.plan(5, false);
    expect(c.plan(2, true)).toBe("step");
    for (let tick = 0; tick < 30 * 2 * HZ; tick++) c.plan(5, false);
    expect(c.plan(2, true)).toBe("step");
    expect(c.plan(1, true)).toBe("wait");
  });

  it("drops what lies beyond the longest queue", () => {
    const c = new InputCadence(HZ);
    expect(c.overflow(18)).toBe(0);
    expect(c.overflow(21)).toBe(3);
  });
});
