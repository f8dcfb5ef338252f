/**
 * Locus's keys and scripts, and Colyseus's presence and driver, on a real three-master Redis
 * Cluster: each room's keys share one slot, so the scripts that touch one room run there; the ones
 * that touch a global key with a room's are refused, which is why they stay on a plain Redis
 * (docs/deploy.md, "Redis Cluster"). What Colyseus does on a Cluster is measured here too.
 */
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterProcess, startRedisCluster } from "../loadtest/processes.ts";
import { type Lease, Ownership } from "../server/cluster/ownership.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { readBounded, readNodeRecords, withScripts } from "../server/cluster/redis-scripts.ts";
import { encodeBatch } from "../server/durable/journal.ts";

let cluster: RedisClusterProcess;
let client: Cluster;
/** One plain connection to each master, to see where things are. */
let masters: Redis[];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = new Cluster([...cluster.seeds]);
  masters = cluster.seeds.map((s) => new Redis(s.port, s.host));
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  for (const m of masters ?? []) m.disconnect();
  await cluster?.stop();
});

/** The index of the master serving a key's slot. */
async function masterOf(key: string): Promise<number> {
  const slot = Number(await masters[0]!.cluster("KEYSLOT", key));
  const ranges = await masters[0]!.cluster("SLOTS");
  const port = ranges.find(([from, to]) => slot >= from && slot <= to)![2]![1];
  return cluster.seeds.findIndex((s) => s.port === port);
}

const roomIds = Array.from({ length: 12 }, (_, i) => `room${i}x${i * 7}`);
const batch = (seq: number) => encodeBatch(seq, seq, seq, `["t",${seq}]`);

describe("Locus's keys on a Redis Cluster", () => {
  it("puts every key of a room in one slot, and spreads rooms over every master", async () => {
    const used = new Set<number>();
    for (const id of roomIds) {
      const roomKeys = [keys.owner(id), keys.epoch(id), keys.checkpoint(id), keys.journal(id, "jrnlaaaa"), keys.quarantine(id)];
      const slots = await Promise.all(roomKeys.map((k) => masters[0]!.cluster("KEYSLOT", k)));
      expect(new Set(slots).size).toBe(1);
      used.add(await masterOf(keys.owner(id)));
    }
    expect(used.size).toBe(3);
  });

  it("runs the scripts that touch one room: checkpoints, journals, yield, and reads split per room", async () => {
    const redis = withScripts(client);
    const node = new Ownership({ redis, bad: { report() {} }, nodeId: "a", leaseMs: 5000 });
    // Claims need `locus:rooms` and cannot run here (below): the leases are set as a claim leaves them.
    const leases: Lease[] = roomIds.map((roomId) => ({ roomId, epoch: 3 }));
    for (const { roomId } of leases) await client.set(keys.owner(roomId), "a 3", "PX", 60_000);

    expect(await Promise.all(leases.map((l) => node.writeCheckpoint(l, `{"room":"${l.roomId}"}`)))).toEqual(leases.map(() => true));
    const read = await node.readCheckpoints(roomIds, 1000);
    expect(read).toEqual(roomIds.map((id) => ({ status: "ok", text: `{"room":"${id}"}` })));

    // Every room's batch in one appendJournals, rooms on all three masters: one call a room.
    const appends = (seq: number) => leases.map((lease) => ({ lease, journalId: "jrnlaaaa", batch: batch(seq) }));
    expect(await node.appendJournals(appends(1), 100)).toEqual(leases.map(() => true));
    expect(await node.appendJournals(appends(2), 100)).toEqual(leases.map(() => true));
    // A zombie of an older epoch is refused room by room.
    const zombie = new Ownership({ redis, bad: { report() {} }, nodeId: "a", leaseMs: 5000 });
    expect(await zombie.appendJournals([{ lease: { roomId: roomIds[0]!, epoch: 2 }, journalId: "jrnlaaaa", batch: batch(3) }], 100)).toEqual([false]);
    for (const id of roomIds) expect((await node.readJournal(id, "jrnlaaaa", 1 << 20)).batches).toEqual([batch(1), batch(2)]);

    expect(await node.writeCheckpointTrim(leases[0]!, "{}", "jrnlaaaa", 1)).toBe(true);
    expect((await node.readJournal(roomIds[0]!, "jrnlaaaa", 1 << 20)).batches).toEqual([batch(2)]);
    expect(await node.yield(leases[1]!)).toBe(true);
    expect(await client.get(keys.epoch(roomIds[1]!))).toBe("1");
    expect(await client.exists(keys.owner(roomIds[1]!))).toBe(0);
  });

  it("refuses the scripts that touch a global key with a room's: they stay on a plain Redis", async () => {
    const redis = withScripts(client);
    const node = new Ownership({ redis, bad: { report() {} }, nodeId: "b", leaseMs: 5000 });
    const crossSlot = /CROSSSLOT|non local key|slot/i;
    await expect(node.claim("fresh", "new")).rejects.toThrow(crossSlot);
    await expect(node.release({ roomId: roomIds[2]!, epoch: 3 })).rejects.toThrow(crossSlot);
    await expect(node.quarantine({ roomId: roomIds[2]!, epoch: 3 })).rejects.toThrow(crossSlot);
    // ioredis refuses a pipeline whose keys span slots before sending it: the lease keeper's batch never leaves.
    await expect(node.renew([{ roomId: roomIds[3]!, epoch: 3 }])).rejects.toThrow(crossSlot);
    // Node records the script reads by name, on another master than the node set.
    const setMaster = await masterOf(keys.nodes);
    const elsewhere: string[] = [];
    for (let i = 0; elsewhere.length < 2; i++) if ((await masterOf(keys.node(`n${i}`))) !== setMaster) elsewhere.push(`n${i}`);
    for (const id of elsewhere) await client.set(keys.node(id), "{}");
    await client.sadd(keys.nodes, ...elsewhere);
    await expect(readNodeRecords(redis, keys.nodes, keys.node(""), 64, 4096)).rejects.toThrow(crossSlot);
    // Nothing was half done: the room kept its lease and checkpoint.
    expect(await client.get(keys.owner(roomIds[2]!))).toBe("a 3");
    expect(await readBounded(redis, [keys.checkpoint(roomIds[2]!)], 1000)).toEqual([{ status: "ok", text: `{"room":"${roomIds[2]}"}` }]);
  });
});

describe("Colyseus's presence and driver on a Redis Cluster", () => {
  it("delivers pub/sub across masters, but PUBSUB CHANNELS sees one master's subscribers only", async () => {
    const a = new RedisPresence([...cluster.seeds]);
    const b = new RedisPresence([...cluster.seeds]);
    try {
      const got: unknown[] = [];
      // Colyseus's IPC: every process listens on `p:{processId}`.
      const topics = ["p:proc1", "p:proc2", "p:proc3", "p:proc4"];
      for (const t of topics) await a.subscribe(t, (data: unknown) => got.push(data));
      for (const t of topics) await b.publish(t, { to: t });
      await expect.poll(() => got.length, { timeout: 5000 }).toBe(topics.length);

      // Each master answers for its own subscribers: the ones a listing asks elsewhere are missing.
      const perMaster = await Promise.all(masters.map((m) => m.pubsub("CHANNELS", "p:*") as Promise<string[]>));
      expect(perMaster.filter((c) => c.length > 0)).toHaveLength(1);
      expect(perMaster.flat().sort()).toEqual(topics);
    } finally {
      a.shutdown();
      b.shutdown();
    }
  });

  it("keeps every room listing in one hash on one master", async () => {
    const driver = new RedisDriver([...cluster.seeds]);
    try {
      const listings = Array.from({ length: 20 }, (_, i) => ({ roomId: `listed${i}`, name: "arena", processId: `proc${i % 3}`, clients: 0, maxClients: 10, locked: false, unlisted: false, private: false }));
      for (const l of listings) await driver.persist(l as never);
      expect((await driver.query({ name: "arena" })).length).toBe(listings.length);
      // The whole hash is one key: one master holds every listing, and every query reads it from there.
      expect(await masters[await masterOf("roomcaches")]!.hlen("roomcaches")).toBe(listings.length);
    } finally {
      await driver.shutdown();
    }
  });
});
