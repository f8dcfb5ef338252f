import { describe, expect, it } from "vitest";
import { Admission, BURST_SECONDS, FrameBudget, WARN_TO_CLOSE_MS } from "./frame-budget.ts";

const RATE = 130;

/** Feeds `budget` one frame at each time in `times` (ms); returns the admissions in order. */
function feed(budget: FrameBudget, times: Iterable<number>): Admission[] {
  const out: Admission[] = [];
  for (const t of times) out.push(budget.admit(t));
  return out;
}

/** `perSecond` frames a second from `fromMs` for `seconds`, each a little early or late. */
function* steady(perSecond: number, fromMs: number, seconds: number, jitterMs = 0): Generator<number> {
  let seed = 1;
  for (let i = 0; i < perSecond * seconds; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    const jitter = (((seed >>> 16) & 0xffff) / 0xffff - 0.5) * 2 * jitterMs;
    yield Math.max(fromMs, fromMs + (i * 1000) / perSecond + jitter);
  }
}

describe("FrameBudget", () => {
  it("never drops a frame of an honest client: an input per tick, a ping a second, with jitter", () => {
    const budget = new FrameBudget(RATE, 0);
    const times = [...steady(30, 0, 120, 40), ...steady(1, 0, 120)].sort((a, b) => a - b);
    expect(feed(budget, times).every((a) => a === Admission.ACCEPT)).toBe(true);
  });

  it("takes the backlog of a stall in one burst: the stall paid for it", () => {
    const budget = new FrameBudget(RATE, 0);
    const before = feed(budget, steady(30, 0, 5));
    // The node froze from 5 s to 8 s while the client kept sending: 90 inputs arrive at 8 s at once.
    const burst = feed(budget, Array.from({ length: 90 }, () => 8000));
    const after = feed(budget, steady(30, 8000, 5));
    expect([...before, ...burst, ...after].every((a) => a === Admission.ACCEPT)).toBe(true);
  });

  it("takes the backlog of a stall as long as the credit it can save up, at the tick rate's worst case", () => {
    const budget = new FrameBudget(4 * 120 + 10, 0);
    const backlog = 120 * BURST_SECONDS;
    expect(feed(budget, Array.from({ length: backlog }, () => BURST_SECONDS * 1000)).every((a) => a === Admission.ACCEPT)).toBe(true);
  });

  it("warns a flood as fast as the socket goes at its first dropped frame, and closes it a second's budget later", () => {
    const budget = new FrameBudget(RATE, 0);
    const start = 60_000;
    let warnedAt = -1;
    let closedAt = -1;
    let frames = 0;
    for (let t = start; closedAt < 0 && t < start + 5000; t += 0.001) {
      frames++;
      const admission = budget.admit(t);
      if (admission === Admission.WARN && warnedAt < 0) warnedAt = t;
      if (admission === Admission.CLOSE) closedAt = t;
    }
    expect(warnedAt).toBeGreaterThanOrEqual(start);
    expect(closedAt).toBeGreaterThan(warnedAt);
    // The credit a minute's silence saved up (BURST_SECONDS' worth), then a second's budget dropped: no more.
    expect(frames).toBeLessThanOrEqual(RATE * BURST_SECONDS + RATE + 2);
  });

  it("gives a sender a little over budget the second after its warning, then closes it", () => {
    const budget = new FrameBudget(RATE, 0);
    const admissions = feed(budget, steady(RATE * 1.5, 0, 6));
    const warned = admissions.indexOf(Admission.WARN) / (RATE * 1.5);
    const closed = admissions.indexOf(Admission.CLOSE) / (RATE * 1.5);
    expect(warned).toBeGreaterThan(0);
    expect(closed - warned).toBeGreaterThanOrEqual(WARN_TO_CLOSE_MS / 1000 - 0.01);
    expect(closed - warned).toBeLessThan(WARN_TO_CLOSE_MS / 1000 + 0.05);
  });

  it("cannot save up a flood by sending within budget first: a long-connected client's flood is closed within 2 s too", () => {
    const budget = new FrameBudget(RATE, 0);
    expect(feed(budget, steady(30, 0, 60)).every((a) => a === Admission.ACCEPT)).toBe(true);
    const admissions = feed(budget, steady(RATE * 3, 60_000, 3));
    const closedAfter = admissions.indexOf(Admission.CLOSE) / (RATE * 3);
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeLessThan(2);
  });

  it("closes a sender only a little over budget too, once it stays over for a second", () => {
    const budget = new FrameBudget(RATE, 0);
    const admissions = feed(budget, steady(RATE * 1.2, 0, 30));
    expect(admissions).toContain(Admission.WARN);
    expect(admissions).toContain(Admission.CLOSE);
  });

  it("warns afresh, rather than closes, a sender that went back within budget for a while", () => {
    const budget = new FrameBudget(RATE, 0);
    // At 1 s it holds a second's worth of credit: the second second's worth is dropped.
    const first = feed(budget, Array.from({ length: RATE * 2 }, () => 1000));
    expect(first.filter((a) => a === Admission.WARN)).toHaveLength(1);
    expect(first).not.toContain(Admission.CLOSE);
    const calm = feed(budget, steady(30, 1100, 3));
    expect(calm.every((a) => a === Admission.ACCEPT)).toBe(true);
    const second = feed(budget, Array.from({ length: RATE * 2 }, () => 4100));
    expect(second).toContain(Admission.WARN);
    expect(second).not.toContain(Admission.CLOSE);
  });

  it("lets through no more than the rate over time, plus what it could save up", () => {
    const budget = new FrameBudget(RATE, 0);
    let accepted = 0;
    // Pulses: a second's flood (cut short before the close), then two seconds of silence, for a minute.
    for (let pulse = 0; pulse < 20; pulse++) {
      for (let t = pulse * 3000; t < pulse * 3000 + 900; t += 0.5) if (budget.admit(t) === Admission.ACCEPT) accepted++;
    }
    expect(accepted).toBeLessThanOrEqual(RATE * 60 + RATE);
    expect(budget.dropped).toBeGreaterThan(accepted);
  });
});
