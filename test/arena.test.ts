import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinArena } from "../client/lib/node.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startNodeProcess();
});

afterAll(async () => {
  await node?.stop();
});

describe("arena over real sockets", () => {
  it("two clients join, one moves right, the other sees it, both leave", async () => {
    const ada = await joinArena({ url: node.url, name: "Ada" });
    const bob = await joinArena({ url: node.url, name: "Bob" });
    expect(bob.room.roomId).toBe(ada.room.roomId);
    await waitFor(() => bob.state?.players?.size === 2 && ada.state?.players?.size === 2, 5000, () => "both players in both states");

    const seenByBob = () => bob.state.players.get(ada.sessionId)!;
    const startX = seenByBob().x;
    ada.stick.x = 1;
    ada.run();
    await waitFor(() => seenByBob().x > startX + 50 || seenByBob().x >= 1600 - 18 - 1, 5000, () => `Ada moving right in Bob's state (from ${startX}, now ${seenByBob().x})`);
    expect(seenByBob().name).toBe("Ada");
    expect(ada.tickHz).toBe(30);

    await ada.leave();
    await waitFor(() => bob.state.players.size === 1, 5000, () => "Ada gone from Bob's state");
    await bob.leave();
  });
});

describe("a late loop", () => {
  it("sends a catch-up's steps in one patch, the last step's state", async () => {
    const ada = await joinArena({ url: node.url, name: "Ada" });
    try {
      await waitFor(() => ada.state?.tick > 0, 5000, () => "Ada's first patch");
      const ticks: number[] = [];
      ada.room.onStateChange((state) => ticks.push(state.tick));
      await waitFor(() => ticks.length >= 5, 5000, () => "patches before the stall");
      // Frozen for ten ticks, the node's loop wakes late and Colyseus runs several steps in one callback.
      node.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 330));
      node.child.kill("SIGCONT");
      await waitFor(() => ticks.length >= 15, 5000, () => "patches after the stall");
      const advances = ticks.slice(1).map((tick, i) => tick - ticks[i]!);
      // Each patch carries ticks no patch carried before; a catch-up's come in one, not one patch per step.
      expect(advances.every((d) => d >= 1)).toBe(true);
      expect(Math.max(...advances), `ticks per patch: ${advances.join(" ")}`).toBeGreaterThanOrEqual(2);
    } finally {
      await ada.leave();
    }
  });
});
