/**
 * Measures crash recovery: a local cluster (Redis, nodes, gateway) with bots spread over its
 * rooms; again and again the node holding the most bots is SIGKILLed, and each of its bots reports
 * how long until it received state from the room's new node and how many ticks the room lost.
 * `node_modules/.bin/node loadtest/failover-bench.ts --kills 20 --bots 24` (the project's Node 22); writes a Markdown report.
 */
import { randomBytes } from "node:crypto";
import type { ArenaSession } from "../client/lib/node.ts";
import { parseFlags } from "../server/cli.ts";
import { type NodeProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "./processes.ts";
import { joinWanderingBots, leaveAll } from "./bots.ts";
import { ms, percentile, writeReport } from "./report.ts";

const spec = {
  kills: { type: "string", help: "how many nodes to kill, one after another (1 to 200, default 20)" },
  bots: { type: "string", help: "bots playing throughout (1 to 200, default 24)" },
  nodes: { type: "string", help: "nodes in the cluster (2 to 8, default 3)" },
  "room-size": { type: "string", help: "MAX_PLAYERS per room (1 to 64, default 6)" },
  out: { type: "string", help: "where to write the Markdown report (default reports/failover.md)" },
} as const;
const flags = parseFlags("node loadtest/failover-bench.ts", spec);
const kills = flags.int("kills", 20, 1, 200);
const botCount = flags.int("bots", 24, 1, 200);
const nodeCount = flags.int("nodes", 3, 2, 8);
const roomSize = flags.int("room-size", 6, 1, 64);
const out = typeof flags.values.out === "string" ? flags.values.out : "reports/failover.md";

const RECOVERY_LIMIT_MS = 15_000;
const TICK_MS = 1000 / 30;

interface KillResult {
  readonly node: string;
  readonly rooms: number;
  readonly bots: number;
  readonly recoveredMs: number[];
  readonly lostTicks: number[];
  readonly failed: number;
}

const redis = await startRedis();
const nodes = new Map<string, NodeProcess>();
const everything: RunningProcess[] = [redis];
const adminToken = randomBytes(18).toString("base64url");
const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: adminToken, MAX_PLAYERS: String(roomSize), LOG_LEVEL: "warn" });
let bots: ArenaSession[] = [];
const results: KillResult[] = [];
try {
  for (let i = 1; i <= nodeCount; i++) {
    const node = await startNodeProcess(env(`n${i}`));
    nodes.set(`n${i}`, node);
    everything.push(node);
  }
  const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" });
  everything.push(gateway);
  bots = await joinWanderingBots(gateway.url, botCount);
  await waitFor(() => bots.every((b) => b.state?.nodeId), 10_000, () => "every bot has state");

  for (let k = 1; k <= kills; k++) {
    const byNode = new Map<string, ArenaSession[]>();
    for (const b of bots) byNode.set(b.state.nodeId, [...(byNode.get(b.state.nodeId) ?? []), b]);
    const [victimId, victims] = [...byNode].sort((a, b) => b[1].length - a[1].length)[0]!;
    const victim = nodes.get(victimId)!;
    const lastTick = new Map(victims.map((b) => [b, b.state.tick]));
    const recoveredMs: number[] = [];
    const lostTicks: number[] = [];
    const pending = new Set(victims);
    const listeners = victims.map((b) => {
      const listener = () => {
        if (!pending.has(b) || b.state.nodeId === victimId) return;
        pending.delete(b);
        recoveredMs.push(performance.now() - killedAt);
        lostTicks.push(Math.max(0, lastTick.get(b)! - b.state.tick));
      };
      b.room.onStateChange(listener);
      return () => b.room.onStateChange.remove(listener);
    });
    for (const b of victims) lastTick.set(b, b.state.tick);
    const killedAt = performance.now();
    victim.child.kill("SIGKILL");
    await waitFor(() => pending.size === 0, RECOVERY_LIMIT_MS).catch(() => undefined);
    for (const off of listeners) off();
    const result: KillResult = {
      node: victimId,
      rooms: new Set(victims.map((b) => b.room.roomId)).size,
      bots: victims.length,
      recoveredMs,
      lostTicks,
      failed: pending.size,
    };
    results.push(result);
    process.stderr.write(
      `kill ${k}/${kills}: ${victimId} with ${result.rooms} rooms, ${result.bots} bots: recovered p50 ${percentile(recoveredMs, 0.5).toFixed(0)} ms, max ${Math.max(...recoveredMs).toFixed(0)} ms, lost ≤ ${Math.max(0, ...lostTicks)} ticks${result.failed ? `, ${result.failed} NOT RECOVERED` : ""}\n`,
    );
    // The node comes back empty under its old name, as an orchestrator would restart it.
    await victim.exited;
    const replacement = await startNodeProcess(env(victimId));
    nodes.set(victimId, replacement);
    everything.push(replacement);
    await new Promise((r) => setTimeout(r, 1500));
  }

  const all = results.flatMap((r) => r.recoveredMs);
  const lost = results.flatMap((r) => r.lostTicks);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const report = [
    `# Crash recovery (SIGKILL) — ${new Date().toISOString().slice(0, 10)}`,
    "",
    `Command: \`node_modules/.bin/node loadtest/failover-bench.ts --kills ${kills} --bots ${botCount} --nodes ${nodeCount} --room-size ${roomSize}\``,
    `Defaults: CHECKPOINT_MS 1000, ROOM_LEASE_MS 5000, node heartbeat 250 ms (TTL 1000 ms), orphan scan 250 ms, TICK_HZ 30.`,
    "Recovery: from SIGKILL to the bot receiving state from the room's new node (same client Room object).",
    "State lost: ticks between the last state the bot saw from the dead node and the first from the new one.",
    "",
    "| measure | value |",
    "| --- | --- |",
    `| kills | ${results.length} |`,
    `| bot recoveries measured | ${all.length} (not recovered within ${RECOVERY_LIMIT_MS / 1000} s: ${failed}) |`,
    `| recovery p50 | ${ms(percentile(all, 0.5))} |`,
    `| recovery p95 | ${ms(percentile(all, 0.95))} |`,
    `| recovery p99 | ${ms(percentile(all, 0.99))} |`,
    `| recovery max | ${ms(Math.max(...all))} |`,
    `| state lost p50 | ${percentile(lost, 0.5)} ticks (${ms(percentile(lost, 0.5) * TICK_MS)}) |`,
    `| state lost max | ${Math.max(...lost)} ticks (${ms(Math.max(...lost) * TICK_MS)}) |`,
    "",
    "| kill | node | rooms | bots | recovery p50 | recovery max | state lost max |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r, i) =>
        `| ${i + 1} | ${r.node} | ${r.rooms} | ${r.bots} | ${ms(percentile(r.recoveredMs, 0.5))} | ${ms(Math.max(...r.recoveredMs))} | ${Math.max(0, ...r.lostTicks)} ticks${r.failed ? ` (${r.failed} not recovered)` : ""} |`,
    ),
    "",
  ].join("\n");
  writeReport(out, report);
} finally {
  await leaveAll(bots);
  await Promise.all(everything.map((p) => p.stop()));
}
process.exit(0);
