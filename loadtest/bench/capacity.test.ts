import { describe, expect, it } from "vitest";
import { climbKnee, COARSE, FINE } from "./capacity.ts";

/** A server that passes every step up to `knee` players, recording the steps asked for. */
function server(knee: number) {
  const asked: number[] = [];
  return { asked, passes: async (players: number) => (asked.push(players), players <= knee) };
}

describe("the capacity climb", () => {
  it("climbs the coarse steps to the first failure, then a tenth at a time from the last pass", async () => {
    const s = server(1100);
    const held = await climbKnee({ start: 20, ratio: COARSE, refine: true, maxPlayers: 1500 }, s.passes);
    expect(s.asked.slice(0, 5)).toEqual([20, 30, 40, 50, 60]);
    // 950 passes, 1190 fails; then 1050 passes and 1160 fails.
    expect(s.asked.slice(-4)).toEqual([950, 1190, 1050, 1160]);
    expect(held).toBe(1050);
  });

  it("climbs a tenth at a time from its start, and steps down when the start fails", async () => {
    const up = server(1000);
    expect(await climbKnee({ start: 800, ratio: FINE, refine: false, maxPlayers: 1500 }, up.passes)).toBe(970);
    expect(up.asked).toEqual([800, 880, 970, 1070]);
    const down = server(600);
    expect(await climbKnee({ start: 800, ratio: FINE, refine: false, maxPlayers: 1500 }, down.passes)).toBe(600);
    expect(down.asked).toEqual([800, 730, 660, 600]);
  });

  it("holds the largest step when nothing fails, and nothing when even 20 players fail", async () => {
    expect(await climbKnee({ start: 20, ratio: COARSE, refine: true, maxPlayers: 200 }, server(5000).passes)).toBe(200);
    expect(await climbKnee({ start: 40, ratio: FINE, refine: false, maxPlayers: 200 }, server(10).passes)).toBe(0);
  });
});
