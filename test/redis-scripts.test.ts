/**
 * The ownership scripts against a real Redis: what each refuses is what keeps a room from
 * having two owners.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisProcess, startRedis } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { type ScriptedRedis, withScripts } from "../server/cluster/redis-scripts.ts";

let server: RedisProcess;
let redis: ScriptedRedis;

beforeAll(async () => {
  server = await startRedis();
  redis = withScripts(new Redis(server.redisUrl));
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const claim = (room: string, node: string, mode: "new" | "orphan" | "dead", seen = 0) =>
  redis.locusClaim(keys.owner(room), keys.epoch(room), keys.rooms, room, node, 5000, mode, keys.node(""), seen, 4096);
const renew = (room: string, node: string, epoch: number) => redis.locusRenew(keys.owner(room), keys.epoch(room), keys.rooms, room, node, epoch, 5000);
const write = (room: string, node: string, epoch: number) => redis.locusWriteCheckpoint(keys.owner(room), keys.checkpoint(room), node, epoch, "{}");

describe("ownership scripts", () => {
  it("lets one create win per room id", async () => {
    expect(await claim("r1", "a", "new")).toBe(1);
    expect(await claim("r1", "b", "new")).toBe(0);
    expect(await redis.get(keys.owner("r1"))).toBe("a 1");
  });

  it("refuses an orphan claim while the lease runs, and fences the old owner after one", async () => {
    expect(await claim("r2", "a", "new")).toBe(1);
    expect(await claim("r2", "b", "orphan")).toBe(0);
    await redis.del(keys.owner("r2"));
    expect(await claim("r2", "b", "orphan")).toBe(2);
    expect(await renew("r2", "a", 1)).toBe(0);
    expect(await write("r2", "a", 1)).toBe(0);
    expect(await write("r2", "b", 2)).toBe(1);
  });

  it("takes a lease back after a Redis restart, when nobody claimed since", async () => {
    expect(await claim("r3", "a", "new")).toBe(1);
    await redis.del(keys.owner("r3"), keys.epoch("r3"));
    await redis.srem(keys.rooms, "r3");
    expect(await renew("r3", "a", 1)).toBe(1);
    expect(await redis.get(keys.owner("r3"))).toBe("a 1");
    expect(await redis.sismember(keys.rooms, "r3")).toBe(1);
  });

  it("does not let a renewal still in flight take back a lease given up for a hand-off", async () => {
    expect(await claim("r4", "a", "new")).toBe(1);
    expect(await redis.locusYield(keys.owner("r4"), keys.epoch("r4"), "a", 1)).toBe(1);
    expect(await renew("r4", "a", 1)).toBe(0);
    expect(await redis.exists(keys.owner("r4"))).toBe(0);
    expect(await claim("r4", "b", "orphan")).toBe(3);
  });

  it("does not let a renewal still in flight bring a released room back", async () => {
    expect(await claim("r5", "a", "new")).toBe(1);
    expect(await redis.locusRelease(keys.owner("r5"), keys.epoch("r5"), keys.checkpoint("r5"), keys.rooms, "r5", "a", 1)).toBe(1);
    expect(await renew("r5", "a", 1)).toBe(0);
    expect(await redis.sismember(keys.rooms, "r5")).toBe(0);
    // The id is free for a new room at once.
    expect(await claim("r5", "b", "new")).toBeGreaterThan(1);
  });

  it("takes a dead node's room only while that node stays silent", async () => {
    expect(await claim("r6", "a", "new")).toBe(1);
    await redis.set(keys.node("a"), JSON.stringify({ heartbeatAt: 1000 }));
    expect(await claim("r6", "b", "dead", 999)).toBe(0);
    expect(await claim("r6", "b", "dead", 1000)).toBe(2);
    // b beats: a claimer that saw it without a record is too late.
    await redis.set(keys.node("b"), JSON.stringify({ heartbeatAt: 5000 }));
    expect(await claim("r6", "c", "dead", 0)).toBe(0);
  });
});
