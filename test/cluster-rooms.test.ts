/**
 * Rooms across a cluster: where new rooms go, several gateways, what a finished room leaves in
 * Redis, and seats whose players never come back after a move.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { type RunningProcess, startGatewayProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";

const sessions: ArenaSession[] = [];
let cluster: TestCluster;
let secondGateway: RunningProcess;
let redis: Redis;

beforeAll(async () => {
  cluster = await startCluster(3, { MAX_PLAYERS: "2", SEAT_HOLD_SECONDS: "2" });
  secondGateway = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl });
  redis = new Redis(cluster.redis.redisUrl);
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

afterAll(async () => {
  redis?.disconnect();
  await secondGateway?.stop();
  await cluster?.stop();
});

async function join(url: string, name: string, roomId?: string): Promise<ArenaSession> {
  const session = await joinArena({ url, name, ...(roomId ? { roomId } : {}) });
  sessions.push(session);
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its state`);
  return session;
}

describe("rooms across a cluster", () => {
  it("places new rooms on the nodes with the fewest players", async () => {
    const players: ArenaSession[] = [];
    for (let i = 0; i < 6; i++) players.push(await join(cluster.gateway.url, `p${i}`));
    const rooms = new Map<string, string>();
    for (const p of players) rooms.set(p.room.roomId, p.state.nodeId);
    expect(rooms.size).toBe(3);
    expect(new Set(rooms.values()).size).toBe(3);
  });

  it("lets players reach the same room through different gateways", async () => {
    const ada = await join(cluster.gateway.url, "Ada");
    const bob = await join(secondGateway.url, "Bob", ada.room.roomId);
    await waitFor(() => ada.state.players.has(bob.sessionId), 5000, () => "Bob seen by Ada");
    expect(bob.state.nodeId).toBe(ada.state.nodeId);
  });

  it("deletes a finished room's lease and checkpoint, and lets its epoch lapse", async () => {
    const solo = await join(cluster.gateway.url, "Solo");
    const roomId = solo.room.roomId;
    await waitFor(async () => (await redis.exists(keys.checkpoint(roomId))) === 1, 5000, () => "a checkpoint written");
    await solo.leave();
    await waitFor(async () => (await redis.exists(keys.owner(roomId), keys.checkpoint(roomId))) === 0, 5000, () => "keys gone");
    expect(await redis.sismember("locus:rooms", roomId)).toBe(0);
    const epochTtl = await redis.pttl(keys.epoch(roomId));
    expect(epochTtl).toBeGreaterThan(0);
    expect(epochTtl).toBeLessThanOrEqual(60_000);
  });

  it("after a move, releases the seat of a player who never returns, then disposes the empty room", async () => {
    const stays = await join(cluster.gateway.url, "Stays");
    const quits = await join(cluster.gateway.url, "Quits", stays.room.roomId);
    const roomId = stays.room.roomId;
    const owner = stays.state.nodeId;
    quits.room.reconnection.enabled = false;
    await new Promise((r) => setTimeout(r, 300));

    cluster.node(owner).child.kill("SIGKILL");
    await waitFor(() => stays.state.nodeId !== owner, 10_000, () => "the room moved");
    expect(stays.state.players.has(quits.sessionId)).toBe(true);
    expect(stays.state.players.get(quits.sessionId)!.connected).toBe(false);
    await waitFor(() => !stays.state.players.has(quits.sessionId), 6000, () => "the unclaimed seat released");

    await stays.leave();
    await waitFor(async () => (await redis.sismember("locus:rooms", roomId)) === 0, 5000, () => "the empty room disposed");
  });
});
