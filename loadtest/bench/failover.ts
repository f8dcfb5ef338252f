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
}

export interface FailoverOptions {
  readonly kills: number;
  readonly bots: number;
  readonly nodes: number;
  readonly roomSize: number;
  readonly cpus: string | undefined;
}

export async function measureFailover(o: FailoverOptions, progress: (line: string) => void): Promise<KillResult[]> {
  const redis = await startRedis({ cpus: o.cpus });
  const nodes = new Map<string, NodeProcess>();
  const everything: RunningProcess[] = [redis];
  const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(o.roomSize), LOG_LEVEL: "warn" });
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
      const killedAt = performance.now();
      victim.child.kill("SIGKILL");
      await waitFor(() => pending.size === 0, RECOVERY_LIMIT_MS).catch(() => undefined);
      for (const off of listeners) off();
      const result: KillResult = {
        node: victimId,
        rooms: new Set(victims.map((b) => b.session.room.roomId)).size,
        bots: victims.length,
        recoveredMs,
        lostTicks,
        failed: pending.size,
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
