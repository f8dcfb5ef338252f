/**
 * A node that goes silent without dying, and a node that only stalls. A local cluster (Redis,
 * three nodes, a gateway) with full bots spread over its rooms, at a given ROOM_LEASE_MS.
 * First the node holding the most bots is frozen with SIGSTOP (its port still accepts, so no probe
 * finds it dead), again and again: how long until its rooms are claimed elsewhere (the ownership
 * announcement) and until each of its bots has state from the new node; then it is woken, and
 * what it wrote under the leases it lost (nothing, or its writes would be refused) and whether any
 * room ran on two nodes are counted. Then the busiest node's event loop is blocked (500 ms by
 * default, STALL_ON_SIGUSR2_MS), again and again, and every room that changed hands is a false
 * takeover.
 */
import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { FullBot } from "../full-bot.ts";
import { type NodeProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../processes.ts";
import { percentile } from "../report.ts";
import { channels, keys, type OwnershipChange } from "../../server/cluster/redis-keys.ts";
import { BENCH_TOKEN } from "./capacity.ts";

export const SILENT_RECOVERY_LIMIT_MS = 15_000;
/** After a stall, long enough for every lease to have lapsed had its renewal been lost. */
export const AFTER_STALL_MS = 2000;

export interface StopResult {
  readonly node: string;
  readonly rooms: number;
  readonly bots: number;
  /** Per room: from the SIGSTOP to its new owner's announcement on `locus:ownership`. */
  readonly detectedMs: number[];
  /** Per bot: from the SIGSTOP to its first state from the room's new node. */
  readonly recoveredMs: number[];
  readonly failed: number;
  /** Writes the woken node sent under a lease it had lost, and Redis refused (checkpoints, renewals, journal batches). */
  readonly staleWrites: number;
  /** Rooms that two nodes ran at once, once the woken node had settled. */
  readonly doubleOwned: number;
}

export interface StallResult {
  readonly node: string;
  readonly rooms: number;
  readonly bots: number;
  /** How long the loop was blocked, as the node logged it. */
  readonly stalledMs: number;
  /** Rooms of the stalled node whose epoch moved on: claimed by another node. */
  readonly takeovers: number;
  /** Rooms the stalled node no longer runs afterwards (it fenced them, or lost them to another node). */
  readonly roomsLost: number;
  readonly botsMoved: number;
}

export interface SilentNodeRun {
  readonly leaseMs: number;
  readonly stallMs: number;
  readonly stops: StopResult[];
  readonly stalls: StallResult[];
  /** The machine's 1-minute load average at the start and at the end. */
  readonly load: readonly [number, number];
}

export interface SilentNodeOptions {
  readonly stops: number;
  readonly stalls: number;
  readonly bots: number;
  readonly roomSize: number;
  readonly cpus: string | undefined;
  /** ROOM_LEASE_MS of every node. */
  readonly leaseMs: number;
  /** How long each stall blocks the event loop. */
  readonly stallMs: number;
}

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text().catch(() => "");
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

async function staleWritesOf(node: NodeProcess): Promise<number> {
  return (await metric(node, "locus_fenced_writes_total")) + (await metric(node, "locus_journal_refused_total"));
}

async function roomsOf(node: NodeProcess): Promise<string[]> {
  const res = await fetch(`${node.adminUrl}/admin/status`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  return ((await res.json()) as { rooms: { roomId: string }[] }).rooms.map((r) => r.roomId);
}

function count(node: NodeProcess, event: string): number {
  return node.output().split(`"event":"${event}"`).length - 1;
}

/** The busiest node by the bots' own view, and its bots. */
function busiest(bots: readonly FullBot[]): [string, FullBot[]] {
  const byNode = new Map<string, FullBot[]>();
  for (const b of bots) byNode.set(b.session.state.nodeId, [...(byNode.get(b.session.state.nodeId) ?? []), b]);
  return [...byNode].sort((a, b) => b[1].length - a[1].length)[0]!;
}

export async function measureSilentNode(o: SilentNodeOptions, progress: (line: string) => void): Promise<SilentNodeRun> {
  const loadBefore = loadavg()[0]!;
  const redisProcess = await startRedis({ cpus: o.cpus });
  const everything: RunningProcess[] = [redisProcess];
  const nodes = new Map<string, NodeProcess>();
  const bots: FullBot[] = [];
  const redis = new Redis(redisProcess.redisUrl);
  const subscriber = new Redis(redisProcess.redisUrl);
  const stops: StopResult[] = [];
  const stalls: StallResult[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      const env = { REDIS_URL: redisProcess.redisUrl, NODE_ID: `n${i}`, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(o.roomSize), LOG_LEVEL: "warn", ROOM_LEASE_MS: String(o.leaseMs), STALL_ON_SIGUSR2_MS: String(o.stallMs) };
      const node = await startNodeProcess(env, { cpus: o.cpus });
      nodes.set(`n${i}`, node);
      everything.push(node);
    }
    const gateway = await startGatewayProcess({ REDIS_URL: redisProcess.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    let onOwnership: (change: OwnershipChange) => void = () => undefined;
    await subscriber.subscribe(channels.ownership);
    subscriber.on("message", (_channel: string, message: string) => onOwnership(JSON.parse(message) as OwnershipChange));
    for (let i = 0; i < o.bots; i++) bots.push(await FullBot.join(gateway.url, `bot${i}`));
    await waitFor(() => bots.every((b) => b.session.state?.nodeId), 10_000, () => "every bot has state");

    for (let k = 1; k <= o.stops; k++) {
      const [victimId, victims] = busiest(bots);
      const victim = nodes.get(victimId)!;
      const roomIds = new Set(victims.map((b) => b.session.room.roomId));
      const detectedMs: number[] = [];
      const recoveredMs: number[] = [];
      const pending = new Set(victims);
      const staleBefore = await staleWritesOf(victim);
      onOwnership = (change) => {
        if (roomIds.delete(change.roomId)) detectedMs.push(performance.now() - stoppedAt);
      };
      const listeners = victims.map((b) => {
        const listener = () => {
          if (!pending.has(b) || b.session.state.nodeId === victimId) return;
          pending.delete(b);
          recoveredMs.push(performance.now() - stoppedAt);
        };
        b.session.room.onStateChange(listener);
        return () => b.session.room.onStateChange.remove(listener);
      });
      const rooms = roomIds.size;
      const stoppedAt = performance.now();
      victim.child.kill("SIGSTOP");
      try {
        await waitFor(() => pending.size === 0, SILENT_RECOVERY_LIMIT_MS).catch(() => undefined);
      } finally {
        victim.child.kill("SIGCONT");
      }
      for (const off of listeners) off();
      // Woken, the node fences what it lost and disposes of it.
      await waitFor(async () => (await roomsOf(victim)).length === 0, 10_000).catch(() => undefined);
      let doubleOwned = 0;
      const held = await Promise.all([...nodes.values()].map(roomsOf));
      for (const id of await redis.smembers(keys.rooms)) if (held.filter((ids) => ids.includes(id)).length > 1) doubleOwned++;
      const result: StopResult = {
        node: victimId,
        rooms,
        bots: victims.length,
        detectedMs,
        recoveredMs,
        failed: pending.size,
        staleWrites: (await staleWritesOf(victim)) - staleBefore,
        doubleOwned,
      };
      stops.push(result);
      progress(
        `SIGSTOP ${k}/${o.stops}: ${victimId} with ${rooms} rooms, ${result.bots} bots: claimed p50 ${percentile(detectedMs, 0.5).toFixed(0)} ms, bots back p50 ${percentile(recoveredMs, 0.5).toFixed(0)} ms, max ${Math.max(...recoveredMs).toFixed(0)} ms${result.failed ? `, ${result.failed} NOT RECOVERED` : ""}; stale writes ${result.staleWrites}, rooms on two nodes ${doubleOwned}`,
      );
      await new Promise((r) => setTimeout(r, 1500));
    }
    onOwnership = () => undefined;

    for (let k = 1; k <= o.stalls; k++) {
      const [nodeId, players] = busiest(bots);
      const node = nodes.get(nodeId)!;
      const roomIds = await roomsOf(node);
      const epochs = await Promise.all(roomIds.map((id) => redis.get(keys.epoch(id))));
      const homes = new Map(bots.map((b) => [b, b.session.state.nodeId]));
      const stalledBefore = count(node, "loop_stalled");
      // A different phase against the renewals each time.
      await new Promise((r) => setTimeout(r, Math.random() * 250));
      node.child.kill("SIGUSR2");
      await waitFor(() => count(node, "loop_stalled") > stalledBefore, 5000, () => `the stall of ${nodeId}`);
      await new Promise((r) => setTimeout(r, AFTER_STALL_MS));
      const after = await Promise.all(roomIds.map((id) => redis.get(keys.epoch(id))));
      const stillHeld = await roomsOf(node);
      const logged = node.output().split("\n").filter((l) => l.includes('"event":"loop_stalled"')).at(-1) ?? "{}";
      const result: StallResult = {
        node: nodeId,
        rooms: roomIds.length,
        bots: players.length,
        stalledMs: Number((JSON.parse(logged) as { ms?: number }).ms ?? Number.NaN),
        takeovers: after.filter((e, i) => e !== epochs[i]).length,
        roomsLost: roomIds.filter((id) => !stillHeld.includes(id)).length,
        botsMoved: bots.filter((b) => b.session.state.nodeId !== homes.get(b)).length,
      };
      stalls.push(result);
      progress(`stall ${k}/${o.stalls}: ${nodeId} (${result.rooms} rooms, ${result.bots} bots) blocked ${result.stalledMs} ms: takeovers ${result.takeovers}, rooms lost ${result.roomsLost}, bots moved ${result.botsMoved}`);
    }
  } finally {
    for (const b of bots) b.close();
    subscriber.disconnect();
    redis.disconnect();
    await Promise.all(everything.map((p) => p.stop()));
  }
  return { leaseMs: o.leaseMs, stallMs: o.stallMs, stops, stalls, load: [loadBefore, loadavg()[0]!] };
}
