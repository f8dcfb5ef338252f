/**
 * Operator drains: every room of a node moves to the others with its players, from the exact tick
 * it stopped at; the refusals, the deadline, SIGTERM and the admin API's authentication.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { ADMIN_TOKEN, admin, startCluster, type TestCluster } from "./helpers/cluster.ts";

const sessions: ArenaSession[] = [];
const clusters: TestCluster[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
});

async function cluster(count: number, env: Record<string, string> = {}): Promise<TestCluster> {
  const c = await startCluster(count, env);
  clusters.push(c);
  return c;
}

async function join(c: TestCluster, name: string, roomId?: string): Promise<ArenaSession> {
  const session = await joinArena({ url: c.gateway.url, name, ...(roomId ? { roomId } : {}) });
  sessions.push(session);
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its state`);
  return session;
}

/** What a player last saw of itself from each node, tick by tick. */
function trackOwnState(session: ArenaSession) {
  const seen = { lastFromOld: undefined as { tick: number; x: number; y: number; score: number } | undefined, firstFromNew: undefined as typeof undefined | { tick: number; x: number; y: number; score: number } };
  let oldNode = "";
  session.room.onStateChange((state) => {
    const me = state.players.get(session.sessionId);
    if (!me) return;
    const view = { tick: state.tick, x: me.x, y: me.y, score: me.score };
    if (!oldNode) oldNode = state.nodeId;
    if (state.nodeId === oldNode) seen.lastFromOld = view;
    else if (!seen.firstFromNew) seen.firstFromNew = view;
  });
  return seen;
}

async function waitDrained(node: { adminUrl: string }): Promise<any> {
  let status: any;
  await waitFor(async () => (status = (await admin(node, "GET", "/status")).body).state === "drained", 15_000, () => `drained: ${JSON.stringify(status)}`);
  return status;
}

describe("drain", () => {
  it("moves every room of a node with its players, each from the exact tick it stopped at", async () => {
    const c = await cluster(1, { MAX_PLAYERS: "2" });
    const players: ArenaSession[] = [];
    for (let i = 0; i < 6; i++) players.push(await join(c, `p${i}`));
    const rooms = new Set(players.map((p) => p.room.roomId));
    expect(rooms.size).toBe(3);
    await c.addNode("n2");
    await c.addNode("n3");
    const roomObjects = players.map((p) => p.room);
    const views = players.map(trackOwnState);
    // Everybody moving, so a lost or an extra tick would show in the positions.
    players.forEach((p, i) => {
      p.stick.x = i % 2 === 0 ? 1 : -1;
      p.stick.y = i % 3 === 0 ? 1 : -1;
      p.run();
    });
    await new Promise((r) => setTimeout(r, 700));

    const started = await admin(c.node("n1"), "POST", "/drain");
    expect(started.status).toBe(202);
    expect((await fetch(`${c.node("n1").url}/readyz`)).status).toBe(503);
    const status = await waitDrained(c.node("n1"));
    expect(Object.values(status.handOffs).every((h: any) => h.status === "moved")).toBe(true);
    await waitFor(() => players.every((p) => p.state.nodeId !== "n1"), 10_000, () => "every player on a new node");
    await waitFor(() => views.every((v) => v.firstFromNew !== undefined), 5000, () => "state from the new nodes");

    players.forEach((p, i) => {
      expect(p.room).toBe(roomObjects[i]);
      const { lastFromOld, firstFromNew } = views[i]!;
      expect(firstFromNew!.tick).toBe(lastFromOld!.tick);
      expect(firstFromNew!.x).toBe(lastFromOld!.x);
      expect(firstFromNew!.y).toBe(lastFromOld!.y);
      expect(firstFromNew!.score).toBe(lastFromOld!.score);
    });
    // No room lost or duplicated: the same rooms, each with both its players, each owned once.
    expect(new Set(players.map((p) => p.room.roomId))).toEqual(rooms);
    for (const p of players) expect(p.state.players.size).toBe(2);
    const redis = new Redis(c.redis.redisUrl);
    try {
      expect(new Set(await redis.smembers("locus:rooms"))).toEqual(rooms);
      for (const roomId of rooms) expect((await redis.get(keys.owner(roomId)))?.split(" ")[0]).not.toBe("n1");
    } finally {
      redis.disconnect();
    }
    expect((await admin(c.node("n1"), "GET", "/status")).body.rooms).toEqual([]);
    // A frozen room's checkpoint holds every record of its journal: the takers rebuild without reading one.
    const takers = c.node("n2").output() + c.node("n3").output();
    expect(takers).toContain('"event":"room_rehydrated"');
    expect(takers).not.toContain('"event":"journal_replayed"');

    // An idle drained node returns to service on request.
    const undrained = await admin(c.node("n1"), "POST", "/undrain");
    expect(undrained.status).toBe(200);
    expect(undrained.body.state).toBe("ready");
    await waitFor(async () => (await fetch(`${c.node("n1").url}/readyz`)).status === 200, 3000);
  });

  it("drains under bot load without losing a bot", async () => {
    const c = await cluster(1, { MAX_PLAYERS: "4" });
    const bots: ArenaSession[] = [];
    for (let i = 0; i < 12; i++) bots.push(await join(c, `bot${i}`));
    await c.addNode("n2");
    let left = 0;
    for (const b of bots) {
      b.room.onLeave(() => left++);
      b.run();
      setInterval(() => {
        b.stick.x = Math.random() * 2 - 1;
        b.stick.y = Math.random() * 2 - 1;
      }, 300).unref();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await admin(c.node("n1"), "POST", "/drain")).status).toBe(202);
    await waitDrained(c.node("n1"));
    await waitFor(() => bots.every((b) => b.state.nodeId === "n2"), 10_000, () => "every bot on n2");
    const ticks = bots.map((b) => b.state.tick);
    await waitFor(() => bots.every((b, i) => b.state.tick > ticks[i]! + 5), 5000, () => "every room ticking on n2");
    expect(left).toBe(0);
  });

  it("refuses a drain when no other node is ready, and changes nothing", async () => {
    const c = await cluster(1);
    const alone = await join(c, "Alone");
    const refused = await admin(c.node("n1"), "POST", "/drain");
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain("no other ready node");
    expect((await admin(c.node("n1"), "GET", "/status")).body.state).toBe("ready");
    expect((await fetch(`${c.node("n1").url}/readyz`)).status).toBe(200);
    const tick = alone.state.tick;
    await waitFor(() => alone.state.tick > tick + 5, 3000, () => "the room still ticking");
  });

  it("does not hang past its deadline: rooms left are checkpointed and recovered elsewhere", async () => {
    const c = await cluster(1, { MAX_PLAYERS: "1", DRAIN_TIMEOUT_MS: "1000", DRAIN_PARALLELISM: "1" });
    const players: ArenaSession[] = [];
    for (let i = 0; i < 3; i++) players.push(await join(c, `p${i}`));
    const n2 = await c.addNode("n2");
    // n2 freezes: it still looks ready for a moment, so the drain tries it and waits on it.
    n2.child.kill("SIGSTOP");
    try {
      expect((await admin(c.node("n1"), "POST", "/drain")).status).toBe(202);
      // Drained while n2 is still frozen: the drain ended at its deadline instead of waiting on n2.
      const status = await waitDrained(c.node("n1"));
      expect(Object.values(status.handOffs).some((h: any) => h.status === "left")).toBe(true);
    } finally {
      n2.child.kill("SIGCONT");
    }
    await waitFor(() => players.every((p) => p.state.nodeId === "n2"), 15_000, () => `every room recovered on n2\n${c.output()}`);
  });

  it("on SIGTERM hands its rooms on and exits 0", async () => {
    const c = await cluster(1);
    const player = await join(c, "Stays");
    await c.addNode("n2");
    c.node("n1").child.kill("SIGTERM");
    expect(await c.node("n1").exited).toBe(0);
    await waitFor(() => player.state.nodeId === "n2", 10_000, () => "the room on n2");
    expect(c.node("n1").output()).toContain('"event":"drain_finished"');
  });
});

describe("admin API", () => {
  let c: TestCluster;
  afterAll(async () => {
    await c?.stop();
  });

  it("answers 401 without a token or with a wrong one, and 200 with the right one", async () => {
    c = await startCluster(1);
    const node = c.node("n1");
    const none = await admin(node, "GET", "/status", null);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("missing or wrong bearer token");
    expect((await admin(node, "POST", "/drain", "not-the-token-at-all")).status).toBe(401);
    const ok = await admin(node, "GET", "/status", ADMIN_TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ node: "n1", mode: "cluster", state: "ready" });
  });

  it("is off on a lone node without ADMIN_TOKEN", async () => {
    const lone = await startNodeProcess();
    try {
      const res = await admin(lone, "GET", "/status", "anything-at-all-123");
      expect(res.status).toBe(401);
      expect(res.body.error).toContain("ADMIN_TOKEN is not set");
    } finally {
      await lone.stop();
    }
  });

  it("keeps a cluster node from starting without ADMIN_TOKEN", () => {
    const main = fileURLToPath(new URL("../server/main.ts", import.meta.url));
    const run = spawnSync(process.execPath, [main], { env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", ADMIN_TOKEN: "" }, encoding: "utf8", timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("ADMIN_TOKEN is required in cluster mode");
  });
});
