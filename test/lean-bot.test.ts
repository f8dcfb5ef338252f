import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinArena } from "../client/lib/node.ts";
import { LeanBot } from "../loadtest/lean-bot.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startNodeProcess();
});

afterAll(async () => {
  await node?.stop();
});

describe("lean bot", () => {
  it("plays like a client: joins, receives state, and moves when steered", async () => {
    const bot = await LeanBot.join({ url: node.url, name: "lean", tickHz: 30 });
    const watcher = await joinArena({ url: node.url, name: "watcher", roomId: bot.roomId });
    try {
      await waitFor(() => watcher.state?.players?.size === 2, 5000, () => "both players");
      const leanPlayer = () => [...watcher.state.players.values()].find((p) => p.name === "lean")!;
      const x = leanPlayer().x;
      bot.steer(1, 0);
      await waitFor(() => leanPlayer().x > x + 30 || leanPlayer().x > 1500, 5000, () => "the lean bot's player moving right");
      await waitFor(() => bot.stateFrames > 30, 5000, () => "a second of patches");
      expect(bot.bytesReceived).toBeGreaterThan(1000);
      // Every input is acknowledged by a later patch, within a few ticks on a quiet machine.
      expect(bot.ackLatencies.length).toBeGreaterThan(20);
      const sorted = [...bot.ackLatencies].sort((a, b) => a - b);
      expect(sorted[0]).toBeGreaterThan(0);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(500);
      // The node echoes each PING as soon as it reads it, within the socket's frame budget (no warning).
      bot.pingEvery(20);
      await waitFor(() => bot.pingLatencies.length >= 5, 5000, () => "five PING round trips");
      bot.stopPinging();
      expect(Math.min(...bot.pingLatencies)).toBeGreaterThan(0);
      expect(Math.max(...bot.pingLatencies)).toBeLessThan(500);
      expect(bot.warnings).toEqual([]);
      expect(bot.leftWith).toBeUndefined();
    } finally {
      bot.close();
      await watcher.leave();
    }
  });

  it("waits out a 429 as its Retry-After asks rather than failing the join", async () => {
    const strict = await startNodeProcess({ JOINS_PER_IP_PER_SECOND: "1", JOIN_BURST_PER_IP: "1", LOG_LEVEL: "warn" });
    const bots: LeanBot[] = [];
    try {
      const started = performance.now();
      bots.push(...(await Promise.all([0, 1, 2].map((i) => LeanBot.join({ url: strict.url, name: `patient${i}`, tickHz: 30 })))));
      // One join a second after the first: the third waited at least two seconds.
      expect(performance.now() - started).toBeGreaterThan(1900);
      expect(strict.output()).toContain('"reason":"joins_per_ip"');
    } finally {
      bots.forEach((b) => b.close());
      await strict.stop();
    }
  });

  it("comes back after its socket is cut, and says how long it was without state", async () => {
    const bot = await LeanBot.join({ url: node.url, name: "cut", tickHz: 30 });
    try {
      await waitFor(() => bot.stateFrames > 5, 5000, () => "state before the cut");
      const cutAt = performance.now();
      bot.cut();
      await waitFor(() => bot.recoveries.length === 1, 10_000, () => "state again after the cut");
      expect(bot.recoveries[0]).toBeGreaterThan(0);
      expect(bot.recoveries[0]).toBeLessThanOrEqual(performance.now() - cutAt);
      expect(bot.reconnects).toBe(1);
      expect(bot.leftWith).toBeUndefined();
    } finally {
      bot.close();
    }
  });

  it("says why when the server refuses it", async () => {
    await expect(LeanBot.join({ url: node.url, name: "", tickHz: 30 })).rejects.toThrow(/join refused \(400\): name must be 1 to 16/);
  });
});
