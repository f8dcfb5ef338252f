/**
 * The journal's scripts against a real Redis, through the ownership module: one call appends
 * every room's batch, each fenced by its room's epoch; a checkpoint trims what it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ownership } from "../server/cluster/ownership.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import type { ScriptedRedis } from "../server/cluster/redis-scripts.ts";
import { encodeBatch, journalTail } from "../server/durable/journal.ts";
import { startPrivateRedis } from "./helpers/private-redis.ts";

let redis: ScriptedRedis;
let stop: (() => Promise<void>) | undefined;

beforeAll(async () => ({ redis, stop } = await startPrivateRedis()));
afterAll(() => stop?.());

const as = (node: string) => new Ownership({ redis, bad: { report() {} }, nodeId: node, leaseMs: 5000 });
const batch = (first: number, last: number) => encodeBatch(first, last, last, Array.from({ length: last - first + 1 }, (_, i) => `["t",${first + i}]`).join(","));

describe("journal scripts", () => {
  it("appends each room's batch in one call, and refuses a zombie's", async () => {
    const a = as("a");
    const one = (await a.claim("j1", "new"))!;
    const two = (await a.claim("j2", "new"))!;
    expect(await a.appendJournals([{ lease: one, journalId: "id1aaaaa", batch: batch(1, 2) }, { lease: two, journalId: "id2aaaaa", batch: batch(1, 1) }], 100)).toEqual([true, true]);
    // Node b takes j2 over (its owner gone): a's next batch for it is refused, j1's still taken.
    await redis.del(keys.owner("j2"));
    const taken = (await as("b").claim("j2", "orphan"))!;
    expect(taken.epoch).toBeGreaterThan(two.epoch);
    expect(await a.appendJournals([{ lease: one, journalId: "id1aaaaa", batch: batch(3, 3) }, { lease: two, journalId: "id2aaaaa", batch: batch(2, 2) }], 100)).toEqual([true, false]);
    expect((await a.readJournal("j1", "id1aaaaa", 1 << 20)).batches).toEqual([batch(1, 2), batch(3, 3)]);
    expect((await a.readJournal("j2", "id2aaaaa", 1 << 20)).batches).toEqual([batch(1, 1)]);
    expect(await redis.pttl(keys.journal("j1", "id1aaaaa"))).toBeGreaterThan(0);
  });

  it("trims behind a checkpoint and keeps at most the capped number of batches", async () => {
    const a = as("a");
    const lease = (await a.claim("j3", "new"))!;
    for (let i = 1; i <= 5; i++) await a.appendJournals([{ lease, journalId: "id3aaaaa", batch: batch(2 * i - 1, 2 * i) }], 4);
    expect((await a.readJournal("j3", "id3aaaaa", 1 << 20)).batches).toEqual([batch(3, 4), batch(5, 6), batch(7, 8), batch(9, 10)]);
    // A checkpoint holding records up to 7 drops the batches that end at or before it.
    expect(await a.writeCheckpointTrim(lease, "{}", "id3aaaaa", 7)).toBe(true);
    const { batches } = await a.readJournal("j3", "id3aaaaa", 1 << 20);
    expect(batches).toEqual([batch(7, 8), batch(9, 10)]);
    expect(journalTail(batches, { id: "id3aaaaa", seq: 7 }).records).toEqual([["t", 8], ["t", 9], ["t", 10]]);
    expect(await as("z").writeCheckpointTrim(lease, "{}", "id3aaaaa", 100)).toBe(false);
    expect(await a.readJournal("j3", "id3aaaaa", 10)).toEqual({ batches: [], problem: expect.stringContaining("over 10") });
  });
});
