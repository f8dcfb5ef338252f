/**
 * Measures an operator drain: one node holding many rooms with bots playing in them, drained
 * through its admin API into the other nodes. Reports the per-bot hitch (the longest gap between
 * two state frames while its room moved) and the total drain time. The bots are lean (no state
 * decoding), so their own CPU does not pass for the server's hitch; that the room resumes at the
 * exact tick it froze at is proven by test/cluster-drain.test.ts with full clients.
 * `node_modules/.bin/node loadtest/drain-bench.ts --rooms 50 --bots-per-room 2`; writes a Markdown report.
 */
import { randomBytes } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseFlags } from "../server/cli.ts";
import { type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "./processes.ts";
import { LeanBot } from "./lean-bot.ts";
import { ms, percentile, writeReport } from "./report.ts";

const spec = {
  rooms: { type: "string", help: "rooms on the drained node (1 to 500, default 50)" },
  "bots-per-room": { type: "string", help: "bots playing in each room (1 to 16, default 2)" },
  nodes: { type: "string", help: "nodes that take the rooms (1 to 7, default 2)" },
  out: { type: "string", help: "where to write the Markdown report (default reports/drain.md)" },
} as const;
const flags = parseFlags("node loadtest/drain-bench.ts", spec);
const roomCount = flags.int("rooms", 50, 1, 500);
const perRoom = flags.int("bots-per-room", 2, 1, 16);
const takers = flags.int("nodes", 2, 1, 7);
const out = typeof flags.values.out === "string" ? flags.values.out : "reports/drain.md";

const adminToken = randomBytes(18).toString("base64url");
const redis = await startRedis();
const everything: RunningProcess[] = [redis];
const bots: LeanBot[] = [];
const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: adminToken, MAX_PLAYERS: String(perRoom), LOG_LEVEL: "warn" });
try {
  const drained = await startNodeProcess(env("n1"));
  everything.push(drained);
  const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" });
  everything.push(gateway);
  process.stderr.write(`joining ${roomCount * perRoom} bots into ${roomCount} rooms on n1…\n`);
  for (let i = 0; i < roomCount * perRoom; i++) {
    const bot = await LeanBot.join({ url: gateway.url, name: `bot${i}`, tickHz: 30 });
    setInterval(() => bot.steer(Math.random() * 2 - 1, Math.random() * 2 - 1), 500 + Math.random() * 1000).unref();
    bots.push(bot);
  }
  for (let i = 2; i <= takers + 1; i++) everything.push(await startNodeProcess(env(`n${i}`)));
  await new Promise((r) => setTimeout(r, 1500));

  // The bots measure the hitch on their own clock; how late their own event loop ran says how much of it is theirs.
  const botLoop = monitorEventLoopDelay({ resolution: 5 });
  botLoop.enable();
  for (const b of bots) b.clearWindow();
  const t0 = performance.now();
  const res = await fetch(`${drained.url}/admin/drain`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 202) throw new Error(`drain refused: ${res.status} ${await res.text()}`);
  let status: any;
  await waitFor(async () => {
    status = await (await fetch(`${drained.url}/admin/status`, { headers: { authorization: `Bearer ${adminToken}` } })).json();
    return status.state === "drained";
  }, 120_000);
  await waitFor(() => bots.every((b) => b.reconnects > 0), 30_000, () => "every bot reconnected to its room's new home");
  const allMovedMs = performance.now() - t0;
  botLoop.disable();
  await new Promise((r) => setTimeout(r, 500));

  const hitches = bots.map((b) => b.longestGap());
  const lost = bots.filter((b) => b.leftWith !== undefined).length;
  const handOffs = Object.values(status.handOffs) as { status: string; ms?: number }[];
  const report = [
    `# Operator drain — ${new Date().toISOString().slice(0, 10)}`,
    "",
    `Command: \`node_modules/.bin/node loadtest/drain-bench.ts --rooms ${roomCount} --bots-per-room ${perRoom} --nodes ${takers}\``,
    `One node (n1) runs ${roomCount} rooms with ${roomCount * perRoom} lean bots (same wire traffic as a player, no state decoding; through one gateway, on the same machine); ${takers} other node(s) take the rooms. DRAIN_PARALLELISM ${process.env.DRAIN_PARALLELISM ?? 4}, TICK_HZ 30.`,
    "Hitch: the longest gap between two state frames a bot received from the drain's start on. Normal gap: one tick (33 ms).",
    "",
    "| measure | value |",
    "| --- | --- |",
    `| rooms handed off | ${handOffs.filter((h) => h.status === "moved").length} of ${handOffs.length} |`,
    `| drain time (admin call to node drained) | ${ms(status.drainFinishedAt - status.drainStartedAt)} |`,
    `| until every bot had state from its new node | ${ms(allMovedMs)} |`,
    `| hand-off per room p50 / p99 | ${ms(percentile(handOffs.map((h) => h.ms ?? 0), 0.5))} / ${ms(percentile(handOffs.map((h) => h.ms ?? 0), 0.99))} |`,
    `| hitch p50 | ${ms(percentile(hitches, 0.5))} |`,
    `| hitch p99 | ${ms(percentile(hitches, 0.99))} |`,
    `| hitch max | ${ms(Math.max(...hitches))} |`,
    `| bots that did not come back | ${lost} |`,
    `| inputs dropped per bot (bound: hitch × 30/s) | p99 ≤ ${Math.ceil((percentile(hitches, 0.99) / 1000) * 30)} |`,
    `| the bots' own event-loop delay during the drain, p99 / max | ${ms(botLoop.percentile(99) / 1e6)} / ${ms(botLoop.max / 1e6)} |`,
    "",
  ].join("\n");
  writeReport(out, report);
} finally {
  for (const b of bots) b.close();
  await Promise.all(everything.map((p) => p.stop()));
}
process.exit(0);
