/**
 * Redis content is untrusted input. Junk node records, a lease that names no owner and each kind
 * of bad checkpoint, written straight into a real cluster's Redis while honest players play: the
 * bad record is skipped and logged once, placement, routing, failover and the ops CLI carry on, a
 * checkpoint no room can be rebuilt from is quarantined once and its room released, and the
 * honest players keep their state updates while the nodes' memory stays bounded.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeanBot } from "../loadtest/lean-bot.ts";
import { type NodeProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { type HonestPlayers, joinHonestPlayers, underAttack } from "./helpers/honest-players.ts";

const OPS = fileURLToPath(new URL("../server/ops/ops.ts", import.meta.url));
const TWENTY_MB = 20 * 1024 * 1024;

/** Every log line of the nodes that is JSON, parsed. */
function events(cluster: TestCluster): Record<string, unknown>[] {
  return [...cluster.nodes.values()].flatMap((n) =>
    n.output().split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    }),
  );
}

async function ownerOf(redis: Redis, roomId: string): Promise<string | undefined> {
  return (await redis.get(keys.owner(roomId)))?.split(" ")[0];
}

describe("junk in the node records and leases of a two-node cluster", () => {
  let cluster: TestCluster;
  let redis: Redis;
  let honest: HonestPlayers;
  beforeAll(async () => {
    cluster = await startCluster(2);
    redis = new Redis(cluster.redis.redisUrl);
    honest = await joinHonestPlayers(cluster.gateway.url, 4);
  });
  afterAll(async () => {
    await honest?.close();
    redis?.disconnect();
    await cluster?.stop();
  });

  it("a lease that names no valid owner: the room is taken over or renewed back, its player plays on, and it is logged", async () => {
    const bot = await LeanBot.join({ url: cluster.gateway.url, name: "lease", tickHz: 30, roomId: honest.roomId });
    try {
      const roomId = honest.roomId;
      await redis.set(keys.owner(roomId), "not an owner", "PX", 5000);
      await waitFor(async () => (await ownerOf(redis, roomId)) !== "not", 5000, () => `a valid owner again\n${cluster.output()}`);
      const frames = bot.stateFrames;
      await waitFor(() => bot.stateFrames > frames + 30, 5000, () => "state after the takeover");
      expect(bot.leftWith).toBeUndefined();
      await new Promise((r) => setTimeout(r, 1000));
      const reports = events(cluster).filter((e) => e.event === "bad_redis_record" && e.kind === "owner");
      // Met by the other node's scans, which take the room over, or by its owner's renewal, which
      // takes the lease back, whichever came first (both, at most): each logs it once.
      expect(reports.length).toBeGreaterThanOrEqual(1);
      expect(reports.length).toBeLessThanOrEqual(2);
    } finally {
      bot.close();
    }
  });

  it("are skipped and logged once: the gateway stays ready, joins and ops work, a killed node's room comes back", async () => {
    const ownerId = (await ownerOf(redis, honest.roomId))!;
    const owner = cluster.node(ownerId);
    const [otherId, other] = [...cluster.nodes].find(([id]) => id !== ownerId)!;
    // Built before the window, so that writing it costs the test process nothing while it measures.
    await redis.set("test:huge", JSON.stringify({ nodeId: "junk-huge", pad: "x".repeat(TWENTY_MB) }));
    const junk = ["junk-json", "junk-types", "junk-huge", "junk-hash"];
    await underAttack("junk node records", honest, { healthUrl: `${owner.url}/healthz`, nodes: [owner, other], ms: 5000 }, () =>
      redis
        .multi()
        .set(keys.node("junk-json"), "{not json")
        .set(keys.node("junk-types"), JSON.stringify({ nodeId: "junk-types", address: 5, processId: [], state: "ready", players: "many", rooms: -1, pid: 1, heartbeatAt: "now" }))
        .rename("test:huge", keys.node("junk-huge"))
        .hset(keys.node("junk-hash"), "state", "ready")
        .sadd(keys.nodes, ...junk, "y".repeat(300))
        .exec(),
    );

    const ready = await fetch(`${cluster.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    const late = await LeanBot.join({ url: cluster.gateway.url, name: "late", tickHz: 30 });
    late.close();

    const ops = spawnSync(process.execPath, [OPS, "nodes"], { env: { ...process.env, REDIS_URL: cluster.redis.redisUrl }, encoding: "utf8", timeout: 20_000 });
    expect(ops.status, ops.stderr).toBe(0);
    expect(ops.stdout).toMatch(/^n1\s+ready/m);
    expect(ops.stdout).toMatch(/^n2\s+ready/m);
    for (const id of junk) expect(ops.stderr).toContain(`locus:node:${id}:`);
    expect(ops.stderr).toContain(`${JSON.stringify({ nodeId: "junk-huge", pad: "" }).length + TWENTY_MB} bytes, over 4096`);
    expect(ops.stderr).toContain("an id of 300 bytes is no node id");

    // Every scan (four a second, on each node) met them: each node logged each one once.
    const reports = events(cluster).filter((e) => e.event === "bad_redis_record" && e.kind === "node");
    for (const id of junk) expect(reports.filter((e) => e.key === keys.node(id))).toHaveLength(2);
    // Counted once each, by the nodes and by the gateway, which meets them placing players.
    for (const process of [owner, cluster.gateway]) {
      const metrics = await (await fetch(`${process.adminUrl}/metrics`)).text();
      expect(Number(/^locus_bad_redis_records_total\{[^}]*kind="node"[^}]*\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(5);
    }

    const frames = (await honest.bots()).map((b) => b.stateFrames);
    owner.child.kill("SIGKILL");
    await waitFor(async () => (await ownerOf(redis, honest.roomId)) === otherId, 10_000, () => `the room recovered on ${otherId}\n${cluster.output()}`);
    await waitFor(async () => (await honest.bots()).every((b, i) => b.stateFrames > frames[i]! + 60), 10_000, () => "every honest player back in the game");
    expect((await honest.bots()).map((b) => b.leftWith)).toEqual(frames.map(() => undefined));
  });
});

describe("bad checkpoints, rebuilt on the node where honest players play", () => {
  let cluster: TestCluster;
  let redis: Redis;
  let honest: HonestPlayers;
  let node: NodeProcess;
  /** A real checkpoint of the honest players' room, as plain data to spoil. */
  let template: any;
  beforeAll(async () => {
    cluster = await startCluster(1);
    redis = new Redis(cluster.redis.redisUrl);
    honest = await joinHonestPlayers(cluster.gateway.url, 4);
    node = cluster.node("n1");
    template = JSON.parse((await redis.get(keys.checkpoint(honest.roomId)))!);
  });
  afterAll(async () => {
    await honest?.close();
    redis?.disconnect();
    await cluster?.stop();
  });

  /** The template as another room's, spoilt by `spoil`, as JSON text (or what `spoil` returns). */
  function spoilt(roomId: string, spoil: (cp: any, firstPlayer: string) => string | void): string {
    const cp = structuredClone(template);
    cp.roomId = roomId;
    return spoil(cp, cp.seats[0].sessionId) ?? JSON.stringify(cp);
  }

  const cases: [string, (cp: any, first: string) => string | void, string][] = [
    ["a player's x that does not restore", (cp, first) => void (cp.game.data.state.players[first].x = "abc"), "x is not a finite number"],
    [
      "a player keyed constructor",
      (cp, first) => {
        cp.game.data.state.players.constructor = cp.game.data.state.players[first];
        delete cp.game.data.state.players[first];
      },
      'player key "constructor" is not a session id',
    ],
    ["a player keyed __proto__", (cp, first) => JSON.stringify(cp).replaceAll(`"${first}"`, '"__proto__"'), 'seat "__proto__" is not a session id'],
    ["a 20 MB player name", (cp, first) => void (cp.game.data.state.players[first].name = "n".repeat(TWENTY_MB)), "over the 262144-byte limit"],
  ];

  for (const [what, spoil, reason] of cases) {
    it(`quarantines ${what} once, releases the room, and the epoch stops`, async () => {
      const roomId = `bad-${what.replace(/[^a-z0-9]+/gi, "-")}`.slice(0, 32);
      await redis.set("test:spoilt", spoilt(roomId, spoil));
      await underAttack(`a checkpoint with ${what}`, honest, { healthUrl: `${node.url}/healthz`, nodes: [node], ms: 4000 }, () =>
        redis.multi().rename("test:spoilt", keys.checkpoint(roomId)).set(keys.epoch(roomId), "1").sadd(keys.rooms, roomId).exec(),
      );

      const quarantined = events(cluster).filter((e) => e.event === "checkpoint_quarantined" && e.room === roomId);
      expect(quarantined).toHaveLength(1);
      expect(quarantined[0]!.reason).toContain(reason);
      expect(quarantined[0]!.key).toBe(keys.quarantine(roomId));
      expect(await redis.pttl(keys.quarantine(roomId))).toBeGreaterThan(23 * 3600 * 1000);
      expect(await redis.sismember(keys.rooms, roomId)).toBe(0);
      const epoch = await redis.get(keys.epoch(roomId));
      expect(Number(epoch)).toBeLessThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await redis.get(keys.epoch(roomId))).toBe(epoch);
      const loops = events(cluster).filter((e) => (e.event === "rehydrate_failed" || e.event === "room_error") && (e.room === roomId || JSON.stringify(e).includes(roomId)));
      expect(loops).toEqual([]);
      const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text();
      expect(Number(/^locus_checkpoints_quarantined_total\{[^}]*\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    });
  }

  it("lists a room whose checkpoint is too large to read in ops, without reading it", async () => {
    await redis.set("test:spoilt", "z".repeat(TWENTY_MB));
    // Owned by a node that holds it, so no scan takes the room meanwhile.
    await redis.multi().rename("test:spoilt", keys.checkpoint("big-listed")).set(keys.owner("big-listed"), "elsewhere 9", "PX", 20_000).sadd(keys.rooms, "big-listed").exec();
    try {
      const ops = spawnSync(process.execPath, [OPS, "rooms"], { env: { ...process.env, REDIS_URL: cluster.redis.redisUrl }, encoding: "utf8", timeout: 20_000 });
      expect(ops.status, ops.stderr).toBe(0);
      expect(ops.stdout).toMatch(new RegExp(`^big-listed\\s+elsewhere\\s+9\\s+-\\s+-\\s+unreadable: ${TWENTY_MB} bytes`, "m"));
      expect(ops.stdout).toContain(honest.roomId);
    } finally {
      await redis.del(keys.owner("big-listed"), keys.checkpoint("big-listed"));
      await redis.srem(keys.rooms, "big-listed");
    }
  });
});
