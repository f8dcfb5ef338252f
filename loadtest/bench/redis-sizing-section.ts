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

/**
 * Least squares of cpu = a·n + b·n² through the origin: the per-node work (leases, checkpoints,
 * journal, heartbeat) grows with n, every node's orphan scan reading every room grows with n².
 */
export function fitCpu(points: readonly { n: number; cpu: number }[]): { a: number; b: number } {
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let t1 = 0;
  let t2 = 0;
  for (const { n, cpu } of points) {
    s2 += n * n;
    s3 += n ** 3;
    s4 += n ** 4;
    t1 += n * cpu;
    t2 += n * n * cpu;
  }
  const det = s2 * s4 - s3 * s3;
  if (points.length < 2 || det === 0) return { a: s2 > 0 ? t1 / s2 : 0, b: 0 };
  const b = (s2 * t2 - s3 * t1) / det;
  if (b <= 0) return { a: t1 / s2, b: 0 };
  return { a: (t1 - b * s3) / s2, b };
}

/** Nodes at which the fitted CPU reaches `percent`. */
export function nodesAt(fit: { a: number; b: number }, percent: number): number {
  if (fit.b === 0) return fit.a > 0 ? percent / fit.a : Number.POSITIVE_INFINITY;
  return (-fit.a + Math.sqrt(fit.a * fit.a + 4 * fit.b * percent)) / (2 * fit.b);
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
  const fit = fitCpu(rows.map((r) => ({ n: r.n, cpu: r.t.cpu })));
  const saturation = nodesAt(fit, SATURATION_CPU_PERCENT);
  const largest = rows.at(-1);
  const top = largest ? Object.entries(meanByCommand(largest.ps.map((p) => p.traffic))).sort((x, y) => y[1] - x[1]).slice(0, 8) : [];
  const plain = meanTraffic(run.journal.plain);
  const cluster = meanTraffic(run.journal.cluster);
  const lines = [
    header("Sizing Redis", ctx, command),
    `Redis's load from Locus nodes at ${run.playersPerNode} players each (rooms of ${ROOM_SIZE}, ${TICK_HZ} Hz, leases of 5 s renewed every second, a checkpoint a room a second, the input journal one call a tick, a heartbeat every 250 ms, an orphan scan every 250 ms). The nodes are simulated: the real cluster modules (room host, lease keeper, checkpoint writer, journal writer, heartbeat, orphan watch, subscriptions) run over synthetic rooms that record the arena's step record and checkpoint the arena's checkpoint size, several nodes in the benchmark's process (\`loadtest/bench/simulated-node.ts\`). Redis runs alone on the server core, a fresh one for every window; its figures come from its INFO (commands include those its scripts ran) and its CPU from /proc.`,
    "",
    `**Calibration.** A real node with ${c.players} lean bots in ${c.rooms} rooms beside a simulated node of the same ${c.rooms} rooms (checkpoints of ${c.checkpointBytes.toFixed(0)} B, the real node's mean), each on a fresh Redis:`,
    "",
    table(
      ["measure", "real node", "simulated node", "simulated / real"],
      [
        ["commands/s", c.real.commands.toFixed(0), c.simulated.commands.toFixed(0), ratio(c.simulated.commands, c.real.commands)],
        ["bytes in/s", kib(c.real.bytesIn), kib(c.simulated.bytesIn), ratio(c.simulated.bytesIn, c.real.bytesIn)],
        ["bytes out/s", kib(c.real.bytesOut), kib(c.simulated.bytesOut), ratio(c.simulated.bytesOut, c.real.bytesOut)],
        ["Redis CPU %", c.real.cpuPercent.toFixed(1), c.simulated.cpuPercent.toFixed(1), ratio(c.simulated.cpuPercent, c.real.cpuPercent)],
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
      ["nodes", "players", "commands/s", "per node", "requests sent/s per node", "bytes in/s per node", "bytes out/s per node", "Redis CPU % (each round)", "Redis CPU % (mean)", "per node", "simulation loop p99", "takeovers"],
      rows.map(({ n, ps, t }) => [
        String(n),
        String(n * run.playersPerNode),
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
    `**One Redis core reaches ${SATURATION_CPU_PERCENT} % at about ${Number.isFinite(saturation) ? saturation.toFixed(0) : "n/a"} nodes (${Number.isFinite(saturation) ? (saturation * run.playersPerNode).toFixed(0) : "n/a"} players)**, from the fit Redis CPU % = ${fit.a.toFixed(2)}·n + ${fit.b.toFixed(3)}·n² over the means above: the linear part is each node's own writes, the square part every node's orphan scan reading every room's lease four times a second.`,
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
