/**
 * The same survival tests for every game on the durable-room layer, with real processes: its node
 * SIGKILLed, drained, or frozen with SIGSTOP until another node takes the room and then woken.
 * Each time the room comes back under the same id, into the players' same SDK Room objects, with
 * nothing they saw lost (test/helpers/survival-games.ts says what that is for each game), and a
 * woken stale node neither keeps the room nor takes it back.
 */
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../loadtest/processes.ts";
import { admin, startCluster, type TestCluster } from "./helpers/cluster.ts";
import { type Match, SURVIVAL_GAMES } from "./helpers/survival-games.ts";

const clusters: TestCluster[] = [];
const matches: Match[] = [];

afterEach(async () => {
  await Promise.all(matches.splice(0).map((m) => m.leave()));
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
});

async function cluster(count: number, env: Record<string, string>): Promise<TestCluster> {
  const c = await startCluster(count, env);
  clusters.push(c);
  return c;
}

/** A match playing on `c`, both players on one node, which it returns. */
async function playing(c: TestCluster, start: (url: string) => Promise<Match>): Promise<{ match: Match; owner: string }> {
  const match = await start(c.gateway.url);
  matches.push(match);
  const [owner] = match.nodeIds();
  expect(new Set(match.nodeIds())).toEqual(new Set([owner]));
  match.play();
  await new Promise((r) => setTimeout(r, 1500));
  return { match, owner: owner! };
}

async function roomsOf(c: TestCluster, nodeId: string): Promise<string[]> {
  return ((await admin(c.node(nodeId), "GET", "/status")).body.rooms as { roomId: string }[]).map((r) => r.roomId);
}

describe.each(SURVIVAL_GAMES)("$name survives", (game) => {
  it("a crash: SIGKILL of its node brings it back elsewhere, into the same Room objects, with nothing seen lost", async () => {
    const c = await cluster(3, game.env);
    const { match, owner } = await playing(c, game.start);
    const rooms = [...match.rooms];
    await match.settle();
    match.mark();
    const downAt = performance.now();
    c.node(owner).child.kill("SIGKILL");
    await waitFor(() => match.nodeIds().every((n) => n !== owner), 15_000, () => `both players on a new node\n${c.output()}`);

    expect(match.rooms).toEqual(rooms);
    for (const room of match.rooms) expect(room.roomId).toBe(match.roomId);
    match.expectCarriedOver(owner, downAt, "crash");
    await match.goesOn();
    const successor = match.nodeIds()[0]!;
    for (const trail of match.nodesSeen()) expect(trail).toEqual([owner, successor]);
  });

  it("a drain: the room moves with its players, exactly where it stopped", async () => {
    const c = await cluster(1, game.env);
    const { match, owner } = await playing(c, game.start);
    await c.addNode("n2");
    match.mark();
    const downAt = performance.now();
    expect((await admin(c.node(owner), "POST", "/drain")).status).toBe(202);
    await waitFor(async () => (await admin(c.node(owner), "GET", "/status")).body.state === "drained", 15_000, () => `drained\n${c.output()}`);
    await waitFor(() => match.nodeIds().every((n) => n === "n2"), 10_000, () => `both players on n2\n${c.output()}`);

    match.expectCarriedOver(owner, downAt, "drain");
    await match.goesOn();
    expect(await roomsOf(c, owner)).toEqual([]);
    expect(await roomsOf(c, "n2")).toEqual([match.roomId]);
  });

  it("a stall: a node frozen until its room is taken over neither keeps nor takes back the room once woken", async () => {
    const c = await cluster(2, { ...game.env, ROOM_LEASE_MS: "2000" });
    const { match, owner } = await playing(c, game.start);
    await match.settle();
    match.mark();
    const zombie = c.node(owner);
    const downAt = performance.now();
    zombie.child.kill("SIGSTOP");
    try {
      await waitFor(() => match.nodeIds().every((n) => n !== owner), 15_000, () => `the room taken over\n${c.output()}`);
    } finally {
      zombie.child.kill("SIGCONT");
    }
    const successor = match.nodeIds()[0]!;
    match.expectCarriedOver(owner, downAt, "crash");
    await waitFor(() => zombie.output().includes('"event":"room_fenced"'), 10_000, () => `the woken copy closed\n${zombie.output()}`);
    // Woken past its lease, it paused the room before writing anything under it, and its renewal,
    // refused, fenced it: no checkpoint for Redis to refuse.
    expect(zombie.output()).toMatch(/"event":"room_paused"/);
    expect(zombie.output()).toMatch(/"event":"room_fenced","reason":"lease renewal refused/);
    expect(zombie.output()).not.toMatch(/"event":"checkpoint_fenced"/);

    // Long enough for the woken node's timers (heartbeat, lease renewal, checkpoints) to have run.
    await new Promise((r) => setTimeout(r, 1500));
    await match.goesOn();
    expect(match.nodeIds()).toEqual([successor, successor]);
    for (const trail of match.nodesSeen()) expect(trail).toEqual([owner, successor]);
    expect(await roomsOf(c, owner)).toEqual([]);
    expect(await roomsOf(c, successor)).toEqual([match.roomId]);
  });
});
