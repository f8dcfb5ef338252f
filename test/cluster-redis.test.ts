/**
 * What the cluster does with its Redis: outages, room id uniqueness, and checkpoints it must not
 * trust.
 */
import { Client } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { startNodeProcess, startRedis, waitFor } from "../loadtest/processes.ts";
import { keys, olderOwnerKey } from "../server/cluster/redis-keys.ts";
import { ADMIN_TOKEN, clusterForSuite, startCluster, type TestCluster } from "./helpers/cluster.ts";

const sessions: ArenaSession[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

describe("Redis restarts mid-game", () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    // The outage below lasts 3 s and the restart, with the nodes' reconnect backoff, up to 1.5 s
    // more: a lease well past that, as the outage a deployment means to ride out must be.
    cluster = await startCluster(2, { ROOM_LEASE_MS: "8000" });
    redis = new Redis(cluster.redis.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it("keeps every player playing, refuses joins meanwhile, says loudly what failed, and resumes checkpoints", async () => {
    const eve = await joinArena({ url: cluster.gateway.url, name: "Eve" });
    sessions.push(eve);
    await waitFor(() => eve.state?.players?.has(eve.sessionId) === true, 5000);
    const roomId = eve.room.roomId;
    const owner = cluster.node(eve.state.nodeId);
    let dropped = 0;
    eve.room.onDrop(() => dropped++);
    eve.room.onLeave(() => dropped++);
    eve.stick.x = 1;
    eve.run();

    await cluster.redis.stop();
    const tickAtOutage = eve.state.tick;
    await new Promise((r) => setTimeout(r, 1500));
    expect(eve.state.tick).toBeGreaterThan(tickAtOutage + 20);
    const refused = await new Client(owner.url).joinOrCreate("arena", { name: "Late" }).then(
      () => undefined,
      (e: { code: number; message: string }) => e,
    );
    expect(refused?.code).toBe(503);
    expect(refused?.message).toContain("Redis");
    await new Promise((r) => setTimeout(r, 1500));

    const restarted = await startRedis({ port: cluster.redis.port });
    try {
      await redis.connect();
      await waitFor(async () => (await redis.get(keys.checkpoint(roomId))) !== null, 10_000, () => `checkpoints resumed\n${owner.output()}`);
      const checkpoint = JSON.parse((await redis.get(keys.checkpoint(roomId)))!) as { tick: number };
      expect(checkpoint.tick).toBeGreaterThan(tickAtOutage);
      expect((await redis.get(keys.owner(roomId)))?.split(" ")[0]).toBe(eve.state.nodeId);
      expect(dropped).toBe(0);
      // The checkpoints and heartbeats that did not reach Redis meanwhile: each kind logged once with its event, every one counted.
      const metrics = await (await fetch(`${owner.adminUrl}/metrics`)).text();
      const failures = (kind: string) => Number(new RegExp(`^locus_recovery_failures_total\\{[^}]*kind="${kind}"[^}]*\\} (\\S+)$`, "m").exec(metrics)?.[1] ?? 0);
      expect(failures("checkpoint_write"), metrics).toBeGreaterThan(1);
      expect(failures("heartbeat"), metrics).toBeGreaterThan(1);
      const events = (event: string) => owner.output().split("\n").filter((line) => line.includes(`"event":"${event}"`)).length;
      expect(events("checkpoint_write_failed"), owner.output()).toBe(1);
      expect(events("heartbeat_failed"), owner.output()).toBe(1);
      expect(owner.child.exitCode).toBeNull();
      const tick = eve.state.tick;
      await waitFor(() => eve.state.tick > tick + 10, 5000, () => "still ticking");
    } finally {
      await restarted.stop();
    }
  });
});

describe("room ids and checkpoints", () => {
  const suite = clusterForSuite(3);

  it("gives one room for concurrent creates with one roomId, on any node", async () => {
    // Raw matchmaking calls, spread over every node and the gateway, all at once.
    const urls = [...suite.cluster.nodes.values()].map((n) => n.url).concat(suite.cluster.gateway.url);
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await fetch(`${urls[i % urls.length]}/matchmake/create/arena`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: `p${i}`, roomId: "final-match" }),
        });
        return { status: res.status, body: (await res.json()) as { roomId?: string; sessionId?: string; error?: string; message?: string } };
      }),
    );
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status !== 200);
    expect(winners, JSON.stringify(results)).toHaveLength(1);
    for (const l of losers) expect(l.body.message ?? l.body.error).toContain("final-match already exists");
    const listings = await suite.redis.hgetall("roomcaches");
    expect(Object.keys(listings).filter((id) => id === "final-match")).toHaveLength(1);
    expect(await suite.redis.sismember("locus:rooms", "final-match")).toBe(1);

    // The winner's seat is a real one: through the gateway it joins the room.
    const room = await new Client(suite.cluster.gateway.url).consumeSeatReservation(winners[0]!.body as never);
    expect(room.roomId).toBe("final-match");
    await room.leave();
  });

  it("refuses a bad create roomId with a clear message", async () => {
    const error = await new Client(suite.cluster.gateway.url).create("arena", { name: "Ada", roomId: "no spaces!" }).then(
      () => undefined,
      (e: { code: number; message: string }) => e,
    );
    expect(error?.code).toBe(400);
    expect(error?.message).toContain("roomId must be 1 to 32 of A-Z a-z 0-9 _ -");
  });

  const badCheckpoints: [string, string][] = [
    ["truncated", '{"format":1,"roomId":"bad-truncated","nodeId":"gone","epoch":1,"takenAt":1,"tick":5,"wor'],
    ["of an unknown format", JSON.stringify({ format: 99, roomId: "bad-version" })],
  ];
  for (const [what, data] of badCheckpoints) {
    it(`refuses a ${what} checkpoint with a clear log line and keeps running`, async () => {
      const roomId = JSON.parse(data.endsWith("}") ? data : '{"roomId":"bad-truncated"}').roomId as string;
      await suite.redis.multi().set(keys.checkpoint(roomId), data).set(keys.epoch(roomId), "1").sadd("locus:rooms", roomId).exec();
      const logs = () => [...suite.cluster.nodes.values()].map((n) => n.output()).join("\n");
      await waitFor(() => logs().includes(`checkpoint of room ${roomId} cannot be restored`), 5000, () => `a refusal for ${roomId}`);
      await waitFor(async () => (await suite.redis.sismember("locus:rooms", roomId)) === 0, 5000, () => "the broken room given up");
      expect(await suite.redis.get(keys.quarantine(roomId))).toBe(data);
      for (const node of suite.cluster.nodes.values()) {
        expect(node.child.exitCode).toBeNull();
        expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
      }
    });
  }
});

describe("a Redis that nodes of a release before the hash-tagged keys still use", () => {
  it("is refused at start, naming why, so a rolling update stalls instead of two releases taking each other's rooms", async () => {
    const server = await startRedis();
    const redis = new Redis(server.redisUrl);
    try {
      await redis.multi().sadd(keys.rooms, "oldroom").set(olderOwnerKey("oldroom"), "old-node 3", "PX", 60_000).exec();
      const failed = await startNodeProcess({ REDIS_URL: server.redisUrl, NODE_ID: "new-node", ADMIN_TOKEN }).then(
        async (node) => {
          await node.stop();
          return "started";
        },
        (err: Error) => err.message,
      );
      expect(failed).toContain("live room(s) of nodes of an older Locus release (e.g. oldroom)");
      // Nothing of the older node's was touched.
      expect(await redis.get(olderOwnerKey("oldroom"))).toBe("old-node 3");
      expect(await redis.exists(keys.owner("oldroom"))).toBe(0);
      // Once the older nodes are gone (their leases lapsed), a node starts.
      await redis.del(olderOwnerKey("oldroom"));
      const node = await startNodeProcess({ REDIS_URL: server.redisUrl, NODE_ID: "new-node", ADMIN_TOKEN });
      await node.stop();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});
