/**
 * The ownership scripts against a real Redis, through the ownership module that alone calls
 * them: what each refuses is what keeps a room from having two owners.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BadRecordSink } from "../server/cluster/bad-records.ts";
import { Ownership } from "../server/cluster/ownership.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { readBounded, readNodeRecords, type ScriptedRedis } from "../server/cluster/redis-scripts.ts";
import { startPrivateRedis } from "./helpers/private-redis.ts";

let redis: ScriptedRedis;
let stop: (() => Promise<void>) | undefined;

beforeAll(async () => ({ redis, stop } = await startPrivateRedis()));
afterAll(() => stop?.());

const badKeys: string[] = [];
const bad: BadRecordSink = { report: (_kind, key) => void badKeys.push(key) };
const as = (node: string) => new Ownership({ redis, bad, nodeId: node, leaseMs: 5000 });
/** The epoch won, or 0 when refused. */
const claim = async (room: string, node: string, mode: "new" | "orphan" | "dead", seen = 0) => (await as(node).claim(room, mode, seen))?.epoch ?? 0;
const renew = async (room: string, node: string, epoch: number) => (await as(node).renew([{ roomId: room, epoch }]))[0];
const write = (room: string, node: string, epoch: number) => as(node).writeCheckpoint({ roomId: room, epoch }, "{}");

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
    expect(await renew("r2", "a", 1)).toBe("fenced");
    expect(await write("r2", "a", 1)).toBe(false);
    expect(await write("r2", "b", 2)).toBe(true);
  });

  it("takes a lease back after a Redis restart, when nobody claimed since", async () => {
    expect(await claim("r3", "a", "new")).toBe(1);
    await redis.del(keys.owner("r3"), keys.epoch("r3"));
    await redis.srem(keys.rooms, "r3");
    expect(await renew("r3", "a", 1)).toBe("renewed");
    expect(await redis.get(keys.owner("r3"))).toBe("a 1");
    expect(await redis.sismember(keys.rooms, "r3")).toBe(1);
  });

  it("does not let a renewal still in flight take back a lease given up for a hand-off", async () => {
    expect(await claim("r4", "a", "new")).toBe(1);
    expect(await as("a").yield({ roomId: "r4", epoch: 1 })).toBe(true);
    expect(await renew("r4", "a", 1)).toBe("fenced");
    expect(await redis.exists(keys.owner("r4"))).toBe(0);
    expect(await claim("r4", "b", "orphan")).toBe(3);
  });

  it("does not let a renewal still in flight bring a released room back", async () => {
    expect(await claim("r5", "a", "new")).toBe(1);
    expect(await as("a").release({ roomId: "r5", epoch: 1 })).toBe(true);
    expect(await renew("r5", "a", 1)).toBe("fenced");
    expect(await redis.sismember(keys.rooms, "r5")).toBe(0);
    // Nor a scan that listed the room before it was released: it has ended.
    expect(await claim("r5", "b", "orphan")).toBe(0);
    expect(await claim("r5", "b", "dead", 0)).toBe(0);
    expect(await redis.exists(keys.owner("r5"))).toBe(0);
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

  it("reads no owner in a lease that is not one, so the room can be claimed and its owner takes it back", async () => {
    expect(await claim("r7", "a", "new")).toBe(1);
    await redis.set(keys.owner("r7"), "garbage");
    expect(await claim("r7", "b", "orphan")).toBe(2);
    expect(await redis.get(keys.owner("r7"))).toBe("b 2");
    // The same for a lease of the wrong type, and the owner whose lease was spoilt renews it back.
    expect(await claim("r8", "a", "new")).toBe(1);
    await redis.del(keys.owner("r8"));
    await redis.hset(keys.owner("r8"), "x", "1");
    expect(await renew("r8", "a", 1)).toBe("renewed");
    expect(await redis.get(keys.owner("r8"))).toBe("a 1");
    expect(badKeys).toContain(keys.owner("r8"));
  });

  it("claims a dead node's room whose record is junk, as its readers see no heartbeat there", async () => {
    expect(await claim("r9", "z", "new")).toBe(1);
    await redis.set(keys.node("z"), "{not json");
    expect(await claim("r9", "b", "dead", 0)).toBe(2);
    expect(await claim("r10", "y", "new")).toBe(1);
    await redis.set(keys.node("y"), JSON.stringify({ heartbeatAt: 7, pad: "x".repeat(5000) }));
    expect(await claim("r10", "b", "dead", 0)).toBe(2);
  });

  it("quarantines a checkpoint once: kept aside with a TTL, the room released, the epoch left one past", async () => {
    expect(await claim("q1", "a", "new")).toBe(1);
    await redis.set(keys.checkpoint("q1"), "spoilt");
    const quarantine = async (node: string, epoch: number) => (await as(node).quarantine({ roomId: "q1", epoch })).released;
    expect(await quarantine("b", 1)).toBe(false);
    expect(await quarantine("a", 1)).toBe(true);
    expect(await redis.get(keys.quarantine("q1"))).toBe("spoilt");
    expect(await redis.pttl(keys.quarantine("q1"))).toBeGreaterThan(50_000);
    expect(await redis.exists(keys.checkpoint("q1"), keys.owner("q1"))).toBe(0);
    expect(await redis.sismember(keys.rooms, "q1")).toBe(0);
    expect(await redis.get(keys.epoch("q1"))).toBe("2");
  });

  it("reads values only up to a size, and says what it did not read", async () => {
    await redis.set("b:small", "hello");
    await redis.set("b:big", "x".repeat(1000));
    await redis.hset("b:hash", "f", "v");
    expect(await readBounded(redis, ["b:small", "b:big", "b:hash", "b:none"], 100)).toEqual([
      { status: "ok", text: "hello" },
      { status: "too_large", bytes: 1000 },
      { status: "wrong_type", type: "hash" },
      { status: "missing" },
    ]);
  });

  it("reads the node set bounded, and drops only the members whose record lapsed", async () => {
    await redis.sadd("t:nodes", "ok", "gone", "big", "x".repeat(100));
    await redis.set("t:node:ok", "{}");
    await redis.set("t:node:big", "y".repeat(500));
    const rows = await readNodeRecords(redis, "t:nodes", "t:node:", 64, 100);
    expect(rows.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "big", record: { status: "too_large", bytes: 500 } },
      { id: "ok", record: { status: "ok", text: "{}" } },
      { id: "x".repeat(64), record: { status: "bad_id", bytes: 100 } },
    ]);
    expect((await redis.smembers("t:nodes")).sort()).toEqual(["big", "ok", "x".repeat(100)]);
  });
});
