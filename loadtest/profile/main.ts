/**
 * `npm run profile`: where a server's time goes at a given load. Each server is started fresh on
 * the server core, loaded with lean bots from the other core, and measured over three windows at
 * the same load: a plain one (CPU from /proc, tick and loop delay, `--trace-gc`), one under the
 * CPU profiler, and one under the sampling heap profiler (objects since collected included). The
 * profiles are written to `--out` and summarised as docs/performance.md's tables.
 *
 *   npm run profile -- --servers baseline,cluster --players 760,1190 --seconds 10 --out /tmp/prof
 *
 * `--compare` instead measures only plain windows of several variants of one server kind,
 * interleaved (A B B A …) over `--rounds`, each window a fresh process, and prints ratios to the
 * first variant: a variant is `name=kind[:main.ts][ NAME=value…][ node flags…]`, for example
 * `--variant before=cluster:/tmp/before/server/main.ts --variant after=cluster` or
 * `--variant nojournal=cluster JOURNAL=off`. Each window's GC trace is kept in `--out` as
 * `<variant>-round-<n>-<players>.gc.log`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable, parseFlags } from "../../server/cli.ts";
import { LOAD_GENERATOR_ADDRESSES } from "../processes.ts";
import { freePort } from "../ports.ts";
import { ROOM_SIZE, TICK_HZ } from "../bench/capacity.ts";
import { startTarget, TARGET_KINDS, TARGET_NAMES, type TargetKind } from "../bench/capacity-targets.ts";
import { Crowd, SETTLE_MS } from "../bench/crowd.ts";
import { describeMachine, machineLine, pinSelf } from "../bench/machine.ts";
import { allocationBreakdown, type Breakdown, cpuBreakdown, type CpuProfile, GROUPS, type HeapProfile } from "./breakdown.ts";
import { summarizeGcTrace } from "./gc-trace.ts";
import { InspectorSession } from "./inspector.ts";

console.info = () => undefined;
console.warn = () => undefined;
process.env.LIMIT_EXEMPT_IPS ??= LOAD_GENERATOR_ADDRESSES;

const spec = {
  servers: { type: "string", help: `comma-separated: ${TARGET_KINDS.join(",")} (default baseline,cluster)` },
  players: { type: "string", help: "comma-separated loads, in players (default 760,1190)" },
  seconds: { type: "string", help: "seconds of each window (3 to 120, default 10)" },
  out: { type: "string", help: "directory for the profiles and the summary (default profiles/)" },
  "node-flag": { type: "string", multiple: true, help: "a Node flag for every server started (repeatable)" },
  main: { type: "string", help: "the Locus node script to profile (default this checkout's server/main.ts), e.g. another checkout's" },
  compare: { type: "boolean", help: "measure --variant s interleaved, without profilers" },
  variant: { type: "string", multiple: true, help: "with --compare: name=kind[:main.ts][ NAME=value…][ node flags…] (repeatable)" },
  rounds: { type: "string", help: "with --compare: rounds of the interleaved variants (1 to 20, default 3)" },
} as const;
const flags = parseFlags("npm run profile --", spec);
const listOf = (name: "servers" | "players", fallback: string) => (typeof flags.values[name] === "string" ? (flags.values[name] as string) : fallback).split(",").map((s) => s.trim());
const seconds = flags.int("seconds", 10, 3, 120);
const rounds = flags.int("rounds", 3, 1, 20);
const players = listOf("players", "760,1190").map((p) => {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 10 || n > 5000) flags.fail(`--players takes whole numbers from 10 to 5000, got ${JSON.stringify(p)}`);
  return n;
});
const out = typeof flags.values.out === "string" ? flags.values.out : "profiles";
const extraFlags = flags.all("node-flag");

interface Variant {
  readonly name: string;
  readonly kind: TargetKind;
  readonly main?: string;
  readonly nodeFlags: string[];
  /** Environment for the server process, over the kind's own (JOURNAL=off, CHECKPOINT_MS=…). */
  readonly env: Record<string, string>;
}
const words = (text: string | undefined) => (text ?? "").trim().split(/\s+/).filter(Boolean);
const parseVariant = (text: string): Variant => {
  const m = /^([\w.-]+)=(\w+)(?::(\S+))?((?:\s+[A-Z][A-Z0-9_]*=\S*)*)((?:\s+--\S+)*)\s*$/.exec(text);
  if (!m || !TARGET_KINDS.includes(m[2] as TargetKind)) return flags.fail(`--variant takes name=kind[:main.ts][ NAME=value…][ --node-flags], kind one of ${TARGET_KINDS.join(", ")}; got ${JSON.stringify(text)}`);
  const env = Object.fromEntries(words(m[4]).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
  return { name: m[1]!, kind: m[2] as TargetKind, main: m[3], env, nodeFlags: [...extraFlags, ...words(m[5])] };
};

/** Joins in flight while a server is loaded: one at a time takes minutes on a busy machine. */
const RAMP_CONCURRENCY = 4;

const machine = describeMachine();
pinSelf(machine);
mkdirSync(out, { recursive: true });
const progress = (line: string) => process.stderr.write(`${line}\n`);

interface Window {
  /** Player-ticks the server served in the window (its rooms' ticks, ROOM_SIZE players each): on a busy machine fewer than the load asks for. */
  readonly playerTicks: number;
  readonly cpuPercent: number;
  readonly cpuPerPlayerTickUs: number;
  readonly tickDueP99Ms: number;
  readonly loopDelayP99Ms: number;
  readonly tickP99Ms: number;
  readonly bytesPerSecondPerBot: number;
  readonly ackP99Ms: number | null;
  readonly botLoopDelayP99Ms: number;
  /** A cluster node's journal calls to Redis per second (one per tick when the loop keeps up), null for a server without one. */
  readonly journalWritesPerSecond: number | null;
  readonly gc: ReturnType<typeof summarizeGcTrace> & { readonly perSecond: number; readonly fullPerSecond: number; readonly msPerSecond: number; readonly mbPerSecond: number };
}

/** One fresh server at `load` players: a plain window, then (when asked) the profilers' windows. */
async function measure(kind: TargetKind, load: number, o: { main?: string; nodeFlags: string[]; env?: Record<string, string>; profile: boolean; label: string }) {
  const inspectPort = o.profile ? await freePort() : undefined;
  const target = await startTarget(kind, {
    cpus: machine.serverCpus,
    main: o.main,
    env: o.env,
    nodeFlags: ["--trace-gc", ...o.nodeFlags, ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [])],
  });
  const server = target.procs[0]!;
  const crowd = new Crowd(target.url);
  try {
    await crowd.growTo(load, RAMP_CONCURRENCY);
    await new Promise((r) => setTimeout(r, SETTLE_MS + 1000));
    const from = server.output().length;
    await target.probe.start();
    const bots = await crowd.measure(seconds);
    const s = await target.probe.finish();
    const trace = server.output().slice(from);
    // Kept for a closer look: run a variant with `--trace-gc-nvp` for what each scavenge copied and promoted.
    writeFileSync(join(out, `${o.label.replace(/\W+/g, "-").replace(/-$/, "")}-${load}.gc.log`), trace);
    const gc = summarizeGcTrace(trace);
    const playerTicks = s.ticks * ROOM_SIZE;
    const window: Window = {
      playerTicks,
      cpuPercent: (s.cpuSeconds / bots.seconds) * 100,
      cpuPerPlayerTickUs: (s.cpuSeconds / playerTicks) * 1e6,
      tickDueP99Ms: s.loopDelayP99Ms + s.tickP99Ms,
      loopDelayP99Ms: s.loopDelayP99Ms,
      tickP99Ms: s.tickP99Ms,
      bytesPerSecondPerBot: bots.bytesPerSecondPerBot,
      ackP99Ms: bots.ackP99Ms,
      botLoopDelayP99Ms: bots.botLoopDelayP99Ms,
      journalWritesPerSecond: s.journal && s.journal.writes > 0 ? s.journal.writes / bots.seconds : null,
      gc: { ...gc, perSecond: gc.scavenges / bots.seconds, fullPerSecond: gc.fullGcs / bots.seconds, msPerSecond: (gc.scavengeMs + gc.fullGcMs) / bots.seconds, mbPerSecond: gc.scavengedMb / bots.seconds },
    };
    progress(
      `${o.label} at ${load}: ticks served ${((playerTicks / (load * TICK_HZ * bots.seconds)) * 100).toFixed(0)} % of due, CPU ${window.cpuPercent.toFixed(0)} %, ${window.cpuPerPlayerTickUs.toFixed(1)} µs/player-tick, tick p99 ${window.tickDueP99Ms.toFixed(1)} ms (loop ${window.loopDelayP99Ms.toFixed(1)} + tick ${window.tickP99Ms.toFixed(2)}), ` +
        `${window.gc.perSecond.toFixed(1)} scavenges/s (${window.gc.msPerSecond.toFixed(1)} ms/s, max ${gc.scavengeMaxMs.toFixed(1)} ms), ${gc.fullGcs} full GCs (max ${gc.fullGcMaxMs.toFixed(1)} ms), ${window.gc.mbPerSecond.toFixed(0)} MB/s scavenged, ${window.bytesPerSecondPerBot.toFixed(0)} B/s per bot${window.journalWritesPerSecond === null ? "" : `, ${window.journalWritesPerSecond.toFixed(1)} journal calls/s`}`,
    );
    if (!inspectPort) return { window };
    const inspector = await InspectorSession.connect(inspectPort);
    try {
      // Each profiler's window is counted in the player-ticks it served.
      const served = async <T>(during: () => Promise<T>): Promise<[T, number]> => {
        await target.probe.start();
        const result = await during();
        return [result, (await target.probe.finish()).ticks * ROOM_SIZE];
      };
      await inspector.send("Profiler.enable");
      await inspector.send("Profiler.setSamplingInterval", { interval: 250 });
      const [cpu, cpuPlayerTicks] = await served(async () => {
        await inspector.send("Profiler.start");
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return (await inspector.send<{ profile: CpuProfile }>("Profiler.stop")).profile;
      });
      await inspector.send("HeapProfiler.enable");
      const [heap, heapPlayerTicks] = await served(async () => {
        await inspector.send("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return (await inspector.send<{ profile: HeapProfile }>("HeapProfiler.stopSampling")).profile;
      });
      const base = join(out, `${o.label}-${load}`);
      writeFileSync(`${base}.cpuprofile`, JSON.stringify(cpu));
      writeFileSync(`${base}.heapprofile`, JSON.stringify(heap));
      return { window, cpu: cpuBreakdown(cpu), cpuPlayerTicks, alloc: allocationBreakdown(heap), heapPlayerTicks };
    } finally {
      inspector.close();
    }
  } finally {
    crowd.close();
    await target.stop();
  }
}

function breakdownTables(title: string, load: number, cpu: Breakdown, cpuPlayerTicks: number, alloc: Breakdown, heapPlayerTicks: number): string {
  const perCpuTick = (us: number) => (us / cpuPlayerTicks).toFixed(2);
  const perHeapTick = (bytes: number) => (bytes / heapPlayerTicks).toFixed(0);
  const rows = [...cpu.byCategory].sort((a, b) => b[1].amount - a[1].amount);
  return [
    `### ${title} at ${load} players`,
    "",
    formatTable(
      ["group", "category", "% of busy CPU", "µs per player-tick", "alloc bytes per player-tick"],
      rows.map(([category, c]) => [
        c.group,
        category,
        ((c.amount / cpu.total) * 100).toFixed(1),
        perCpuTick(c.amount),
        perHeapTick(alloc.byCategory.get(category)?.amount ?? 0),
      ]),
    ),
    formatTable(
      ["group", "% of busy CPU", "µs per player-tick", "alloc bytes per player-tick"],
      GROUPS.map((g) => [g, (((cpu.byGroup.get(g) ?? 0) / cpu.total) * 100).toFixed(1), perCpuTick(cpu.byGroup.get(g) ?? 0), perHeapTick(alloc.byGroup.get(g) ?? 0)]),
    ),
    `busy CPU in the profile: ${perCpuTick(cpu.total)} µs per player-tick served (main thread only); allocated: ${perHeapTick(alloc.total)} bytes per player-tick served`,
    "",
    "top frames by own CPU:",
    formatTable(["frame", "category", "µs per player-tick"], cpu.topFrames.slice(0, 25).map((f) => [f.frame, f.category, perCpuTick(f.amount)])),
    "top frames by bytes allocated:",
    formatTable(["frame", "category", "bytes per player-tick"], alloc.topFrames.slice(0, 25).map((f) => [f.frame, f.category, perHeapTick(f.amount)])),
  ].join("\n");
}

const report: string[] = [`machine: ${machineLine(machine)}; servers on CPU ${machine.serverCpus ?? "any"}, bots on CPU ${machine.botCpus ?? "any"}`, ""];
if (flags.values.compare) {
  const variants = flags.all("variant").map(parseVariant);
  if (variants.length < 2) flags.fail("--compare needs two or more --variant");
  for (const load of players) {
    const windows = new Map<string, Window[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const { window } = await measure(v.kind, load, { main: v.main, nodeFlags: v.nodeFlags, env: v.env, profile: false, label: `${v.name} (round ${round + 1})` });
        windows.get(v.name)!.push(window);
      }
    }
    const mean = (ws: Window[], pick: (w: Window) => number) => ws.reduce((a, w) => a + pick(w), 0) / ws.length;
    const first = windows.get(variants[0]!.name)!;
    const measures: [string, (w: Window) => number][] = [
      ["CPU µs per player-tick", (w) => w.cpuPerPlayerTickUs],
      ["tick p99 (due → sent), ms", (w) => w.tickDueP99Ms],
      ["scavenges per second", (w) => w.gc.perSecond],
      ["GC pause, ms per second", (w) => w.gc.msPerSecond],
      ["scavenge max, ms", (w) => w.gc.scavengeMaxMs],
      ["full GCs per second", (w) => w.gc.fullPerSecond],
      ["full GC max, ms", (w) => w.gc.fullGcMaxMs],
      ["MB scavenged per second", (w) => w.gc.mbPerSecond],
      ["bytes/s per client", (w) => w.bytesPerSecondPerBot],
      ["ack p99, ms", (w) => w.ackP99Ms ?? 0],
      ["journal calls per second", (w) => w.journalWritesPerSecond ?? 0],
    ];
    report.push(
      `## ${load} players, ${rounds} rounds interleaved, ${seconds} s windows`,
      "",
      formatTable(
        ["measure", ...variants.map((v) => v.name), ...variants.slice(1).map((v) => `${v.name} / ${variants[0]!.name}`)],
        measures.map(([name, pick]) => [
          name,
          ...variants.map((v) => `${mean(windows.get(v.name)!, pick).toFixed(2)} (${windows.get(v.name)!.map((w) => pick(w).toFixed(1)).join(", ")})`),
          ...variants.slice(1).map((v) => `${(mean(windows.get(v.name)!, pick) / mean(first, pick)).toFixed(3)}×`),
        ]),
      ),
    );
  }
} else {
  for (const kind of listOf("servers", "baseline,cluster")) {
    if (!TARGET_KINDS.includes(kind as TargetKind)) flags.fail(`--servers takes ${TARGET_KINDS.join(", ")}; got ${JSON.stringify(kind)}`);
    for (const load of players) {
      const main = kind === "baseline" || typeof flags.values.main !== "string" ? undefined : flags.values.main;
      const r = await measure(kind as TargetKind, load, { main, nodeFlags: extraFlags, profile: true, label: kind });
      const w = r.window;
      report.push(
        `## ${TARGET_NAMES[kind as TargetKind]}`,
        "",
        `plain window: CPU ${w.cpuPercent.toFixed(1)} % (${w.cpuPerPlayerTickUs.toFixed(2)} µs per player-tick served, all threads, /proc; ${((w.playerTicks / (load * TICK_HZ * seconds)) * 100).toFixed(0)} % of due ticks served), tick p99 ${w.tickDueP99Ms.toFixed(1)} ms (loop ${w.loopDelayP99Ms.toFixed(1)} + tick ${w.tickP99Ms.toFixed(2)}), ` +
          `GC: ${w.gc.perSecond.toFixed(1)} scavenges/s, ${w.gc.msPerSecond.toFixed(1)} ms/s paused, longest ${w.gc.scavengeMaxMs.toFixed(1)} ms, ${w.gc.mbPerSecond.toFixed(0)} MB/s scavenged; ${w.gc.fullGcs} full GCs; ${w.bytesPerSecondPerBot.toFixed(0)} B/s per client`,
        "",
        breakdownTables(TARGET_NAMES[kind as TargetKind], load, r.cpu!, r.cpuPlayerTicks!, r.alloc!, r.heapPlayerTicks!),
      );
    }
  }
}
const text = report.join("\n");
writeFileSync(join(out, flags.values.compare ? "compare.txt" : "summary.txt"), text);
process.stdout.write(`${text}\n`);
process.exit(0);
