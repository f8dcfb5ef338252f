/**
 * A node that goes silent without dying (SIGSTOP: no RST, its port still accepts connections) has
 * its rooms taken over by the others once its leases lapse, at the default ROOM_LEASE_MS; woken,
 * it neither steps nor writes the rooms it lost. A healthy node whose event loop stalls for 500 ms
 * (STALL_ON_SIGUSR2_MS, the test hook) keeps every room and every player. Counts are asserted;
 * the times are printed as `measured:` lines (BENCHMARKS.md, "Silent node", has the figures).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ArenaSession } from "../client/lib/node.ts";
import { type NodeProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { admin, clusterForSuite, joinThroughGateway, type TestCluster } from "./helpers/cluster.ts";

const sessions: ArenaSession[] = [];

const join = (cluster: TestCluster, name: string, roomId?: string) => joinThroughGateway(cluster, sessions, name, roomId);

/** Records every node a session received state from, in order, and the last tick each sent it. */
function trail(session: ArenaSession): { nodes: string[]; lastTick: Map<string, number> } {
  const seen = { nodes: [] as string[], lastTick: new Map<string, number>() };
  session.room.onStateChange((state) => {
    if (!state.nodeId) return;
    if (seen.nodes[seen.nodes.length - 1] !== state.nodeId) seen.nodes.push(state.nodeId);
    seen.lastTick.set(state.nodeId, state.tick);
  });
  return seen;
}

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
}

async function roomsOf(node: NodeProcess): Promise<string[]> {
  return ((await admin(node, "GET", "/status")).body.rooms as { roomId: string }[]).map((r) => r.roomId);
}

/** The JSON log lines a process printed with this event (and room, when given). */
function events(node: NodeProcess, event: string, roomId?: string): Record<string, unknown>[] {
  return node
    .output()
    .split("\n")
    .filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => roomId === undefined || e.room === roomId);
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

describe("a silent node (SIGSTOP), at the default lease", () => {
  const ROUNDS = 3;
  const suite = clusterForSuite(3);

  it(`moves its players to another node, ${ROUNDS} times; woken, it neither steps nor writes, and no room has two live owners`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const ada = await join(suite.cluster, `Ada${round}`);
      const roomId = ada.room.roomId;
      const bob = await join(suite.cluster, `Bob${round}`, roomId);
      const stalled = ada.state.nodeId;
      const zombie = suite.cluster.node(stalled);
      const trails = [trail(ada), trail(bob)];
      ada.stick.x = 1;
      ada.run();
      bob.run();
      await new Promise((r) => setTimeout(r, 1000));
      // A loaded machine may pause a room for a late renewal and resume it before the stop: only
      // what the stop brings is counted.
      const before = { refused: await metric(zombie, "locus_journal_refused_total"), paused: events(zombie, "room_paused", roomId).length, resumed: events(zombie, "room_resumed", roomId).length };

      const stoppedAt = performance.now();
      zombie.child.kill("SIGSTOP");
      let movedMs: number;
      try {
        await waitFor(() => ada.state.nodeId !== stalled && bob.state.nodeId !== stalled, 15_000, () => `both players on another node\n${suite.cluster.output()}`);
        movedMs = performance.now() - stoppedAt;
      } finally {
        zombie.child.kill("SIGCONT");
      }
      const successor = ada.state.nodeId;
      console.log(`measured: round ${round}: SIGSTOP of ${stalled} → both players' state from ${successor} after ${movedMs.toFixed(0)} ms`);
      expect(bob.state.nodeId).toBe(successor);

      // Woken, the stale copy pauses at its first timer, on the tick it was frozen at; its renewal,
      // refused (another node claimed the room), then fences it.
      await waitFor(() => events(zombie, "room_fenced", roomId).length > 0, 10_000, () => `the woken copy fenced\n${zombie.output()}`);
      expect(events(zombie, "room_paused", roomId)).toHaveLength(before.paused + 1);
      expect(events(zombie, "room_resumed", roomId)).toHaveLength(before.resumed);
      const [fenced] = events(zombie, "room_fenced", roomId);
      expect(fenced!.reason).toMatch(/^lease renewal refused/);
      // A stop lands between two steps or inside one before its patch went out: the last tick a
      // player saw from the frozen node is the one it stopped at, or the one before.
      const lastSeen = Math.max(...trails.map((t) => t.lastTick.get(stalled) ?? Number.NaN));
      expect(fenced!.tick as number).toBeLessThanOrEqual(lastSeen + 1);
      // Nothing written under the lapsed lease, so no checkpoint or journal batch was refused (the
      // renewal that found the room claimed is the one refusal).
      expect(events(zombie, "checkpoint_fenced", roomId)).toEqual([]);
      expect(await metric(zombie, "locus_journal_refused_total")).toBe(before.refused);

      // At most one live owner per room, the one Redis names (a room being disposed may have none).
      await waitFor(async () => !(await roomsOf(zombie)).includes(roomId), 5000, () => "the stale copy disposed");
      for (const id of await suite.redis.smembers(keys.rooms)) {
        const holders: string[] = [];
        for (const [nodeId, node] of suite.cluster.nodes) if ((await roomsOf(node)).includes(id)) holders.push(nodeId);
        expect(holders.length).toBeLessThanOrEqual(1);
        if (holders.length === 1) expect((await suite.redis.get(keys.owner(id)))?.split(" ")[0]).toBe(holders[0]);
      }
      expect((await roomsOf(suite.cluster.node(successor))).includes(roomId)).toBe(true);
      for (const t of trails) expect(t.nodes).toEqual([stalled, successor]);
      const tick = ada.state.tick;
      await waitFor(() => ada.state.tick > tick + 10 && ada.state.players.size === 2, 5000, () => "the room plays on at its new home");
      await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
    }
  });
});

describe("a healthy node whose event loop stalls for 500 ms, again and again", () => {
  const STALLS = 8;
  const suite = clusterForSuite(2, { STALL_ON_SIGUSR2_MS: "500" });

  it(`keeps its rooms and its players through ${STALLS} stalls: no takeover, no fence, nobody moved`, async () => {
    const ada = await join(suite.cluster, "Ada");
    const roomId = ada.room.roomId;
    const bob = await join(suite.cluster, "Bob", roomId);
    const owner = ada.state.nodeId;
    const [other] = [...suite.cluster.nodes.keys()].filter((id) => id !== owner);
    const trails = [trail(ada), trail(bob)];
    ada.stick.y = 1;
    ada.run();
    bob.run();
    const epoch = await suite.redis.get(keys.epoch(roomId));
    const stalling = suite.cluster.node(owner);

    for (let i = 0; i < STALLS; i++) {
      stalling.child.kill("SIGUSR2");
      // A different phase against the 250 ms renewals each time, and time for a renewal after each stall.
      await new Promise((r) => setTimeout(r, 900 + i * 45));
    }
    await waitFor(() => events(stalling, "loop_stalled").length === STALLS, 5000, () => `${STALLS} stalls\n${stalling.output()}`);
    const stalledMs = events(stalling, "loop_stalled").map((e) => e.ms as number);
    console.log(`measured: event loop blocked for ${stalledMs.join(", ")} ms`);
    for (const ms of stalledMs) expect(ms).toBeGreaterThanOrEqual(500);

    expect(await suite.redis.get(keys.epoch(roomId))).toBe(epoch);
    expect(events(stalling, "room_fenced")).toEqual([]);
    expect(events(suite.cluster.node(other!), "room_taken_over")).toEqual([]);
    expect(await metric(suite.cluster.node(other!), "locus_rehydrations_total")).toBe(0);
    for (const t of trails) expect(t.nodes).toEqual([owner]);
    expect(await roomsOf(stalling)).toEqual([roomId]);
    const tick = ada.state.tick;
    await waitFor(() => ada.state.tick > tick + 10 && bob.state.tick > tick + 10, 5000, () => "the room plays on");
  });
});
