/**
 * How many nodes one Redis holds. A real node with lean bots is measured first, beside a simulated
 * node of the same rooms (simulated-node.ts: the real cluster modules over synthetic rooms), which
 * calibrates the simulation and shows what Colyseus's presence and driver add; then clusters of N
 * simulated nodes at the players one node holds are measured from Redis's side: commands, bytes
 * and CPU, each N in every round, the order reversed every other round. One process imitates only
 * a few nodes, so the part that grows with the square of the nodes, every node's orphan scan
 * reading every room, is measured on its own over a large cluster's rooms. Last, one node's input
 * journal on a plain Redis (one call a tick) beside a three-master Redis Cluster (one call a room
 * a tick).
 */
import { Cluster, Redis } from "ioredis";
import { pino } from "pino";
import { Crowd, SETTLE_MS } from "./crowd.ts";
import { cpuSeconds } from "./process-cpu.ts";
import { BENCH_TOKEN, ROOM_SIZE, TICK_HZ } from "./capacity.ts";
import { locusProbe } from "./server-probe.ts";
import { listeningAddress, type RoomShape, SimulatedNode } from "./simulated-node.ts";
import { NODE_HEARTBEAT_MS, NODE_TTL_MS } from "../../server/cluster/cluster-mode.ts";
import { startHeartbeat } from "../../server/cluster/node-registry.ts";
import { LoopDelay } from "../loop-delay.ts";
import { startNodeProcess, startRedis, startRedisCluster, type RedisProcess } from "../processes.ts";
import { JournalWriter } from "../../server/cluster/journal-writer.ts";
import { createNodeMetrics } from "../../server/metrics.ts";
import { OwnedRoom } from "../../server/cluster/owned-room.ts";
import { Ownership } from "../../server/cluster/ownership.ts";
import { RecoveryFailures } from "../../server/cluster/recovery-failures.ts";
import { keys } from "../../server/cluster/redis-keys.ts";
import { type ScriptedRedis, withScripts } from "../../server/cluster/redis-scripts.ts";
import type { HostedRoom } from "../../server/durable/room-host.ts";

/** What Redis did in one window, per second. */
export interface RedisTraffic {
  readonly seconds: number;
  /** Commands Redis ran, those the scripts ran included (INFO stats). */
  readonly commands: number;
  /** Commands the nodes sent, counted where they were sent: simulated nodes only. */
  readonly requests: number | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Redis's CPU, percent of one core. */
  readonly cpuPercent: number;
  /** Calls per second of each command, the scripts' own included (INFO commandstats). */
  readonly byCommand: Readonly<Record<string, number>>;
}

export interface SizingPoint {
  readonly nodes: number;
  readonly traffic: RedisTraffic;
  /** The simulating process's event-loop delay p99: past a few ms, the nodes it imitates fall behind. */
  readonly simLoopP99Ms: number;
  /** Rooms a simulated node's orphan watch took for orphans: 0 unless the simulation fell behind. */
  readonly takeovers: number;
  /** Steps all rooms took a second: rooms × the tick rate while the simulation keeps up. */
  readonly roomTicksPerSecond: number;
  /** Journal writes a second, all nodes together. */
  readonly journalWritesPerSecond: number;
}

/** What one orphan scan costs Redis, measured over a cluster's worth of rooms. */
export interface ScanCost {
  readonly rooms: number;
  readonly watchers: number;
  /** Scans a second the watchers made together. */
  readonly scansPerSecond: number[];
  /** Redis CPU with the watchers scanning, and without (the rooms' holder beating alone), a window each per round. */
  readonly withCpu: number[];
  readonly withoutCpu: number[];
  /** Redis CPU seconds one scan costs per room it reads. */
  readonly perRoomScanUs: number;
}

export interface RedisSizingRun {
  readonly calibration: {
    readonly players: number;
    readonly rooms: number;
    readonly real: RedisTraffic;
    readonly simulated: RedisTraffic;
    /** Steps the rooms took a second. */
    readonly realRoomTicks: number;
    readonly simulatedRoomTicks: number;
    /**
     * Journal writes a second: one a tick on a node with CPU to spare; a node short of CPU runs its
     * writer's timer late and sends several ticks' records a write. The simulated node is run at the
     * real one's rate, so the two make the same writes.
     */
    readonly realJournalWrites: number;
    readonly simulatedJournalWrites: number;
    readonly checkpointBytes: number;
  };
  readonly playersPerNode: number;
  /** Per node count, one point a round. */
  readonly points: ReadonlyMap<number, SizingPoint[]>;
  readonly scan: ScanCost;
  readonly journal: { readonly rooms: number; readonly plain: RedisTraffic[]; readonly cluster: RedisTraffic[] };
}

export interface RedisSizingOptions {
  readonly calibrationPlayers: number;
  readonly playersPerNode: number;
  readonly nodeCounts: readonly number[];
  readonly seconds: number;
  readonly rounds: number;
  /** The scan cost is measured over the rooms of this many nodes. */
  readonly scanNodes: number;
  /** Where Redis runs (taskset list); the simulation runs where this process is pinned. */
  readonly redisCpus: string | undefined;
}

interface Snapshot {
  readonly at: number;
  readonly cpu: number;
  readonly commands: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly byCommand: Map<string, number>;
}

async function snapshot(redis: Redis, pid: number): Promise<Snapshot> {
  const [stats, commandStats] = await Promise.all([redis.info("stats"), redis.info("commandstats")]);
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(stats)?.[1] ?? 0);
  const byCommand = new Map<string, number>();
  for (const m of commandStats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand.set(m[1]!, Number(m[2]));
  return { at: performance.now(), cpu: cpuSeconds(pid), commands: field("total_commands_processed"), bytesIn: field("total_net_input_bytes"), bytesOut: field("total_net_output_bytes"), byCommand };
}

/** Sums the windows of several Redis processes (a Cluster's masters) into one, CPU as the sum of their cores' percents. */
function traffic(before: readonly Snapshot[], after: readonly Snapshot[], requests: number | undefined): RedisTraffic {
  const seconds = (after[0]!.at - before[0]!.at) / 1000;
  const sum = (pick: (s: Snapshot) => number) => after.reduce((n, a, i) => n + pick(a) - pick(before[i]!), 0) / seconds;
  const byCommand: Record<string, number> = {};
  after.forEach((a, i) => {
    for (const [cmd, calls] of a.byCommand) byCommand[cmd] = (byCommand[cmd] ?? 0) + (calls - (before[i]!.byCommand.get(cmd) ?? 0)) / seconds;
  });
  return {
    seconds,
    commands: sum((s) => s.commands),
    requests: requests === undefined ? undefined : requests / seconds,
    bytesIn: sum((s) => s.bytesIn),
    bytesOut: sum((s) => s.bytesOut),
    cpuPercent: sum((s) => s.cpu) * 100,
    byCommand,
  };
}

/** Measures Redis for `seconds` as it is; `requests` counts what the simulated nodes did (sent, or scanned), where they count it. */
async function window(servers: readonly RedisProcess[], seconds: number, requests: () => number | undefined): Promise<RedisTraffic> {
  const clients = servers.map((s) => new Redis(s.port, "127.0.0.1"));
  try {
    const before = await Promise.all(servers.map((s, i) => snapshot(clients[i]!, s.child.pid!)));
    const sent0 = requests();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await Promise.all(servers.map((s, i) => snapshot(clients[i]!, s.child.pid!)));
    const sent1 = requests();
    return traffic(before, after, sent0 === undefined || sent1 === undefined ? undefined : sent1 - sent0);
  } finally {
    for (const c of clients) c.disconnect();
  }
}

/** N simulated nodes of `roomsPerNode` rooms on one fresh Redis, measured once they have settled. */
async function simulatedCluster(nodes: number, roomsPerNode: number, shape: RoomShape, seconds: number, redisCpus: string | undefined): Promise<SizingPoint> {
  const redis = await startRedis({ cpus: redisCpus });
  const listener = await listeningAddress();
  const sims = Array.from({ length: nodes }, (_, i) => new SimulatedNode(redis.redisUrl, `sim${i}`, shape));
  try {
    await Promise.all(sims.map((s) => s.start(roomsPerNode, listener.address)));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loop = new LoopDelay(5);
    const roomTicks = () => sims.reduce((n, s) => n + s.roomTicks, 0);
    const journalWrites = async () => (await Promise.all(sims.map((s) => s.journalWrites()))).reduce((a, b) => a + b, 0);
    const ticks0 = roomTicks();
    const writes0 = await journalWrites();
    const t = await window([redis], seconds, () => sims.reduce((n, s) => n + s.requests, 0));
    const roomTicksPerSecond = (roomTicks() - ticks0) / t.seconds;
    const journalWritesPerSecond = ((await journalWrites()) - writes0) / t.seconds;
    loop.stop();
    return { nodes, traffic: t, simLoopP99Ms: loop.p99Ms(), takeovers: sims.reduce((n, s) => n + s.takeovers, 0), roomTicksPerSecond, journalWritesPerSecond };
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    listener.close();
    await redis.stop();
  }
}

/**
 * The orphan scan alone: `rooms` rooms held under long leases by a node that only beats, and
 * `watchers` simulated nodes of no rooms of their own, whose orphan watches read every one of them
 * four times a second, measured against the holder beating alone, in alternating windows.
 */
async function scanCost(rooms: number, watchers: number, seconds: number, rounds: number, shape: RoomShape, redisCpus: string | undefined): Promise<ScanCost> {
  const redis = await startRedis({ cpus: redisCpus });
  const listener = await listeningAddress();
  const log = pino({ level: "error" });
  const client = withScripts(new Redis(redis.redisUrl));
  const holder = new Ownership({ redis: client, bad: { report: () => undefined }, nodeId: "holder", leaseMs: 3_600_000 });
  const heartbeat = startHeartbeat(client, {
    intervalMs: NODE_HEARTBEAT_MS,
    ttlMs: NODE_TTL_MS,
    record: () => ({ nodeId: "holder", address: listener.address, processId: "holder", state: "ready", players: rooms * shape.playersPerRoom, rooms, pid: process.pid }),
    onBeat: () => undefined,
    onError: (err) => log.error({ err }, "holder heartbeat failed"),
  });
  const result = { rooms, watchers, scansPerSecond: [] as number[], withCpu: [] as number[], withoutCpu: [] as number[] };
  try {
    for (let i = 0; i < rooms; i++) await holder.claim(`held${i}`, "new");
    for (let round = 0; round < rounds; round++) {
      for (const scanning of round % 2 === 0 ? [false, true] : [true, false]) {
        const sims = scanning ? Array.from({ length: watchers }, (_, i) => new SimulatedNode(redis.redisUrl, `watch${i}`, shape)) : [];
        try {
          await Promise.all(sims.map((s) => s.start(0, listener.address)));
          await new Promise((r) => setTimeout(r, 1000));
          const t = await window([redis], seconds, () => sims.reduce((n, s) => n + s.scans, 0));
          if (scanning) {
            result.withCpu.push(t.cpuPercent);
            result.scansPerSecond.push(t.requests!);
          } else {
            result.withoutCpu.push(t.cpuPercent);
          }
        } finally {
          await Promise.all(sims.map((s) => s.stop()));
        }
      }
    }
  } finally {
    await heartbeat.stop();
    client.disconnect();
    listener.close();
    await redis.stop();
  }
  const extraCpuSeconds = (mean(result.withCpu) - mean(result.withoutCpu)) / 100;
  return { ...result, perRoomScanUs: (extraCpuSeconds / (mean(result.scansPerSecond) * rooms)) * 1e6 };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** A real node with lean bots, then a simulated node of the same rooms, each on a fresh Redis. */
async function calibrate(players: number, seconds: number, redisCpus: string | undefined): Promise<RedisSizingRun["calibration"]> {
  const rooms = Math.ceil(players / ROOM_SIZE);
  const redis = await startRedis({ cpus: redisCpus });
  let real: RedisTraffic;
  let realRoomTicks: number;
  let realJournalWrites: number;
  let checkpointBytes: number;
  try {
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: "sizing", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn" }, { cpus: redisCpus });
    const crowd = new Crowd(node.url);
    try {
      await crowd.growTo(players);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const probe = locusProbe(node.adminUrl, node.child.pid!);
      await probe.start();
      real = await window([redis], seconds, () => undefined);
      const server = await probe.finish();
      realRoomTicks = server.ticks / real.seconds;
      realJournalWrites = (server.journal?.writes ?? 0) / real.seconds;
      checkpointBytes = server.checkpoints && server.checkpoints.count > 0 ? server.checkpoints.bytes / server.checkpoints.count : 3200;
    } finally {
      crowd.close();
      await node.stop();
    }
  } finally {
    await redis.stop();
  }
  const journalFlushMs = Math.max(1000 / TICK_HZ, 1000 / Math.max(1, realJournalWrites));
  const sim = await simulatedCluster(1, rooms, { playersPerRoom: ROOM_SIZE, checkpointBytes, tickHz: TICK_HZ, journalFlushMs }, seconds, redisCpus);
  return {
    players,
    rooms,
    real,
    simulated: sim.traffic,
    realRoomTicks,
    simulatedRoomTicks: sim.roomTicksPerSecond,
    realJournalWrites,
    simulatedJournalWrites: sim.journalWritesPerSecond,
    checkpointBytes,
  };
}

/** A room the journal writer writes for, recording the arena's step record. */
function journalRoom(roomId: string): HostedRoom {
  const fail = () => {
    throw new Error("the journal measurement takes no checkpoints");
  };
  return { roomId, playerCount: ROOM_SIZE, checkpoint: fail, freeze: fail, fence: () => undefined, pause: () => undefined, unpause: () => undefined };
}

/**
 * One node's input journal alone, `rooms` rooms at the tick rate, through the real JournalWriter
 * and ownership.appendJournals on `redis`: one call a tick on a plain Redis, one a room a tick on
 * a Cluster. The leases are set as a claim leaves them (claims do not run on a Cluster).
 */
async function journalOnly(redis: ScriptedRedis, servers: readonly RedisProcess[], rooms: number, seconds: number): Promise<RedisTraffic> {
  const log = pino({ level: "error" });
  const ownership = new Ownership({ redis, bad: { report: () => undefined }, nodeId: "journal", leaseMs: 60_000 });
  const entries = new Map<HostedRoom, OwnedRoom>();
  for (let i = 0; i < rooms; i++) {
    const room = journalRoom(`j${i}`);
    await redis.set(keys.owner(room.roomId), "journal 1", "PX", 600_000);
    entries.set(room, new OwnedRoom(room, { roomId: room.roomId, epoch: 1 }));
  }
  const writer = new JournalWriter({
    ownership,
    flushMs: 1000 / TICK_HZ,
    checkpointMs: 1000,
    metrics: createNodeMetrics({ node: "journal" }),
    log,
    failures: new RecoveryFailures(log, () => undefined),
    ownedEntry: (room) => entries.get(room),
  });
  let seq = 0;
  const record = ["t", 1 / TICK_HZ, Buffer.alloc(ROOM_SIZE * 8).toString("base64")];
  const ticker = setInterval(() => {
    seq++;
    for (const room of entries.keys()) writer.record(room, "jrnlaaaa", seq, seq, record);
  }, 1000 / TICK_HZ);
  writer.start();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    return await window(servers, seconds, () => undefined);
  } finally {
    clearInterval(ticker);
    writer.stop();
  }
}

export async function measureRedisSizing(o: RedisSizingOptions, progress: (line: string) => void): Promise<RedisSizingRun> {
  const calibration = await calibrate(o.calibrationPlayers, o.seconds, o.redisCpus);
  progress(
    `redis-sizing: calibration at ${o.calibrationPlayers} players: real node ${calibration.realRoomTicks.toFixed(0)} room ticks/s, ${calibration.realJournalWrites.toFixed(1)} journal writes/s, ${calibration.real.commands.toFixed(0)} commands/s, ${calibration.real.cpuPercent.toFixed(1)} % Redis CPU; simulated ${calibration.simulatedRoomTicks.toFixed(0)}, ${calibration.simulatedJournalWrites.toFixed(1)}, ${calibration.simulated.commands.toFixed(0)}, ${calibration.simulated.cpuPercent.toFixed(1)} %`,
  );
  const roomsPerNode = Math.ceil(o.playersPerNode / ROOM_SIZE);
  const shape: RoomShape = { playersPerRoom: ROOM_SIZE, checkpointBytes: calibration.checkpointBytes, tickHz: TICK_HZ, journalFlushMs: 1000 / TICK_HZ };
  const points = new Map<number, SizingPoint[]>(o.nodeCounts.map((n) => [n, []]));
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? [...o.nodeCounts] : [...o.nodeCounts].reverse();
    for (const n of order) {
      const point = await simulatedCluster(n, roomsPerNode, shape, o.seconds, o.redisCpus);
      points.get(n)!.push(point);
      progress(`redis-sizing: ${n} nodes, round ${round + 1}: ${point.roomTicksPerSecond.toFixed(0)} room ticks/s, ${point.traffic.commands.toFixed(0)} commands/s, ${point.traffic.cpuPercent.toFixed(1)} % Redis CPU, simulation loop p99 ${point.simLoopP99Ms.toFixed(1)} ms`);
    }
  }
  const scan = await scanCost(roomsPerNode * o.scanNodes, 2, o.seconds, o.rounds, shape, o.redisCpus);
  progress(`redis-sizing: orphan scans over ${scan.rooms} rooms: ${scan.perRoomScanUs.toFixed(2)} µs of Redis CPU per room read`);
  const journal = { rooms: roomsPerNode, plain: [] as RedisTraffic[], cluster: [] as RedisTraffic[] };
  for (let round = 0; round < o.rounds; round++) {
    for (const kind of round % 2 === 0 ? (["plain", "cluster"] as const) : (["cluster", "plain"] as const)) {
      if (kind === "plain") {
        const redis = await startRedis({ cpus: o.redisCpus });
        const client = withScripts(new Redis(redis.redisUrl));
        try {
          journal.plain.push(await journalOnly(client, [redis], roomsPerNode, o.seconds));
        } finally {
          client.disconnect();
          await redis.stop();
        }
      } else {
        const cluster = await startRedisCluster(3, { cpus: o.redisCpus });
        const client = withScripts(new Cluster([...cluster.seeds]));
        try {
          journal.cluster.push(await journalOnly(client, cluster.masters, roomsPerNode, o.seconds));
        } finally {
          client.disconnect();
          await cluster.stop();
        }
      }
      const last = journal[kind].at(-1)!;
      progress(`redis-sizing: journal of ${roomsPerNode} rooms on ${kind === "plain" ? "a plain Redis" : "a 3-master Cluster"}: ${last.commands.toFixed(0)} commands/s, ${last.cpuPercent.toFixed(1)} % CPU`);
    }
  }
  return { calibration, playersPerNode: o.playersPerNode, points, scan, journal };
}
