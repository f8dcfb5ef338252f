/**
 * BENCHMARKS.md's "Sizing Redis" section: the calibration of the simulated node against a real
 * one, Redis's load per number of nodes, where one Redis core saturates, and the input journal on
 * a plain Redis beside a Redis Cluster.
 */
import { markdownTable as table } from "../report.ts";
import { ROOM_SIZE, TICK_HZ } from "./capacity.ts";
import type { RedisSizingRun, RedisTraffic } from "./redis-sizing.ts";
import { header, type Section, type SectionContext } from "./sections.ts";

/** Redis is sized to this share of its one core, leaving room for bursts (rehydrations, drains, joins). */
export const SATURATION_CPU_PERCENT = 70;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB/s`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
const perTick = (perSecond: number, ticksPerSecond: number, digits: number) => (ticksPerSecond > 0 ? (perSecond / ticksPerSecond).toFixed(digits) : "n/a");

/**
 * Redis CPU % for n nodes: a·n for what each node writes and renews (leases, checkpoints, journal,
 * heartbeat), and b·n² for the orphan scans, n nodes each reading the n nodes' rooms a few times a
 * second. b comes from the scan measured on its own; a is the slope, through the origin, of what
 * the simulated clusters used beyond their scans.
 */
export function cpuModel(points: readonly { n: number; cpu: number }[], b: number): { a: number; b: number } {
  let nn = 0;
  let ny = 0;
  for (const { n, cpu } of points) {
    nn += n * n;
    ny += n * (cpu - b * n * n);
  }
  return { a: nn > 0 ? ny / nn : 0, b };
}

/** Nodes at which the model's CPU reaches `percent`. */
export function nodesAt(model: { a: number; b: number }, percent: number): number {
  if (model.b <= 0) return model.a > 0 ? percent / model.a : Number.POSITIVE_INFINITY;
  return (-model.a + Math.sqrt(model.a * model.a + 4 * model.b * percent)) / (2 * model.b);
}

function meanTraffic(ts: readonly RedisTraffic[]) {
  return {
    commands: mean(ts.map((t) => t.commands)),
    requests: mean(ts.map((t) => t.requests ?? 0)),
    bytesIn: mean(ts.map((t) => t.bytesIn)),
    bytesOut: mean(ts.map((t) => t.bytesOut)),
    cpu: mean(ts.map((t) => t.cpuPercent)),
  };
}

function meanByCommand(ts: readonly RedisTraffic[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ts) for (const [cmd, calls] of Object.entries(t.byCommand)) out[cmd] = (out[cmd] ?? 0) + calls / ts.length;
  return out;
}

export function redisSizingSection(run: RedisSizingRun, ctx: SectionContext, command: string): Section {
  const { calibration: c } = run;
  const extra = Object.entries(c.real.byCommand)
    .map(([cmd, calls]) => [cmd, calls - (c.simulated.byCommand[cmd] ?? 0)] as const)
    .filter(([, d]) => d >= 0.5)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 6);
  const rows = [...run.points].map(([n, ps]) => ({ n, ps, t: meanTraffic(ps.map((p) => p.traffic)) }));
  const { scan } = run;
  const roomsPerNode = Math.ceil(run.playersPerNode / ROOM_SIZE);
  const scansPerNode = mean(scan.scansPerSecond) / scan.watchers;
  const model = cpuModel(
    rows.map((r) => ({ n: r.n, cpu: r.t.cpu })),
    Math.max(0, 100 * scansPerNode * roomsPerNode * (scan.perRoomScanUs / 1e6)),
  );
  const saturation = nodesAt(model, SATURATION_CPU_PERCENT);
  const scanShare = Number.isFinite(saturation) ? (model.b * saturation * saturation) / SATURATION_CPU_PERCENT : 0;
  const largest = rows.at(-1);
  const top = largest ? Object.entries(meanByCommand(largest.ps.map((p) => p.traffic))).sort((x, y) => y[1] - x[1]).slice(0, 8) : [];
  const plain = meanTraffic(run.journal.plain);
  const cluster = meanTraffic(run.journal.cluster);
  const lines = [
    header("Sizing Redis", ctx, command),
    `Redis's load from Locus nodes at ${run.playersPerNode} players each (rooms of ${ROOM_SIZE}, ${TICK_HZ} Hz, leases of 5 s renewed every second, a checkpoint a room a second, the input journal one call a tick, a heartbeat every 250 ms, an orphan scan every 250 ms). The nodes are simulated: the real cluster modules (room host, lease keeper, checkpoint writer, journal writer, heartbeat, orphan watch, subscriptions) run over synthetic rooms that record the arena's step record and checkpoint the arena's checkpoint size, several nodes in the benchmark's process (\`loadtest/bench/simulated-node.ts\`). Redis runs alone on the server core, a fresh one for every window; its figures come from its INFO (commands include those its scripts ran) and its CPU from /proc.`,
    "",
    `**Calibration.** A real node with ${c.players} lean bots in ${c.rooms} rooms beside a simulated node of the same ${c.rooms} rooms (checkpoints of ${c.checkpointBytes.toFixed(0)} B, the real node's mean), each on a fresh Redis. A node with CPU to spare writes its journal once a tick; one short of CPU runs its writer's timer late and sends several ticks' records in a write, so the simulated node here writes as often as the real one managed (below, nodes write once a tick):`,
    "",
    table(
      ["measure", "real node", "simulated node", "simulated / real"],
      [
        ["room ticks/s", c.realRoomTicks.toFixed(0), c.simulatedRoomTicks.toFixed(0), ratio(c.simulatedRoomTicks, c.realRoomTicks)],
        ["journal writes/s", c.realJournalWrites.toFixed(1), c.simulatedJournalWrites.toFixed(1), ratio(c.simulatedJournalWrites, c.realJournalWrites)],
        ["commands/s", c.real.commands.toFixed(0), c.simulated.commands.toFixed(0), ratio(c.simulated.commands, c.real.commands)],
        ["**commands per room tick**", perTick(c.real.commands, c.realRoomTicks, 2), perTick(c.simulated.commands, c.simulatedRoomTicks, 2), ratio(c.simulated.commands / c.simulatedRoomTicks, c.real.commands / c.realRoomTicks)],
        ["bytes in/s", kib(c.real.bytesIn), kib(c.simulated.bytesIn), ratio(c.simulated.bytesIn, c.real.bytesIn)],
        ["**bytes in per room tick**", perTick(c.real.bytesIn, c.realRoomTicks, 0), perTick(c.simulated.bytesIn, c.simulatedRoomTicks, 0), ratio(c.simulated.bytesIn / c.simulatedRoomTicks, c.real.bytesIn / c.realRoomTicks)],
        ["bytes out/s", kib(c.real.bytesOut), kib(c.simulated.bytesOut), ratio(c.simulated.bytesOut, c.real.bytesOut)],
        ["Redis CPU %", c.real.cpuPercent.toFixed(1), c.simulated.cpuPercent.toFixed(1), ratio(c.simulated.cpuPercent, c.real.cpuPercent)],
        ["**Redis CPU per room tick**", `${perTick(c.real.cpuPercent * 1e4, c.realRoomTicks, 1)} µs`, `${perTick(c.simulated.cpuPercent * 1e4, c.simulatedRoomTicks, 1)} µs`, ratio(c.simulated.cpuPercent / c.simulatedRoomTicks, c.real.cpuPercent / c.realRoomTicks)],
      ],
    ),
    "",
    extra.length > 0
      ? `What the real node ran that the simulation does not (Colyseus's presence and driver, the players' joins), per second: ${extra.map(([cmd, d]) => `\`${cmd}\` ${d.toFixed(1)}`).join(", ")}.`
      : "The real node ran no command the simulation does not.",
    "",
    `**Nodes on one Redis**, each count measured ${rows[0]?.ps.length ?? 0} times (the order reversed every other round):`,
    "",
    table(
      ["nodes", "players", "room ticks/s per node", "journal writes/s per node", "commands/s", "per node", "requests sent/s per node", "bytes in/s per node", "bytes out/s per node", "Redis CPU % (each round)", "Redis CPU % (mean)", "per node", "simulation loop p99", "takeovers"],
      rows.map(({ n, ps, t }) => [
        String(n),
        String(n * run.playersPerNode),
        (mean(ps.map((p) => p.roomTicksPerSecond)) / n).toFixed(0),
        (mean(ps.map((p) => p.journalWritesPerSecond)) / n).toFixed(1),
        t.commands.toFixed(0),
        (t.commands / n).toFixed(0),
        (t.requests / n).toFixed(0),
        kib(t.bytesIn / n),
        kib(t.bytesOut / n),
        ps.map((p) => p.traffic.cpuPercent.toFixed(1)).join(", "),
        t.cpu.toFixed(1),
        (t.cpu / n).toFixed(2),
        `${Math.max(...ps.map((p) => p.simLoopP99Ms)).toFixed(1)} ms`,
        String(ps.reduce((k, p) => k + p.takeovers, 0)),
      ]),
    ),
    "",
    `**The orphan scan on its own.** ${scan.watchers} simulated nodes with no rooms of their own scan ${scan.rooms} rooms (${scan.rooms / roomsPerNode} nodes' worth) held by a node that only beats, against that node beating alone, alternated ${scan.withCpu.length} times: Redis CPU ${scan.withCpu.map((c) => c.toFixed(1)).join(", ")} % scanning against ${scan.withoutCpu.map((c) => c.toFixed(1)).join(", ")} % not, at ${scansPerNode.toFixed(1)} scans a second per node: **${scan.perRoomScanUs.toFixed(2)} µs of Redis CPU per room per scan** (the live-room set and the room's lease, read bounded).`,
    "",
    `**One Redis core reaches ${SATURATION_CPU_PERCENT} % at about ${Number.isFinite(saturation) ? saturation.toFixed(0) : "n/a"} nodes (${Number.isFinite(saturation) ? (saturation * run.playersPerNode).toFixed(0) : "n/a"} players)**, from Redis CPU % = ${model.a.toFixed(2)}·n + ${model.b.toFixed(4)}·n²: the linear part is each node's own leases, checkpoints, journal and heartbeat (the simulated clusters above, less their scans), the square part every node's orphan scan reading every node's rooms (the scan measured on its own); there the scans are ${(scanShare * 100).toFixed(0)} % of Redis's work.`,
    "",
  ];
  if (top.length > 0 && largest) {
    lines.push(`Commands at ${largest.n} nodes, per second (means; a script's own commands counted as Redis counts them): ${top.map(([cmd, calls]) => `\`${cmd}\` ${calls.toFixed(0)}`).join(", ")}.`, "");
  }
  lines.push(
    `**The input journal on a Redis Cluster.** One node's journal alone (${run.journal.rooms} rooms, the real JournalWriter): on a plain Redis it is one call a tick for all rooms; on a three-master Cluster, where a call may touch one room's slot only, one call a room a tick. Both on the server core, alternated ${run.journal.plain.length} times; the Cluster's CPU is its three masters' together.`,
    "",
    table(
      ["store", "calls a tick", "commands/s", "bytes in/s", "Redis CPU % (each round)", "Redis CPU % (mean)"],
      [
        ["plain Redis", "1", plain.commands.toFixed(0), kib(plain.bytesIn), run.journal.plain.map((t) => t.cpuPercent.toFixed(1)).join(", "), plain.cpu.toFixed(1)],
        ["3-master Cluster", String(run.journal.rooms), cluster.commands.toFixed(0), kib(cluster.bytesIn), run.journal.cluster.map((t) => t.cpuPercent.toFixed(1)).join(", "), cluster.cpu.toFixed(1)],
      ],
    ),
    "",
    `**On a Cluster the journal costs ${ratio(cluster.cpu, plain.cpu)} the Redis CPU of the single call**, spread over the masters.`,
    "",
  );
  return { markdown: lines.join("\n"), plots: [] };
}
