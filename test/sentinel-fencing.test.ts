/**
 * Fencing across a Sentinel failover, on real redis-server and sentinel processes, through the
 * ownership module as a node uses it: a claim counts only once a replica holds it, so the
 * replica promoted after the master is SIGKILLed has every claim a node acted on, and a former
 * owner's writes are refused there. The group is password-protected, sentinels included.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SentinelGroup, startSentinelGroup } from "../loadtest/sentinel-group.ts";
import { ClaimNotReplicated, Ownership } from "../server/cluster/ownership.ts";
import { newRedis, type RedisEndpoint } from "../server/cluster/redis-endpoint.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { type ScriptedRedis, withScripts } from "../server/cluster/redis-scripts.ts";
import { loadRedisEndpoint } from "../server/config.ts";

const PASSWORD = "redis-pass-0123456789";
const SENTINEL_PASSWORD = "sentinel-pass-0123456789";

let group: SentinelGroup;
let endpoint: RedisEndpoint;
const connections: Redis[] = [];
/** For the test's own reads and writes, past the scripts. */
let direct: ScriptedRedis;

beforeAll(async () => {
  group = await startSentinelGroup({ password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  endpoint = loadRedisEndpoint(group.env)!;
  direct = connect();
}, 60_000);

afterAll(async () => {
  for (const c of connections) c.disconnect();
  await group?.stop();
});

/** A connection as a node opens one: through the sentinels, following the master. */
function connect(): ScriptedRedis {
  const redis = withScripts(newRedis(endpoint, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) }));
  redis.on("error", () => undefined);
  connections.push(redis);
  return redis;
}

/** Node `nodeId`'s ownership, its claims waiting for a replica as in Sentinel mode. */
function nodeOwnership(nodeId: string): Ownership {
  return new Ownership({ redis: connect(), bad: { report() {} }, nodeId, leaseMs: 5000, replicatedClaims: { redis: connect(), timeoutMs: 1000 } });
}

/** Retries `op` until Redis answers: right after a failover the connection is still finding the new master. */
async function once<T>(op: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("fencing across a Sentinel failover", () => {
  it("refuses a client without the password, and names no password in its error", async () => {
    const anonymous = new Redis({ host: "127.0.0.1", port: (await group.master()).port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on("error", () => undefined);
    connections.push(anonymous);
    await anonymous.connect();
    await expect(anonymous.get("x")).rejects.toThrow(/NOAUTH/);
    const wrong = withScripts(newRedis({ ...endpoint, password: "not-the-password" }, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true }));
    wrong.on("error", () => undefined);
    connections.push(wrong);
    const failure = await wrong.connect().then(() => wrong.get("x")).then(() => "connected", (err: Error) => err.message);
    expect(failure).not.toBe("connected");
    expect(failure).not.toContain("not-the-password");
  });

  it("refuses a claim no replica confirms, and leaves no lease behind it", async () => {
    const replica = group.servers[1]!;
    const c = nodeOwnership("c");
    replica.child.kill("SIGSTOP");
    try {
      await expect(c.claim("f2", "new")).rejects.toBeInstanceOf(ClaimNotReplicated);
    } finally {
      replica.child.kill("SIGCONT");
    }
    expect(await direct.exists(keys.owner("f2"))).toBe(0);
    expect(await c.isLive("f2")).toBe(false);
  }, 30_000);

  it("keeps a confirmed claim through the master's SIGKILL, and refuses the former owner's writes on the new master", async () => {
    const a = nodeOwnership("a");
    const b = nodeOwnership("b");
    const first = (await a.claim("f1", "new"))!;
    expect(await a.writeCheckpoint(first, '{"by":"a"}')).toBe(true);
    // a's lease lapses (as a stalled node's would) and b takes the room over: epoch + 1, confirmed by the replica.
    await direct.del(keys.owner("f1"));
    const taken = (await b.claim("f1", "orphan"))!;
    expect(taken.epoch).toBe(first.epoch + 1);

    // The master dies at once, before anything else is written.
    const old = await group.master();
    old.child.kill("SIGKILL");
    const promoted = await group.failedOver(old, 30_000);
    expect(promoted).not.toBe(old);

    // The promoted replica has b's claim: b renews it and writes, a is refused everywhere.
    expect(await once(() => b.renew([taken]))).toEqual(["renewed"]);
    expect(await once(() => b.writeCheckpoint(taken, '{"by":"b"}'))).toBe(true);
    expect(await once(() => a.renew([first]))).toEqual(["fenced"]);
    expect(await once(() => a.writeCheckpoint(first, '{"by":"a, stale"}'))).toBe(false);
    expect(await once(() => a.appendJournals([{ lease: first, journalId: "zombieid", batch: "[1,1,1,0,[]]" }], 10))).toEqual([false]);
    const [owner] = await once(() => b.ownersOf(["f1"]));
    expect(owner).toEqual({ nodeId: "b", epoch: taken.epoch });
    expect(await once(() => direct.get(keys.checkpoint("f1")))).toBe('{"by":"b"}');
    // A third node claims nothing while b holds the lease, and the next epoch is past b's.
    expect(await once(() => nodeOwnership("c").claim("f1", "orphan"))).toBeUndefined();
  }, 60_000);
});
