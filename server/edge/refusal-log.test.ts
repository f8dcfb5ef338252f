import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type RefusalReason, RefusalLog } from "./refusal-log.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RefusalLog", () => {
  it("logs an offender once per interval and how many refusals followed, and counts every one", () => {
    vi.useFakeTimers();
    const { log, lines } = capture();
    const counted: RefusalReason[] = [];
    const refusals = new RefusalLog({ log, intervalMs: 10_000, maxOffenders: 100, counter: { inc: ({ reason }) => counted.push(reason) } });
    for (let i = 0; i < 500; i++) refusals.refused("joins_per_ip", "10.0.0.1", "too many joins");
    refusals.refused("joins_per_ip", "10.0.0.2", "too many joins");
    expect(lines.map((l) => [l.event, l.offender])).toEqual([
      ["edge_refused", "10.0.0.1"],
      ["edge_refused", "10.0.0.2"],
    ]);
    vi.advanceTimersByTime(10_000);
    expect(lines.slice(2).map((l) => [l.event, l.offender, l.count])).toEqual([["edge_refused_repeats", "10.0.0.1", 499]]);
    expect(counted).toHaveLength(501);
    // A new interval: the offender is logged again, once.
    refusals.refused("joins_per_ip", "10.0.0.1", "too many joins");
    expect(lines).toHaveLength(4);
    refusals.stop();
  });

  it("remembers a bounded number of offenders and sums the rest", () => {
    vi.useFakeTimers();
    const { log, lines } = capture();
    const refusals = new RefusalLog({ log, intervalMs: 1000, maxOffenders: 10 });
    for (let i = 0; i < 5000; i++) refusals.refused("unknown_room", `10.0.${i >> 8}.${i & 255}`, "no such room");
    expect(lines).toHaveLength(10);
    vi.advanceTimersByTime(1000);
    expect(lines.at(-1)).toMatchObject({ event: "edge_refused_repeats", offender: "others", count: 4990 });
    refusals.stop();
  });
});
