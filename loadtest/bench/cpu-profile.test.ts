import { describe, expect, it } from "vitest";
import { profileShares } from "./cpu-profile.ts";

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

/** root → tick (room.ts) → record (journal.ts) → write (redis.js); root → (idle); root → flush (journal.ts). */
const profile = {
  nodes: [
    frame(1, "(root)", "", [2, 5, 6]),
    frame(2, "tick", "file:///srv/room.ts", [3]),
    frame(3, "record", "file:///srv/journal.ts", [4]),
    frame(4, "write", "file:///lib/redis.js"),
    frame(5, "(idle)", ""),
    frame(6, "flush", "file:///srv/journal.ts"),
  ],
  startTime: 0,
  endTime: 100,
  // One sample every 10 µs: tick, write (under record), idle, flush, tick, then idle to the end.
  samples: [2, 4, 5, 6, 2, 5, 5, 5, 5, 5],
  timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
};

describe("profileShares", () => {
  it("counts a group's frames with their callees, over busy samples only", () => {
    const { busySeconds, shares } = profileShares(profile, { journal: [{ file: "journal.ts" }], room: [{ file: "room.ts", fn: "tick" }] }, 100, 0);
    expect(busySeconds * 1e6).toBeCloseTo(40);
    expect(shares.journal).toBeCloseTo(2 / 4);
    expect(shares.room).toBeCloseTo(3 / 4);
  });

  it("reads only the window given before the profile's end", () => {
    // Samples at 10..30 µs from the start: tick, write, idle.
    const { shares } = profileShares(profile, { journal: [{ file: "journal.ts", fn: "record" }] }, 95, 65);
    expect(shares.journal).toBeCloseTo(1 / 2);
  });

  it("matches a function by name only in its own file", () => {
    const { shares } = profileShares(profile, { other: [{ file: "room.ts", fn: "record" }] }, 100, 0);
    expect(shares.other).toBe(0);
  });
});
