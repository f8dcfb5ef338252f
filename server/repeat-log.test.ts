import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OTHER_OFFENDERS, RepeatLog } from "./repeat-log.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const short = (l: Record<string, unknown>) => [l.event, l.reason, l.offender, l.count];

describe("RepeatLog", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("logs an offender's first occurrence at once and sums the rest once per window, while they last", () => {
    const { log, lines } = capture();
    const repeats = new RepeatLog({ log, windowMs: 10_000, maxOffenders: 100 });
    for (let i = 0; i < 500; i++) repeats.report({ event: "edge_refused", reason: "joins_per_ip", offender: "10.0.0.1" }, "refused 10.0.0.1");
    repeats.report({ event: "edge_refused", reason: "joins_per_ip", offender: "10.0.0.2" }, "refused 10.0.0.2");
    repeats.report({ event: "edge_refused", reason: "body_too_large", offender: "10.0.0.1" }, "refused 10.0.0.1");
    expect(lines.map(short)).toEqual([
      ["edge_refused", "joins_per_ip", "10.0.0.1", 1],
      ["edge_refused", "joins_per_ip", "10.0.0.2", 1],
      ["edge_refused", "body_too_large", "10.0.0.1", 1],
    ]);
    expect(lines[0]!.level).toBe(40);

    vi.advanceTimersByTime(10_000);
    expect(lines.slice(3)).toEqual([expect.objectContaining({ event: "edge_refused", offender: "10.0.0.1", count: 499, windowMs: 10_000 })]);
    // Still coming in the next window: summed again; a quiet window ends the episode.
    repeats.report({ event: "edge_refused", reason: "joins_per_ip", offender: "10.0.0.1" }, "refused 10.0.0.1");
    vi.advanceTimersByTime(30_000);
    expect(lines.slice(4).map(short)).toEqual([["edge_refused", "joins_per_ip", "10.0.0.1", 1]]);
    expect(lines[4]!.windowMs).toBe(10_000);
    repeats.report({ event: "edge_refused", reason: "joins_per_ip", offender: "10.0.0.1" }, "refused 10.0.0.1");
    expect(lines.slice(5).map(short)).toEqual([["edge_refused", "joins_per_ip", "10.0.0.1", 1]]);
    expect(lines[5]!.windowMs).toBeUndefined();
    // Summing count over the event's lines gives the exact total.
    const total = lines.filter((l) => l.reason === "joins_per_ip" && l.offender === "10.0.0.1").reduce((n, l) => n + (l.count as number), 0);
    expect(total).toBe(502);
  });

  it("tracks a bounded number of offenders and sums the others in one line", () => {
    const { log, lines } = capture();
    const repeats = new RepeatLog({ log, windowMs: 1000, maxOffenders: 10 });
    for (let i = 0; i < 5000; i++) repeats.report({ event: "edge_refused", reason: "unknown_room", offender: `10.0.${i >> 8}.${i & 255}` }, "no such room");
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatchObject({ offender: OTHER_OFFENDERS, count: 1 });
    vi.advanceTimersByTime(1000);
    expect(lines.slice(11)).toEqual([expect.objectContaining({ offender: OTHER_OFFENDERS, count: 4989 })]);
  });

  it("logs what its open windows summed when stopped", () => {
    const { log, lines } = capture();
    const repeats = new RepeatLog({ log });
    for (let i = 0; i < 3; i++) repeats.report({ event: "frame_refused", reason: "unknown_type", offender: "10.0.0.3" }, "closed");
    repeats.stop();
    expect(lines.map(short)).toEqual([
      ["frame_refused", "unknown_type", "10.0.0.3", 1],
      ["frame_refused", "unknown_type", "10.0.0.3", 2],
    ]);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
  });
});
