/**
 * `npm run bench`: measures where Locus stands on this machine and writes BENCHMARKS.md, with its
 * plots as SVG files beside it. Servers run on the first core(s) and the benchmark's bots on the
 * last (taskset) where the machine has two or more. Each section says the command that redoes it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseFlags } from "../../server/cli.ts";
import { DEFAULT_ROOM_LEASE_MS } from "../../server/config.ts";
import { LOAD_GENERATOR_ADDRESSES } from "../processes.ts";
import { renderHtmlReport } from "../html-report.ts";
import { svgLineChart } from "../svg-plot.ts";
import { mergeBenchmarks } from "./bench-document.ts";
import { measureKnees } from "./capacity.ts";
import { startTarget, TARGET_KINDS, TARGET_NAMES } from "./capacity-targets.ts";
import { measureChaosTimeline } from "./chaos-timeline.ts";
import { measureCheckpointCost } from "./checkpoint-cost.ts";
import { measureDrain } from "./drain.ts";
import { measureFailover } from "./failover.ts";
import { measureSilentNode } from "./silent-node.ts";
import { silentNodeSection } from "./silent-node-section.ts";
import { measureFeel } from "./feel.ts";
import { measureSdkHitch } from "./sdk-hitch.ts";
import { sdkHitchSection } from "./sdk-hitch-section.ts";
import { measureReversiSurvival } from "./reversi-survival.ts";
import { reversiSurvivalSection } from "./reversi-survival-section.ts";
import { feelSection } from "./feel-section.ts";
import { measureGatewayCost } from "./gateway-cost.ts";
import { measureRedisSizing } from "./redis-sizing.ts";
import { redisSizingSection } from "./redis-sizing-section.ts";
import { describeMachine, machineLine, pinSelf } from "./machine.ts";
import { capacitySection, chaosTimelineSection, checkpointSection, drainSection, failoverSection, gatewaySection, type Plot, type SectionContext } from "./sections.ts";

// The SDK announces every drop and reconnect on the console; with many bots that would bury the
// progress, and the report counts them anyway.
console.info = () => undefined;
console.warn = () => undefined;
// Every node and gateway the bench starts inherits it: the bots are hundreds of players on one address.
process.env.LIMIT_EXEMPT_IPS ??= LOAD_GENERATOR_ADDRESSES;

const SECTIONS = ["capacity", "checkpoints", "gateway", "failover", "silent", "drain", "sdk-hitch", "reversi-survival", "chaos", "feel", "redis-sizing"] as const;
type Section = (typeof SECTIONS)[number];

const spec = {
  only: { type: "string", help: `comma-separated sections to run (default all): ${SECTIONS.join(",")}` },
  seconds: { type: "string", help: "seconds each load step is measured (1 to 120, default 8)" },
  "max-players": { type: "string", help: "capacity: the largest step to try (20 to 5000, default 1500)" },
  players: { type: "string", help: "checkpoints, gateway, chaos and the redis-sizing calibration: the fixed load, in players (10 to 2000, default 200)" },
  rounds: { type: "string", help: "checkpoints, gateway and redis-sizing: rounds of the alternated settings (1 to 10, default 3)" },
  kills: { type: "string", help: "failover: nodes to SIGKILL one after another (1 to 200, default 20)" },
  "failover-bots": { type: "string", help: "failover and silent: full bots playing throughout (1 to 200, default 24)" },
  stops: { type: "string", help: "silent: nodes to freeze with SIGSTOP one after another (1 to 200, default 20)" },
  stalls: { type: "string", help: "silent: event-loop stalls of a healthy node (0 to 200, default 20)" },
  "stall-ms": { type: "string", help: "silent: how long each stall blocks the node's event loop (50 to 10000, default 500)" },
  "lease-ms": { type: "string", help: `silent: the nodes' ROOM_LEASE_MS (1000 to 60000, default ${DEFAULT_ROOM_LEASE_MS})` },
  "drain-rooms": { type: "string", help: "drain: rooms on the drained node, 2 bots each (1 to 500, default 50)" },
  "sdk-drains": { type: "string", help: "sdk-hitch: drains of the room the stock SDK clients play in (1 to 100, default 8)" },
  "reversi-kills": { type: "string", help: "reversi-survival: SIGKILLs of the node running the Reversi match (1 to 200, default 20)" },
  "reversi-drains": { type: "string", help: "reversi-survival: drains after the kills (0 to 100, default 5)" },
  "chaos-seconds": { type: "string", help: "chaos: seconds of play after the ramp, a kill at a third and a drain at two thirds (6 to 600, default 45)" },
  "feel-seconds": { type: "string", help: "feel: seconds each scripted pair plays per network condition (6 to 600, default 20)" },
  "feel-rounds": { type: "string", help: "feel: runs of each condition, each with its own seed (1 to 10, default 2)" },
  "sizing-nodes": { type: "string", help: "redis-sizing: comma-separated counts of simulated nodes on one Redis (each 1 to 64, default 1,2,3: one process must keep up with them all)" },
  "sizing-players": { type: "string", help: "redis-sizing: players on each simulated node (10 to 5000, default 950, what one core holds)" },
  "sizing-scan-nodes": { type: "string", help: "redis-sizing: the orphan scan's cost is measured over this many nodes' rooms (2 to 200, default 16)" },
  out: { type: "string", help: "the Markdown file to write (default BENCHMARKS.md); plots go to bench-plots/ beside it" },
} as const;
const program = "npm run bench --";
const flags = parseFlags(program, spec);
const only = typeof flags.values.only === "string" ? flags.values.only.split(",").map((s) => s.trim()) : [...SECTIONS];
for (const s of only) if (!SECTIONS.includes(s as Section)) flags.fail(`--only takes ${SECTIONS.join(", ")}; got ${JSON.stringify(s)}`);
const seconds = flags.int("seconds", 8, 1, 120);
const maxPlayers = flags.int("max-players", 1500, 20, 5000);
const players = flags.int("players", 200, 10, 2000);
const rounds = flags.int("rounds", 3, 1, 10);
const kills = flags.int("kills", 20, 1, 200);
const failoverBots = flags.int("failover-bots", 24, 1, 200);
const stops = flags.int("stops", 20, 1, 200);
const stalls = flags.int("stalls", 20, 0, 200);
const stallMs = flags.int("stall-ms", 500, 50, 10_000);
const leaseMs = flags.int("lease-ms", DEFAULT_ROOM_LEASE_MS, 1000, 60_000);
const drainRooms = flags.int("drain-rooms", 50, 1, 500);
const sdkDrains = flags.int("sdk-drains", 8, 1, 100);
const reversiKills = flags.int("reversi-kills", 20, 1, 200);
const reversiDrains = flags.int("reversi-drains", 5, 0, 100);
const chaosSeconds = flags.int("chaos-seconds", 45, 6, 600);
const feelSeconds = flags.int("feel-seconds", 20, 6, 600);
const feelRounds = flags.int("feel-rounds", 2, 1, 10);
const sizingNodesText = typeof flags.values["sizing-nodes"] === "string" ? flags.values["sizing-nodes"] : "1,2,3";
const sizingNodes = sizingNodesText.split(",").map((n) => Number(n.trim()));
if (sizingNodes.some((n) => !Number.isInteger(n) || n < 1 || n > 64) || new Set(sizingNodes).size !== sizingNodes.length) {
  flags.fail(`--sizing-nodes takes distinct whole numbers from 1 to 64, comma-separated; got ${JSON.stringify(sizingNodesText)}`);
}
const sizingPlayers = flags.int("sizing-players", 950, 10, 5000);
const sizingScanNodes = flags.int("sizing-scan-nodes", 16, 2, 200);
const out = typeof flags.values.out === "string" ? flags.values.out : "BENCHMARKS.md";
const plotDir = join(dirname(out), "bench-plots");
try {
  mkdirSync(plotDir, { recursive: true });
} catch (err) {
  flags.fail(`cannot write beside ${out}: ${(err as Error).message}`);
}

const machine = describeMachine();
pinSelf(machine);
const ctx: SectionContext = {
  machine: machineLine(machine),
  date: new Date().toISOString().slice(0, 10),
  pinning: machine.serverCpus
    ? `servers on CPU ${machine.serverCpus}, the benchmark's bots on CPU ${machine.botCpus} (taskset)`
    : "not pinned: this machine has one core, so servers and bots share it",
};
/** The cluster benchmarks run several nodes at once, which one core would not hold. */
const clusterCtx: SectionContext = {
  ...ctx,
  pinning: machine.allCpus ? `cluster processes on every core, the benchmark's bots on CPU ${machine.botCpus} (taskset)` : ctx.pinning,
};
const progress = (line: string) => process.stderr.write(`${line}\n`);
const started = Date.now();
const parts = new Map<Section, string>();
const plots: Plot[] = [];
let failures = 0;
/** Runs one section if it was asked for; a section that fails says so in the report, and the others still run. */
async function attempt(section: Section, measure: () => Promise<void>): Promise<void> {
  if (!only.includes(section)) return;
  try {
    await measure();
  } catch (err) {
    failures++;
    const message = (err as Error).message;
    progress(`${section}: FAILED: ${message}`);
    parts.set(section, `## ${section}: failed\n\nThis section did not finish: ${message}\n`);
  }
}
const command = (args: string) => `npm run bench -- ${args}`;

await attempt("capacity", async () => {
  const results = await measureKnees(
    TARGET_KINDS.map((kind) => ({ name: TARGET_NAMES[kind], start: () => startTarget(kind, { cpus: machine.serverCpus }) })),
    { maxPlayers, seconds },
    progress,
  );
  const section = capacitySection(results, ctx, command(`--only capacity --seconds ${seconds} --max-players ${maxPlayers}`));
  parts.set("capacity", section.markdown);
  plots.push(...section.plots);
});
await attempt("checkpoints", async () => {
  const result = await measureCheckpointCost(players, seconds, rounds, { server: machine.serverCpus }, progress);
  parts.set("checkpoints", checkpointSection(result, ctx, command(`--only checkpoints --players ${players} --seconds ${seconds} --rounds ${rounds}`)).markdown);
});
await attempt("gateway", async () => {
  const result = await measureGatewayCost(players, seconds, rounds, { server: machine.serverCpus, own: machine.relayCpus }, progress);
  parts.set("gateway", gatewaySection(result, ctx, command(`--only gateway --players ${players} --seconds ${seconds} --rounds ${rounds}`)).markdown);
});
await attempt("failover", async () => {
  const options = { kills, bots: failoverBots, nodes: 3, roomSize: 6, cpus: machine.allCpus };
  const withoutJournal = await measureFailover({ ...options, journal: false }, (line) => progress(`journal off: ${line}`));
  const withJournal = await measureFailover({ ...options, journal: true }, (line) => progress(`journal on: ${line}`));
  const section = failoverSection({ withoutJournal, withJournal }, clusterCtx, command(`--only failover --kills ${kills} --failover-bots ${failoverBots}`));
  parts.set("failover", section.markdown);
  plots.push(...section.plots);
});
await attempt("silent", async () => {
  const result = await measureSilentNode({ stops, stalls, stallMs, leaseMs, bots: failoverBots, roomSize: 6, cpus: machine.allCpus }, progress);
  const settings = `${stallMs === 500 ? "" : ` --stall-ms ${stallMs}`}${leaseMs === DEFAULT_ROOM_LEASE_MS ? "" : ` --lease-ms ${leaseMs}`}`;
  parts.set("silent", silentNodeSection(result, clusterCtx, command(`--only silent --stops ${stops} --stalls ${stalls} --failover-bots ${failoverBots}${settings}`)).markdown);
});
await attempt("drain", async () => {
  const result = await measureDrain({ rooms: drainRooms, botsPerRoom: 2, takers: 2, cpus: machine.allCpus }, progress);
  const section = drainSection(result, { rooms: drainRooms, botsPerRoom: 2, takers: 2 }, clusterCtx, command(`--only drain --drain-rooms ${drainRooms}`));
  parts.set("drain", section.markdown);
  plots.push(...section.plots);
});
await attempt("sdk-hitch", async () => {
  const o = { drains: sdkDrains, clientsPerKind: 3 };
  const result = await measureSdkHitch({ ...o, cpus: machine.allCpus }, progress);
  parts.set("sdk-hitch", sdkHitchSection(result, o, clusterCtx, command(`--only sdk-hitch --sdk-drains ${sdkDrains}`)).markdown);
});
await attempt("reversi-survival", async () => {
  const result = await measureReversiSurvival({ kills: reversiKills, drains: reversiDrains, cpus: machine.allCpus }, progress);
  parts.set("reversi-survival", reversiSurvivalSection(result, clusterCtx, command(`--only reversi-survival --reversi-kills ${reversiKills} --reversi-drains ${reversiDrains}`)).markdown);
});
await attempt("chaos", async () => {
  const result = await measureChaosTimeline({ bots: players, seconds: chaosSeconds, cpus: machine.allCpus }, progress);
  const section = chaosTimelineSection(result, clusterCtx, command(`--only chaos --players ${players} --chaos-seconds ${chaosSeconds}`));
  parts.set("chaos", section.markdown);
  plots.push(...section.plots);
  writeFileSync(
    join(plotDir, "chaos-timeline.html"),
    renderHtmlReport({
      title: `Locus under chaos: ${players} bots, a SIGKILL and a drain`,
      subtitle: `npm run bench, ${ctx.date}, ${ctx.machine}`,
      summary: result.events.map((e) => [`event at ${e.atS.toFixed(1)} s`, e.what] as const),
      timeline: result.timeline,
      events: result.events,
    }),
  );
});
await attempt("feel", async () => {
  const runs = await measureFeel({ seconds: feelSeconds, rounds: feelRounds, cpus: machine.serverCpus }, progress);
  const section = feelSection(runs, { seconds: feelSeconds, rounds: feelRounds }, ctx, command(`--only feel --feel-seconds ${feelSeconds} --feel-rounds ${feelRounds}`));
  parts.set("feel", section.markdown);
  plots.push(...section.plots);
});
await attempt("redis-sizing", async () => {
  const result = await measureRedisSizing(
    { calibrationPlayers: players, playersPerNode: sizingPlayers, nodeCounts: sizingNodes, scanNodes: sizingScanNodes, seconds, rounds, redisCpus: machine.serverCpus },
    progress,
  );
  parts.set(
    "redis-sizing",
    redisSizingSection(result, ctx, command(`--only redis-sizing --players ${players} --sizing-players ${sizingPlayers} --sizing-nodes ${sizingNodes.join(",")} --sizing-scan-nodes ${sizingScanNodes} --seconds ${seconds} --rounds ${rounds}`)).markdown,
  );
});
for (const plot of plots) writeFileSync(join(plotDir, plot.file), svgLineChart(plot.chart));
const preamble = [
  "# Locus benchmarks",
  "",
  `Written by \`npm run bench\`; each section says when, on what machine and by what command it was measured (\`--only\` reruns some sections and keeps the others). The last run took ${((Date.now() - started) / 60_000).toFixed(1)} minutes on ${ctx.date}.`,
  "Every figure comes from real processes on loopback: Locus nodes, gateways, redis-servers, the plain Colyseus baseline and lean bots (the players' wire traffic without state decoding) or, where the tick must be read, full bots on the game's own client library.",
].join("\n");
const markdown = mergeBenchmarks(existsSync(out) ? readFileSync(out, "utf8") : undefined, preamble, SECTIONS, parts);
writeFileSync(out, markdown);
process.stdout.write(markdown);
process.exit(failures > 0 ? 1 : 0);
