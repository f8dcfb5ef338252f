/**
 * A node dies (SIGKILL) or stalls (SIGSTOP) under its players; its rooms come back on another
 * node from their last checkpoint, into the same client Room objects, and never live twice.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ArenaSession } from "../client/lib/node.ts";
import { waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { ARENA_WIDTH } from "../shared/constants.ts";
import { clusterForSuite, joinThroughGateway, type TestCluster } from "./helpers/cluster.ts";

const sessions: ArenaSession[] = [];

const join = (cluster: TestCluster, name: string, roomId?: string) => joinThroughGateway(cluster, sessions, name, roomId);

/** Records every node a session received state from, in order. */
function nodesSeenBy(session: ArenaSession): string[] {
  const seen: string[] = [];
  session.room.onStateChange((state) => {
    if (state.nodeId && seen[seen.length - 1] !== state.nodeId) seen.push(state.nodeId);
  });
  return seen;
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

describe("crash: SIGKILL a node under its players", () => {
  const suite = clusterForSuite(3);

  it("brings the room back elsewhere, into the same Room objects, as of the last checkpoint", async () => {
    const ada = await join(suite.cluster, "Ada");
    const bob = await join(suite.cluster, "Bob", ada.room.roomId);
    const adaRoom = ada.room;
    const owner = ada.state.nodeId;
    const seen = nodesSeenBy(bob);

    // Toward the middle, where there is room to move whatever the spawn: a player at a wall stays still.
    const inward = ada.me!.x < ARENA_WIDTH / 2 ? 1 : -1;
    ada.stick.x = inward;
    ada.run();
    await waitFor(() => ada.me!.vx * inward > 100, 5000, () => "Ada moving");
    ada.stick.x = 0;
    await waitFor(() => ada.me!.vx === 0, 5000, () => "Ada at rest");
    const before = { x: ada.me!.x, y: ada.me!.y, score: ada.me!.score, tick: ada.state.tick };
    // Once a checkpoint has been written since she stopped, that checkpoint is where she is.
    await waitFor(
      async () => {
        const written = JSON.parse((await suite.redis.get(keys.checkpoint(ada.room.roomId))) ?? "null") as { game: { data: { state: { players: Record<string, { x: number; y: number }> } } } } | null;
        const there = written?.game.data.state.players[ada.sessionId];
        return there !== undefined && Math.abs(there.x - before.x) < 1e-3 && Math.abs(there.y - before.y) < 1e-3;
      },
      5000,
      () => "a checkpoint with Ada at rest",
    );
    await waitFor(() => seen.length === 1, 5000, () => "Bob's state from the owner");

    suite.cluster.node(owner).child.kill("SIGKILL");
    await waitFor(() => ada.state.nodeId !== owner && bob.state.nodeId !== owner, 10_000, () => `both players on a new node\n${suite.cluster.output()}`);
    await waitFor(() => ada.state.players.size === 2 && bob.state.players.size === 2, 5000, () => "both seats back");

    expect(ada.room).toBe(adaRoom);
    expect(ada.room.roomId).toBe(bob.room.roomId);
    const after = ada.state.players.get(ada.sessionId)!;
    expect(after.x).toBeCloseTo(before.x, 3);
    expect(after.y).toBeCloseTo(before.y, 3);
    expect(after.score).toBe(before.score);
    expect(bob.state.players.get(ada.sessionId)!.x).toBeCloseTo(before.x, 3);
    expect(seen).toEqual([owner, ada.state.nodeId]);

    // The moved room takes input: Ada walks again and Bob sees it on the new node.
    ada.stick.x = inward;
    await waitFor(() => (bob.state.players.get(ada.sessionId)!.x - before.x) * inward > 40, 5000, () => "Ada moving on the new node");
  });

  it("comes back from the last checkpoint written, at most one interval and a slice behind", async () => {
    const cyd = await join(suite.cluster, "Cyd");
    const owner = cyd.state.nodeId;
    cyd.stick.y = 1;
    cyd.run();
    await new Promise((r) => setTimeout(r, 2500));
    const tickAtKill = cyd.state.tick;
    suite.cluster.node(owner).child.kill("SIGKILL");
    let firstTickAfter = -1;
    cyd.room.onStateChange((s) => {
      if (firstTickAfter < 0 && s.nodeId !== owner) firstTickAfter = s.tick;
    });
    // Nobody writes the room's checkpoint again until a node claims it, 600 ms on at the soonest;
    // a write the dead node had already sent lands within a few milliseconds.
    await new Promise((r) => setTimeout(r, 100));
    const lastWritten = (JSON.parse((await suite.redis.get(keys.checkpoint(cyd.room.roomId)))!) as { tick: number }).tick;
    await waitFor(() => firstTickAfter >= 0, 10_000, () => "state from the new node");
    // The rebuilt room starts from that checkpoint, not an older one.
    expect(firstTickAfter).toBeGreaterThanOrEqual(lastWritten);
    // Checkpoints fall due every CHECKPOINT_MS (1000 ms) and are taken at the next of ten slices,
    // then written: at 30 Hz, the one written last is at most 30 + 3 ticks and a round trip old.
    expect(tickAtKill - lastWritten).toBeLessThanOrEqual(34);
  });
});

describe("stall: SIGSTOP a node until its room is taken over, then SIGCONT (a longer lease than the default)", () => {
  const suite = clusterForSuite(2, { ROOM_LEASE_MS: "2000" });

  it("the woken node closes its copy without a write, and no client sees two rooms", async () => {
    const dee = await join(suite.cluster, "Dee");
    const roomId = dee.room.roomId;
    const stalled = dee.state.nodeId;
    const seen = nodesSeenBy(dee);
    dee.stick.x = 1;
    dee.run();
    await new Promise((r) => setTimeout(r, 1000));

    const zombie = suite.cluster.node(stalled);
    zombie.child.kill("SIGSTOP");
    try {
      await waitFor(() => dee.state.nodeId !== stalled, 15_000, () => `the room taken over\n${suite.cluster.output()}`);
    } finally {
      zombie.child.kill("SIGCONT");
    }
    const successor = dee.state.nodeId;
    await waitFor(() => zombie.output().includes('"event":"room_fenced"'), 10_000, () => `the woken copy closed\n${zombie.output()}`);

    // Woken past its lease, it paused the room before writing anything under it, and its renewal,
    // refused, fenced it: no checkpoint or journal batch for Redis to refuse.
    expect(zombie.output()).toMatch(/"event":"room_paused"/);
    expect(zombie.output()).toMatch(/"event":"room_fenced","reason":"lease renewal refused/);
    expect(zombie.output()).not.toMatch(/"event":"checkpoint_fenced"/);
    const metrics = await (await fetch(`${zombie.adminUrl}/metrics`)).text();
    expect(Number(/^locus_journal_refused_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1])).toBe(0);
    expect((await suite.redis.get(keys.owner(roomId)))?.split(" ")[0]).toBe(successor);

    // The player keeps playing on the successor and was never shown the stale copy again.
    const tick = dee.state.tick;
    await waitFor(() => dee.state.tick > tick + 10, 5000, () => "ticks on the successor");
    expect(dee.state.nodeId).toBe(successor);
    expect(seen).toEqual([stalled, successor]);

    // The room is still listed for matchmaking, at its new home: the stale copy did not take the listing with it.
    await new Promise((r) => setTimeout(r, 1000));
    const late = await join(suite.cluster, "Late", roomId);
    expect(late.state.nodeId).toBe(successor);
    expect(late.state.players.has(dee.sessionId)).toBe(true);
  });
});
