/**
 * Crash recovery: a local cluster (Redis, nodes, gateway) with full bots spread over its rooms;
 * again and again the node holding the most bots is SIGKILLed, and each of its bots reports how
 * long until it received state from the room's new node, and how many ticks the room lost. The
 * bots run the full client library because only a client that decodes state can see the tick.
 */
import { type NodeProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../processes.ts";
import { FullBot } from "../full-bot.ts";
import { percentile } from "../report.ts";
import { BENCH_TOKEN } from "./capacity.ts";

export const RECOVERY_LIMIT_MS = 15_000;

export interface KillResult {
  readonly node: string;
  readonly rooms: number;
  readonly bots: number;
  readonly recoveredMs: number[];
  readonly lostTicks: number[];
  readonly failed: number;
  /** From the surviving nodes' metrics: rooms rebuilt with a journal, the ticks they replayed and the time it took. */
  readonly replays: number;
  readonly replayedTicks: number;
  readonly replaySeconds: number;
}

/** The sums of the journal's replay histograms on one node, 0 when it has none. */
async function replayTotals(node: NodeProcess): Promise<{ replays: number; ticks: number; seconds: number }> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text().catch(() => "");
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { replays: value("locus_journal_replay_seconds_count"), ticks: value("locus_journal_replayed_ticks_sum"), seconds: value("locus_journal_replay_seconds_sum") };
}

async function replayTotalsOf(nodes: Iterable<NodeProcess>): Promise<{ replays: number; ticks: number; seconds: number }> {
  const all = await Promise.all([...nodes].map(replayTotals));
  return all.reduce((a, b) => ({ replays: a.replays + b.replays, ticks: a.ticks + b.ticks, seconds: a.seconds + b.seconds }), { replays: 0, ticks: 0, seconds: 0 });
}

export interface FailoverOptions {
  readonly kills: number;
  readonly bots: number;
  readonly nodes: number;
  readonly roomSize: number;
  readonly cpus: string | undefined;
  /** Whether the nodes keep an input journal (JOURNAL=on). */
  readonly journal: boolean;
}

export async function measureFailover(o: FailoverOptions, progress: (line: string) => void): Promise<KillResult[]> {
  const redis = await startRedis({ cpus: o.cpus });
  const nodes = new Map<string, NodeProcess>();
  const everything: RunningProcess[] = [redis];
  const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(o.roomSize), LOG_LEVEL: "warn", JOURNAL: o.journal ? "on" : "off" });
  const bots: FullBot[] = [];
  const results: KillResult[] = [];
  try {
    for (let i = 1; i <= o.nodes; i++) {
      const node = await startNodeProcess(env(`n${i}`), { cpus: o.cpus });
      nodes.set(`n${i}`, node);
      everything.push(node);
    }
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    for (let i = 0; i < o.bots; i++) bots.push(await FullBot.join(gateway.url, `bot${i}`));
    await waitFor(() => bots.every((b) => b.session.state?.nodeId), 10_000, () => "every bot has state");

    for (let k = 1; k <= o.kills; k++) {
      const byNode = new Map<string, FullBot[]>();
      for (const b of bots) byNode.set(b.session.state.nodeId, [...(byNode.get(b.session.state.nodeId) ?? []), b]);
      const [victimId, victims] = [...byNode].sort((a, b) => b[1].length - a[1].length)[0]!;
      const victim = nodes.get(victimId)!;
      const recoveredMs: number[] = [];
      const lostTicks: number[] = [];
      const pending = new Set(victims);
      const lastTick = new Map(victims.map((b) => [b, b.session.state.tick]));
      const listeners = victims.map((b) => {
        const listener = () => {
          if (!pending.has(b) || b.session.state.nodeId === victimId) return;
          pending.delete(b);
          recoveredMs.push(performance.now() - killedAt);
          lostTicks.push(Math.max(0, lastTick.get(b)! - b.session.state.tick));
        };
        b.session.room.onStateChange(listener);
        return () => b.session.room.onStateChange.remove(listener);
      });
      const survivors = [...nodes].filter(([id]) => id !== victimId).map(([, n]) => n);
      const replayedBefore = await replayTotalsOf(survivors);
      const killedAt = performance.now();
      victim.child.kill("SIGKILL");
      await waitFor(() => pending.size === 0, RECOVERY_LIMIT_MS).catch(() => undefined);
      for (const off of listeners) off();
      const replayedAfter = await replayTotalsOf(survivors);
      const result: KillResult = {
        node: victimId,
        rooms: new Set(victims.map((b) => b.session.room.roomId)).size,
        bots: victims.length,
        recoveredMs,
        lostTicks,
        failed: pending.size,
        replays: replayedAfter.replays - replayedBefore.replays,
        replayedTicks: replayedAfter.ticks - replayedBefore.ticks,
        replaySeconds: replayedAfter.seconds - replayedBefore.seconds,
      };
      results.push(result);
      progress(
        `kill ${k}/${o.kills}: ${victimId} with ${result.rooms} rooms, ${result.bots} bots: recovered p50 ${percentile(recoveredMs, 0.5).toFixed(0)} ms, max ${Math.max(...recoveredMs).toFixed(0)} ms, lost ≤ ${Math.max(0, ...lostTicks)} ticks${result.failed ? `, ${result.failed} NOT RECOVERED` : ""}`,
      );
      // The node comes back empty under its old name, as an orchestrator would restart it.
      await victim.exited;
      const replacement = await startNodeProcess(env(victimId), { cpus: o.cpus });
      nodes.set(victimId, replacement);
      everything.push(replacement);
      await new Promise((r) => setTimeout(r, 1500));
    }
  } finally {
    for (const b of bots) b.close();
    await Promise.all(everything.map((p) => p.stop()));
  }
  return results;
}
