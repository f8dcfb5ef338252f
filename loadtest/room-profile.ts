/**
 * Profiles one room: starts a node pinned to one core, fills one room with headless clients that
 * walk at random on another core, and reports the server's tick time and the bytes it sends each
 * client. `node_modules/.bin/node loadtest/room-profile.ts --players 16 --seconds 20`.
 */
import { cpus } from "node:os";
import type { ArenaSession } from "../client/lib/node.ts";
import { parseFlags } from "../server/cli.ts";
import { joinWanderingBots, leaveAll } from "./bots.ts";
import { startNodeProcess } from "./processes.ts";
import { bucketDelta, bucketQuantile, histogramBuckets, sampleValue } from "./prometheus.ts";

const spec = {
  players: { type: "string", help: "players in the room (1 to 64, default 16)" },
  seconds: { type: "string", help: "how long to measure (1 to 600, default 20)" },
  "tick-hz": { type: "string", help: "the node's TICK_HZ (1 to 120, default 30)" },
} as const;
const program = "node loadtest/room-profile.ts";
const flags = parseFlags(program, spec);
const players = flags.int("players", 16, 1, 64);
const seconds = flags.int("seconds", 20, 1, 600);
const tickHz = flags.int("tick-hz", 30, 1, 120);
const pinned = cpus().length >= 2;

const node = await startNodeProcess({ MAX_PLAYERS: String(players), TICK_HZ: String(tickHz), LOG_LEVEL: "warn" }, pinned ? { core: 0 } : {});
let sessions: ArenaSession[] = [];
try {
  sessions = await joinWanderingBots(node.url, players);
  if (new Set(sessions.map((s) => s.room.roomId)).size !== 1) throw new Error("clients landed in more than one room");
  await new Promise((r) => setTimeout(r, 3000));
  const before = await (await fetch(`${node.url}/metrics`)).text();
  process.stderr.write(`measuring ${players} players for ${seconds} s…\n`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await (await fetch(`${node.url}/metrics`)).text();

  const ticks = bucketDelta(histogramBuckets(after, "locus_tick_duration_seconds"), histogramBuckets(before, "locus_tick_duration_seconds"));
  const delta = (name: string) => sampleValue(after, name) - sampleValue(before, name);
  const tickCount = ticks.counts[ticks.counts.length - 1] ?? 0;
  const rows: [string, string][] = [
    ["players in the room", String(players)],
    ["tick rate", `${tickHz} Hz (budget ${(1000 / tickHz).toFixed(1)} ms)`],
    ["ticks measured", String(tickCount)],
    ["tick time p50", `${(bucketQuantile(ticks, 0.5) * 1000).toFixed(3)} ms`],
    ["tick time p99", `${(bucketQuantile(ticks, 0.99) * 1000).toFixed(3)} ms`],
    ["tick overruns", String(delta("locus_tick_overruns_total"))],
    ["bytes sent per client per second", (delta("locus_bytes_sent_total") / players / seconds).toFixed(0)],
    ["server CPU", `${((delta("locus_process_cpu_seconds_total") / seconds) * 100).toFixed(1)} % of one core`],
    ["server pinned to its own core", pinned ? "yes (taskset -c 0)" : "no (one core)"],
  ];
  process.stdout.write(`| measure | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`);
} finally {
  await leaveAll(sessions);
  await node.stop();
}
process.exit(0);
