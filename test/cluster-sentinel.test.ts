/**
 * A cluster on a password-protected Redis that fails over (a master, two replicas, three
 * sentinels): the master is SIGKILLed mid-game and Sentinel promotes a replica. Leases here are
 * shorter than the failover takes, so every room's lease lapses while Redis is away: the rooms
 * pause and resume under their own epochs, nobody claims them, no player is dropped. Then a node
 * is SIGKILLed and its rooms come back from the new master; and a master dies right after a claim.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { type RedisProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { ADMIN_TOKEN, type SentinelTestCluster, startSentinelCluster } from "./helpers/cluster.ts";

const PASSWORD = "cluster-redis-pass-0123";
/** Shorter than a failover (about 2 to 4 s with the sentinels' 1 s down-after), as a silent node's fast detection wants leases. */
const LEASE_MS = "2000";

interface Player {
  readonly session: ArenaSession;
  /** Times the SDK saw its connection drop. */
  drops: number;
  /** Every node it received state from, in order. */
  readonly nodes: string[];
  /** Wall-clock times (ms) at which its state's tick moved on. */
  readonly ticksAt: number[];
}

const players: Player[] = [];

async function join(cluster: SentinelTestCluster, name: string): Promise<Player> {
  const session = await joinArena({ url: cluster.gateway.url, name });
  const player: Player = { session, drops: 0, nodes: [], ticksAt: [] };
  players.push(player);
  session.room.onDrop(() => void player.drops++);
  let lastTick = -1;
  session.room.onStateChange((state) => {
    if (state.nodeId && player.nodes[player.nodes.length - 1] !== state.nodeId) player.nodes.push(state.nodeId);
    if (state.tick !== lastTick) {
      lastTick = state.tick;
      player.ticksAt.push(Date.now());
    }
  });
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its state`);
  session.stick.x = 1;
  session.run();
  return player;
}

/**
 * Samples which live node lists which room, every 100 ms, and counts the samples in which a room
 * was listed by two nodes at once: two live owners.
 */
function watchOwners(cluster: SentinelTestCluster) {
  let doubles = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const listed = new Map<string, number>();
      for (const node of cluster.nodes.values()) {
        if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
        const res = await fetch(`${node.adminUrl}/admin/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => undefined);
        if (!res?.ok) continue;
        for (const { roomId } of ((await res.json()) as { rooms: { roomId: string }[] }).rooms) listed.set(roomId, (listed.get(roomId) ?? 0) + 1);
      }
      samples++;
      if ([...listed.values()].some((n) => n > 1)) doubles++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { samples, doubles };
    },
  };
}

/** A connection to this server alone (the test's view of one Redis, not through the sentinels). */
function direct(server: RedisProcess): Redis {
  const redis = new Redis({ host: "127.0.0.1", port: server.port, password: PASSWORD, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  return redis;
}

/** The longest wait between two ticks a player saw from `from` on, in ms. */
const longestGap = (p: Player, from: number) => {
  const times = p.ticksAt.filter((t) => t >= from);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
};

/** `event` log lines of every node, as parsed JSON. */
const events = (cluster: SentinelTestCluster, event: string) =>
  [...cluster.nodes.values()].flatMap((n) => n.output().split("\n").filter((l) => l.includes(`"event":"${event}"`)).map((l) => JSON.parse(l) as Record<string, unknown>));

afterEach(async () => {
  await Promise.all(players.splice(0).map((p) => p.session.leave().catch(() => undefined)));
});

describe("the master is SIGKILLed mid-game, then a node", () => {
  let cluster: SentinelTestCluster;
  beforeAll(async () => {
    // Two players a room, so four players make two rooms, one on each node.
    cluster = await startSentinelCluster(2, { ROOM_LEASE_MS: LEASE_MS, MAX_PLAYERS: "2" }, { password: PASSWORD, replicas: 2 });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("drops no player, loses no room, keeps one owner per room, and checkpoints on the new master", async () => {
    for (const name of ["Ada", "Bob", "Cyd", "Dee"]) await join(cluster, name);
    const roomIds = [...new Set(players.map((p) => p.session.room.roomId))];
    const ownerBefore = new Map(players.map((p) => [p.session.room.roomId, p.session.state.nodeId]));
    await new Promise((r) => setTimeout(r, 1500));
    const owners = watchOwners(cluster);

    const old = await cluster.group.master();
    const killedAt = Date.now();
    old.child.kill("SIGKILL");
    const promoted = await cluster.group.failedOver(old, 30_000);
    const promotedAt = Date.now();
    const redis = direct(promoted);
    try {
      // Rooms keep ticking: every player sees its tick move on well past the failover.
      await waitFor(() => players.every((p) => p.ticksAt.filter((t) => t > promotedAt).length > 60), 20_000, () => `ticks after the failover\n${cluster.output()}`);
      // Checkpoints resume on the new master: each room's is newer than the promotion.
      await waitFor(
        async () => {
          for (const id of roomIds) {
            const checkpoint = JSON.parse((await redis.get(keys.checkpoint(id))) ?? "null") as { takenAt: number } | null;
            if (!checkpoint || checkpoint.takenAt <= promotedAt) return false;
          }
          return true;
        },
        10_000,
        () => `checkpoints on the new master\n${cluster.output()}`,
      );
      const { samples, doubles } = await owners.stop();

      const dropped = players.reduce((n, p) => n + p.drops, 0);
      const moved = players.filter((p) => p.nodes.length !== 1).length;
      const live = await redis.smembers(keys.rooms);
      const lost = roomIds.filter((id) => !live.includes(id)).length;
      const ownersNow = await Promise.all(roomIds.map(async (id) => (await redis.get(keys.owner(id)))?.split(" ")[0]));
      const paused = events(cluster, "room_paused").length;
      const pausedMs = events(cluster, "room_resumed").map((e) => e.pausedMs as number);
      const downtime = Math.max(...players.map((p) => longestGap(p, killedAt)));
      console.log(
        `failover: promoted ${promotedAt - killedAt} ms after the kill; players dropped ${dropped}, moved ${moved}, rooms lost ${lost}; ` +
          `two live owners in ${doubles} of ${samples} samples; rooms paused ${paused}, each for ${pausedMs.join(", ")} ms; longest wait between ticks ${downtime} ms`,
      );
      expect(dropped).toBe(0);
      expect(moved).toBe(0);
      expect(lost).toBe(0);
      expect(doubles).toBe(0);
      expect(samples).toBeGreaterThan(10);
      expect(ownersNow).toEqual(roomIds.map((id) => ownerBefore.get(id)));
      expect(events(cluster, "room_fenced")).toEqual([]);
      expect(events(cluster, "room_taken_over")).toEqual([]);
      // Leases shorter than the failover: the rooms did lapse, and came back under their own epochs.
      expect(pausedMs.length).toBe(paused);
    } finally {
      redis.disconnect();
    }
  }, 90_000);

  it("recovers a node SIGKILLed after the failover from the new master", async () => {
    // New rooms wait for a replica to confirm their claims: the one left resyncs to the new master first.
    const master = direct(await cluster.group.master());
    try {
      await waitFor(async () => /^slave\d+:.*state=online/m.test(await master.info("replication")), 30_000, () => "a replica online behind the new master");
    } finally {
      master.disconnect();
    }
    for (const name of ["Eve", "Fay", "Gus", "Hal"]) await join(cluster, name);
    const victim = players[0]!.session.state.nodeId;
    const survivor = [...cluster.nodes.keys()].find((id) => id !== victim)!;
    const moving = players.filter((p) => p.session.state.nodeId === victim);
    const roomIds = [...new Set(players.map((p) => p.session.room.roomId))];
    await new Promise((r) => setTimeout(r, 1500));
    const owners = watchOwners(cluster);
    cluster.node(victim).child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(() => moving.every((p) => p.session.state.nodeId === survivor && p.ticksAt.filter((t) => t > killedAt).length > 30), 20_000, () => `the victim's players on ${survivor}\n${cluster.output()}`);
    const { doubles } = await owners.stop();
    const redis = direct(await cluster.group.master());
    try {
      const live = await redis.smembers(keys.rooms);
      const lost = roomIds.filter((id) => !live.includes(id)).length;
      const ownedBy = await Promise.all(roomIds.map(async (id) => (await redis.get(keys.owner(id)))?.split(" ")[0]));
      await waitFor(
        async () => {
          for (const id of roomIds) {
            const checkpoint = JSON.parse((await redis.get(keys.checkpoint(id))) ?? "null") as { nodeId: string; takenAt: number } | null;
            if (checkpoint?.nodeId !== survivor || checkpoint.takenAt <= killedAt) return false;
          }
          return true;
        },
        10_000,
        () => "the survivor's checkpoints",
      );
      expect(lost).toBe(0);
      expect(doubles).toBe(0);
      expect(ownedBy).toEqual(roomIds.map(() => survivor));
      expect(players.every((p) => p.session.state.players.size === 2)).toBe(true);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

describe("the master dies right after a claim", () => {
  let cluster: SentinelTestCluster;
  beforeAll(async () => {
    cluster = await startSentinelCluster(3, { ROOM_LEASE_MS: LEASE_MS }, { password: PASSWORD, replicas: 2 });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("leaves the room one owner, the claimer or the next, and the player playing", async () => {
    const ida = await join(cluster, "Ida");
    const roomId = ida.session.room.roomId;
    const victim = ida.session.state.nodeId;
    await new Promise((r) => setTimeout(r, 1500));
    const master = await cluster.group.master();
    const redis = direct(master);
    const owners = watchOwners(cluster);
    let claimed: string | undefined;
    try {
      const before = await redis.get(keys.owner(roomId));
      cluster.node(victim).child.kill("SIGKILL");
      // The moment another node's claim lands on the master, the master dies.
      await waitFor(
        async () => {
          const now = await redis.get(keys.owner(roomId));
          if (now && now !== before) claimed = now;
          return claimed !== undefined;
        },
        10_000,
        () => `a claim of ${roomId}`,
      );
      master.child.kill("SIGKILL");
    } finally {
      redis.disconnect();
    }
    const promoted = await cluster.group.failedOver(master, 30_000);
    const after = direct(promoted);
    try {
      await waitFor(() => ida.session.state.nodeId !== victim && ida.ticksAt.filter((t) => t > Date.now() - 1000).length > 20, 20_000, () => `Ida playing on another node\n${cluster.output()}`);
      // Long enough for any second claim to have happened and be seen.
      await new Promise((r) => setTimeout(r, 3000));
      const { doubles, samples } = await owners.stop();
      const owner = await after.get(keys.owner(roomId));
      const takeovers = events(cluster, "room_taken_over").filter((e) => e.room === roomId);
      console.log(`claim then failover: claimed "${claimed}", owner on the new master "${owner}", takeovers ${takeovers.length}, two live owners in ${doubles} of ${samples} samples`);
      expect(doubles).toBe(0);
      expect(owner?.split(" ")[0]).toBe(ida.session.state.nodeId);
      // One node ever ran the room after the victim: a claim a node acted on survived the failover,
      // and one that did not reach a replica in time was given up, not run (its room claimed afresh).
      expect(takeovers.length).toBe(1);
      expect(await after.sismember(keys.rooms, roomId)).toBe(1);
      expect(events(cluster, "room_fenced")).toEqual([]);
    } finally {
      after.disconnect();
    }
  }, 90_000);
});
