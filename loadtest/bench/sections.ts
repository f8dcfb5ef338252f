/**
 * BENCHMARKS.md's sections: each measurement's tables, written for a reader who compares, with
 * the command that redoes it, and the plots to draw beside them.
 */
import { markdownTable as table, ms, percentile } from "../report.ts";
import type { svgLineChart } from "../svg-plot.ts";
import { BOTS_SATURATED_MS, BUDGET_MS, CAPACITY_RUNS, type CapacityResult, type CapacityStep, ROOM_SIZE, TICK_HZ } from "./capacity.ts";
import type { ChaosTimelineRun } from "./chaos-timeline.ts";
import { CHECKPOINT_SETTINGS, type CheckpointCostRun } from "./checkpoint-cost.ts";
import { SETTLE_MS } from "./crowd.ts";
import type { DrainRun } from "./drain.ts";
import { type KillResult, RECOVERY_LIMIT_MS } from "./failover.ts";
import { GATEWAY_PATHS, type GatewayCostRun, PAIRED_PATHS } from "./gateway-cost.ts";
import type { LoadWindow } from "./load-window.ts";

export interface SectionContext {
  readonly machine: string;
  readonly date: string;
  readonly pinning: string;
}

export interface Plot {
  /** File name inside bench-plots/. */
  readonly file: string;
  readonly chart: Parameters<typeof svgLineChart>[0];
}

export interface Section {
  readonly markdown: string;
  readonly plots: Plot[];
}

const TICK_MS = 1000 / TICK_HZ;
const f1 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? "n/a" : n.toFixed(1));
const msOr = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(1)} ms`);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
export const header = (title: string, ctx: SectionContext, command: string) =>
  [`## ${title}`, "", `Command: \`${command}\` · ${ctx.date} · ${ctx.machine} · ${ctx.pinning}.`, ""].join("\n");
const cpuPercent = (w: LoadWindow) => (w.server.cpuSeconds / w.bots.seconds) * 100;
const tickDue = (w: LoadWindow) => w.server.loopDelayP99Ms + w.server.tickP99Ms;

export function capacitySection(results: readonly CapacityResult[], ctx: SectionContext, command: string): Section {
  // The side-by-side step: the most players every server passed at, in any of its runs.
  const passed = results.map((r) => new Set(r.runs.flatMap((run) => run.steps.filter((s) => s.pass).map((s) => s.players))));
  const common = Math.max(0, ...[...(passed[0] ?? [])].filter((n) => passed.every((p) => p.has(n))));
  const stepAt = (r: CapacityResult, players: number) => [r.medianRun, ...r.runs].flatMap((run) => run.steps).find((s) => s.players === players && s.pass);
  const atCommon = results.map((r) => stepAt(r, common));
  const baseline = atCommon[0];
  const locus = atCommon[atCommon.length - 1];
  const first = results[0];
  const last = results[results.length - 1];
  const lines = [
    header(`Players per core (${TICK_HZ} Hz, rooms of ${ROOM_SIZE})`, ctx, command),
    `Each server runs alone on one core. Lean bots join ${ROOM_SIZE} to a room, step by step, and every step is measured for the window the command gives after ${SETTLE_MS / 1000} s of settling. **Tick p99** is counted from when a tick fell due to when its patch left: the server's event-loop delay p99 (a due tick waits behind every other room on the core) plus its tick time p99 (simulation and patch). A step passes while that stays within half the ${TICK_MS.toFixed(1)} ms budget (${(BUDGET_MS / 2).toFixed(1)} ms), no bot is dropped and the bots' own event loop is not saturated (p99 within ${BOTS_SATURATED_MS} ms); a step that fails is measured a second time and fails only if that window fails too (the tables show the passing window, or the worse failing one). **Each server is measured ${CAPACITY_RUNS} times, each run on a fresh process, the servers taking turns, and holds the median of its runs' knees**, so one noisy window or run cannot move it: the first run climbs from 20 players about a quarter more each step, then in steps about a tenth apart between its last pass and its first failure; each later run starts two such steps below the first run's knee and climbs a tenth at a time. The baseline is a plain Colyseus 0.18 room playing the same game (the same schema, rules and inputs) with Colyseus's own ${TICK_HZ} Hz patch timer and none of Locus's checkpoints, leases or gateway; CPU comes from /proc for every server alike.`,
    "",
    table(
      ["server", `players held on one core (median of ${CAPACITY_RUNS})`, "each run", "stopped by", "CPU per player per tick there", "bytes/s per client there"],
      results.map((r) => {
        const at = stepAt(r, r.held);
        return [r.name, `**${r.held}**`, r.runs.map((run) => run.held).join(", "), r.medianRun.stoppedBy, at ? `${at.cpuPerPlayerTickUs.toFixed(1)} µs` : "n/a", at ? at.bots.bytesPerSecondPerBot.toFixed(0) : "n/a"];
      }),
    ),
    "",
  ];
  if (first && last && results.length > 1) lines.push(`**Players held, Locus cluster node / baseline: ${ratio(last.held, first.held)}**.`, "");
  if (baseline && locus && common > 0) {
    lines.push(
      `Side by side at ${common} players (the largest step every server passed); the last column is Locus as a cluster node over the plain Colyseus room:`,
      "",
      table(
        ["measure", ...results.map((r) => r.name), "Locus cluster / baseline"],
        [
          ["server CPU, % of one core", ...atCommon.map((s) => f1(s?.cpuPercent)), ratio(locus.cpuPercent, baseline.cpuPercent)],
          ["CPU per player per tick", ...atCommon.map((s) => `${f1(s?.cpuPerPlayerTickUs)} µs`), ratio(locus.cpuPerPlayerTickUs, baseline.cpuPerPlayerTickUs)],
          ["tick p99 (due → patch sent)", ...atCommon.map((s) => msOr(s?.tickDueP99Ms ?? null)), ratio(locus.tickDueP99Ms, baseline.tickDueP99Ms)],
          ["input-to-ack p50", ...atCommon.map((s) => msOr(s?.bots.ackP50Ms ?? null)), ratio(locus.bots.ackP50Ms ?? 0, baseline.bots.ackP50Ms ?? 0)],
          ["input-to-ack p99", ...atCommon.map((s) => msOr(s?.bots.ackP99Ms ?? null)), ratio(locus.bots.ackP99Ms ?? 0, baseline.bots.ackP99Ms ?? 0)],
          ["bytes per second per client", ...atCommon.map((s) => f1(s?.bots.bytesPerSecondPerBot)), ratio(locus.bots.bytesPerSecondPerBot, baseline.bots.bytesPerSecondPerBot)],
        ],
      ),
      "",
    );
  }
  lines.push("![tick p99 against players](bench-plots/capacity-tick-p99.svg)", "", "![server CPU against players](bench-plots/capacity-cpu.svg)", "");
  for (const r of results) {
    lines.push(
      `<details><summary>${r.name}: every step of every run</summary>`,
      "",
      table(
        ["run", "players", "tick p99 (due → sent)", "loop delay p99", "tick time p99", "CPU %", "CPU per player-tick", "bytes/s per client", "ack p50", "ack p99", "bots' loop p99"],
        r.runs.flatMap((run, i) =>
          run.steps.map((s) => [
            String(i + 1),
            String(s.players),
            `${s.tickDueP99Ms.toFixed(1)} ms${s.pass ? "" : " ✗"}`,
            `${s.server.loopDelayP99Ms.toFixed(1)} ms`,
            `${s.server.tickP99Ms.toFixed(2)} ms`,
            s.cpuPercent.toFixed(0),
            `${s.cpuPerPlayerTickUs.toFixed(1)} µs`,
            s.bots.bytesPerSecondPerBot.toFixed(0),
            msOr(s.bots.ackP50Ms),
            msOr(s.bots.ackP99Ms),
            `${s.bots.botLoopDelayP99Ms.toFixed(1)} ms`,
          ]),
        ),
      ),
      "",
      "</details>",
      "",
    );
  }
  // The first run climbs from the bottom, so it draws each server's whole curve.
  const series = (pick: (s: CapacityStep) => number) =>
    results.map((r) => ({ name: r.name, points: [...(r.runs[0]?.steps ?? [])].sort((a, b) => a.players - b.players).map((s) => [s.players, pick(s)] as const) }));
  return {
    markdown: lines.join("\n"),
    plots: [
      {
        file: "capacity-tick-p99.svg",
        chart: { title: `Tick p99 (due → patch sent) on one core, ${TICK_HZ} Hz, rooms of ${ROOM_SIZE} (first run)`, xLabel: "players", yLabel: "ms", series: series((s) => s.tickDueP99Ms), threshold: { y: BUDGET_MS / 2, label: "half the tick budget" } },
      },
      { file: "capacity-cpu.svg", chart: { title: "Server CPU on one core (first run)", xLabel: "players", yLabel: "% of one core", series: series((s) => s.cpuPercent) } },
    ],
  };
}

/**
 * The profiled window's reading: a share of one node's own time, free of the noise between fresh
 * nodes that the A/B above carries, turned into points of a core at the unprofiled default's CPU.
 */
function profiledLines(profiled: CheckpointCostRun["profiled"], defaultCpu: number): string[] {
  if (!profiled) return ["The profiled window gave no profile (the node did not exit on SIGTERM).", ""];
  const pct = (share: number) => (share * 100).toFixed(1);
  const points = (share: number) => ((share * defaultCpu) / (1 - share)).toFixed(1);
  return [
    `**From a CPU profile of one more node at the default rate with the journal on** (its CPU ${profiled.cpuPercent.toFixed(1)} % of a core, profiling included): the journal took ${pct(profiled.shares.journal)} % of the node's busy time (recording each step's sticks, encoding the batches, the Redis call), about ${points(profiled.shares.journal)} points of a core on top of the default's ${defaultCpu.toFixed(1)} %, and checkpoints ${pct(profiled.shares.checkpoints)} %. Garbage collection of what they allocate is not in these shares.`,
    "",
  ];
}

export function checkpointSection(run: CheckpointCostRun, ctx: SectionContext, command: string): Section {
  const rows = CHECKPOINT_SETTINGS.map((setting, i) => {
    const ws = run.windows[i]!;
    const perSecond = mean(ws.map((w) => (w.server.checkpoints?.count ?? 0) / w.bots.seconds));
    const count = ws.reduce((n, w) => n + (w.server.checkpoints?.count ?? 0), 0);
    const bytes = ws.reduce((n, w) => n + (w.server.checkpoints?.bytes ?? 0), 0);
    return {
      setting,
      cpu: mean(ws.map(cpuPercent)),
      cells: [
        setting.label,
        ws.map((w) => cpuPercent(w).toFixed(1)).join(", "),
        mean(ws.map(cpuPercent)).toFixed(1),
        `${mean(ws.map(tickDue)).toFixed(1)} ms`,
        perSecond.toFixed(1),
        count > 0 ? `${(bytes / count).toFixed(0)} B` : "n/a",
        mean(ws.map((w) => w.extraCpuPercent.redis ?? 0)).toFixed(1),
        msOr(mean(ws.map((w) => w.bots.ackP99Ms ?? 0))),
      ],
      perSecond,
    };
  });
  const [off, on, often, journaled] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
  const journalWindows = run.windows[3]!;
  const journalWritesPerSecond = mean(journalWindows.map((w) => (w.server.journal?.writes ?? 0) / w.bots.seconds));
  const journalBytesPerSecond = mean(journalWindows.map((w) => (w.server.journal?.bytes ?? 0) / w.bots.seconds));
  const redisCpu = (i: number) => mean(run.windows[i]!.map((w) => w.extraCpuPercent.redis ?? 0));
  const perCheckpointUs = often.perSecond - off.perSecond > 0 ? (((often.cpu - off.cpu) / 100) * 1e6) / (often.perSecond - off.perSecond) : Number.NaN;
  const expectedAtDefault = (perCheckpointUs * on.perSecond) / 1e4;
  return {
    markdown: [
      header("Checkpoint overhead", ctx, command),
      `One cluster node on one core with ${run.players} players in rooms of ${ROOM_SIZE}: checkpoints nearly off, at the default rate, ten times as often, and at the default rate with the input journal on, alternated ${run.windows[0]!.length} times (the order reversed every other round; each window a fresh node and Redis). Redis shares the server core.`,
      "",
      table(["checkpoints", "node CPU % (each round)", "node CPU % (mean)", "tick p99 (due → sent)", "checkpoints written/s", "mean checkpoint size", "Redis CPU %", "ack p99"], rows.map((r) => r.cells)),
      "",
      `**The input journal costs ${(journaled.cpu - on.cpu).toFixed(1)} points of node CPU (${ratio(journaled.cpu, on.cpu)} the default's) and ${(redisCpu(3) - redisCpu(1)).toFixed(1)} points of Redis CPU**, for ${journalWritesPerSecond.toFixed(1)} Redis calls per second from the node (one per tick at most, whatever the number of rooms) carrying ${(journalBytesPerSecond / 1024).toFixed(1)} KiB/s.`,
      "",
      ...profiledLines(run.profiled, on.cpu),
      `**Node CPU with checkpoints on / nearly off: ${ratio(on.cpu, off.cpu)}**, from this run. The tenfold rate puts a price on each one: ${Number.isFinite(perCheckpointUs) ? `${perCheckpointUs.toFixed(0)} µs` : "n/a"} of node CPU per checkpoint written (snapshot, serialisation and the Redis call), so the default rate should cost about ${Number.isFinite(expectedAtDefault) ? expectedAtDefault.toFixed(1) : "n/a"} % of a core here; where the measured ratio strays further from 1 than that, it is the noise between fresh nodes.`,
      "",
    ].join("\n"),
    plots: [],
  };
}

export function gatewaySection(run: GatewayCostRun, ctx: SectionContext, command: string): Section {
  const agg = GATEWAY_PATHS.map((path, i) => {
    const ws = run.windows[i]!;
    const node = mean(ws.map(cpuPercent));
    const relay = mean(ws.map((w) => w.extraCpuPercent.gateway ?? 0));
    return {
      path,
      p50: meanOf(ws.map((w) => w.bots.ackP50Ms)),
      p99: meanOf(ws.map((w) => w.bots.ackP99Ms)),
      pingP50: meanOf(ws.map((w) => w.bots.pingP50Ms)),
      pingP99: meanOf(ws.map((w) => w.bots.pingP99Ms)),
      node,
      relay,
      relayUsPerPlayerSecond: ((relay / 100) * 1e6) / run.players,
      redis: mean(ws.map((w) => w.extraCpuPercent.redis ?? 0)),
    };
  });
  const direct = agg[0]!;
  const row = (a: (typeof agg)[number]) => [
    a.path.name,
    `${a.p50.toFixed(1)} / ${a.p99.toFixed(1)} ms`,
    a.path.relay ? `${signed(a.p50 - direct.p50)} / ${signed(a.p99 - direct.p99)}` : "",
    `${a.pingP50.toFixed(2)} / ${a.pingP99.toFixed(2)} ms`,
    a.path.relay ? `${signed(a.pingP50 - direct.pingP50)} / ${signed(a.pingP99 - direct.pingP99)}` : "",
    a.node.toFixed(1),
    a.path.relay ? a.relay.toFixed(1) : "",
    a.path.relay ? `${a.relayUsPerPlayerSecond.toFixed(0)} µs` : "",
    a.path.relay ? `${((a.relay / a.node) * 100).toFixed(0)} %` : "",
    a.redis.toFixed(1),
  ];
  const own = (relay: string, follow = false) => agg.find((a) => a.path.relay === relay && a.path.core === "own" && (a.path.follow === true) === follow)!;
  const pairedAdded = PAIRED_PATHS.map((path, i) => {
    const ws = run.paired[i]!;
    // A half with no sample in a window (none acknowledged, none echoed) leaves that round out.
    const added = (at: "ackP50Ms" | "ackP99Ms" | "pingP50Ms" | "pingP99Ms") => ws.flatMap((w) => (w.relayed[at] === null || w.direct[at] === null ? [] : [w.relayed[at] - w.direct[at]]));
    return { path, ack99: added("ackP99Ms"), ping50: added("pingP50Ms"), ping99: added("pingP99Ms"), directPing99: ws.flatMap((w) => (w.direct.pingP99Ms === null ? [] : [w.direct.pingP99Ms])) };
  });
  const verdict = (relay: string, follow = false) => {
    const a = own(relay, follow);
    const paired = pairedAdded.find((p) => p.path === a.path);
    // A mean of a few noisy rounds reads as settled; their spread says how far it is from that.
    const spread = (xs: readonly number[]) => (xs.length > 1 ? `, rounds ${signed(Math.min(...xs))} to ${signed(Math.max(...xs))}` : "");
    const added = paired ? `${signed(meanOf(paired.ping99))} at p99 (a PING's round trip, paired${spread(paired.ping99)})` : `${signed(a.pingP99 - direct.pingP99)} at p99 (a PING's round trip)`;
    return `${a.path.name}: **${a.relayUsPerPlayerSecond.toFixed(0)} µs of CPU per player per second, ${((a.relay / a.node) * 100).toFixed(0)} % of the node's CPU per player, ${added}**`;
  };
  return {
    markdown: [
      header("Gateway cost", ctx, command),
      `One cluster node on the server core, ${run.players} players in rooms of ${ROOM_SIZE}, joined directly to the node and through a gateway with each data plane: HAProxy (\`GATEWAY_RELAY=haproxy\`, the default: the gateway routes each upgrade, HAProxy carries the socket's bytes) and the gateway's own Node process (\`GATEWAY_RELAY=node\`, which pipes every socket through Node streams). Each gateway runs once on the node's core and once on a core of its own (CPU ${run.ownCore ?? "n/a"}, which the bots share on a machine of fewer than three cores). The followers (the lean bots' \`followRoom\`, as the game's client library does it) matchmake and ask for their room's address through the HAProxy gateway on its own core, and open their sockets to the node's \`PUBLIC_URL\` (docs/architecture.md, "Direct connections"): the gateway's whole cost for players whose clients follow their room. The paths alternate, the order reversed every other round, ${run.windows[0]!.length} rounds; the figures are means over the rounds. Relay CPU is the gateway's process and its HAProxy together, from /proc; "added" is against the direct path of the same run.`,
      "",
      `Latency two ways. Input-to-ack is what a player feels, but it includes the wait for the room's next tick (0 to ${TICK_MS.toFixed(1)} ms, set by each bot's phase against its room's), so a few bots' phases move its p99 by more than a millisecond. Every bot also sends Colyseus's PING twice a second, which the node echoes as soon as its loop reads it: the same path both ways and the same loop delay, with no tick to wait for, so what a path adds to it is what it adds to an input and its ack.`,
      "",
      table(["path", "input-to-ack p50 / p99", "added", "PING round trip p50 / p99", "added", "node CPU %", "relay CPU %", "relay CPU per player per second", "relay / node CPU", "Redis CPU %"], agg.map(row)),
      "",
      `Between windows the node's moment moves both latencies by more than the target's millisecond, so each round ends with paired windows: ${Math.floor(run.players / 2)} players straight to the node and ${Math.ceil(run.players / 2)} on the path, joined in turns, each half first in every other turn (so they share rooms, and neither half is read or written to first when the node's loop is busy), and measured over the same seconds; the difference between the halves is what the path adds, the rest of the window being common to both.`,
      "",
      table(
        ["path", "PING p50 added, per round", "PING p99 added, per round", "PING p99 added, mean", "direct half's PING p99, per round", "input-to-ack p99 added, per round"],
        pairedAdded.map((p) => [p.path.name, p.ping50.map(signed).join(", "), p.ping99.map(signed).join(", "), signed(meanOf(p.ping99)), p.directPing99.map((x) => `${x.toFixed(2)} ms`).join(", "), p.ack99.map(signed).join(", ")]),
      ),
      "",
      `Targets: the relay at most 25 % of the node's CPU per player and at most 1 ms added at p99 on a core of its own. ${verdict("haproxy")}; ${verdict("node")}; ${verdict("haproxy", true)}.`,
      "",
    ].join("\n"),
    plots: [],
  };
}

function signed(x: number): string {
  if (Number.isNaN(x)) return "n/a";
  return `${x >= 0 ? "+" : ""}${x.toFixed(Math.abs(x) < 10 ? 2 : 1)} ms`;
}

/** The mean of the windows that had a figure; NaN when none had. */
function meanOf(xs: readonly (number | null)[]): number {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? Number.NaN : mean(known);
}

/** The same kills, run once with each setting of the journal, side by side. */
export interface FailoverRuns {
  readonly withoutJournal: readonly KillResult[];
  readonly withJournal: readonly KillResult[];
}

export function failoverSection(runs: FailoverRuns, ctx: SectionContext, command: string): Section {
  const both = [runs.withoutJournal, runs.withJournal] as const;
  const recovered = both.map((results) => results.flatMap((r) => r.recoveredMs));
  const lost = both.map((results) => results.flatMap((r) => r.lostTicks));
  const failed = both.map((results) => results.reduce((n, r) => n + r.failed, 0));
  const lostTicks = (xs: readonly number[], at: number) => `${percentile(xs, at)} ticks (${ms(percentile(xs, at) * TICK_MS)})`;
  const row = (name: string, cell: (i: 0 | 1) => string) => [name, cell(0), cell(1)];
  const journaled = runs.withJournal.filter((r) => r.replays > 0);
  const replays = journaled.reduce((n, r) => n + r.replays, 0);
  const replaySeconds = journaled.reduce((n, r) => n + r.replaySeconds, 0);
  const replayedTicks = journaled.reduce((n, r) => n + r.replayedTicks, 0);
  return {
    markdown: [
      header("Crash recovery (SIGKILL), without and with the input journal", ctx, command),
      "Three nodes (rooms of 6) and a gateway with full bots (the game's client library) spread over them; again and again the node holding the most bots is SIGKILLed and restarted empty under its name. The whole run is done twice in one command, first with `JOURNAL=off`, then with `JOURNAL=on`. Recovery: from the SIGKILL to the bot receiving state from the room's new node, in the same client Room object, without reloading. State lost: ticks between the last state the bot saw from the dead node and the first from the new one. CHECKPOINT_MS 1000, ROOM_LEASE_MS 1500, heartbeat 250 ms.",
      "",
      table(
        ["measure", "without journal", "with journal"],
        [
          row("kills", (i) => String(both[i].length)),
          row("bot recoveries measured", (i) => `${recovered[i]!.length} (not recovered within ${RECOVERY_LIMIT_MS / 1000} s: ${failed[i]})`),
          row("**state lost p50**", (i) => `**${lostTicks(lost[i]!, 0.5)}**`),
          row("**state lost p99**", (i) => `**${lostTicks(lost[i]!, 0.99)}**`),
          row("**state lost max**", (i) => `**${Math.max(0, ...lost[i]!)} ticks (${ms(Math.max(0, ...lost[i]!) * TICK_MS)})**`),
          row("recovery p50", (i) => ms(percentile(recovered[i]!, 0.5))),
          row("**recovery p99**", (i) => `**${ms(percentile(recovered[i]!, 0.99))}**`),
          row("recovery max", (i) => ms(Math.max(...recovered[i]!))),
        ],
      ),
      "",
      `With the journal, ${replays} rooms were rebuilt by replaying ${replayedTicks} ticks in all on their checkpoints, in ${(replaySeconds * 1000).toFixed(1)} ms in all (${replays > 0 ? ((replaySeconds * 1000) / replays).toFixed(2) : "n/a"} ms per room), read from the successors' \`locus_journal_replay_seconds\`.`,
      "",
      "![recovery per kill](bench-plots/failover-recovery.svg)",
      "",
      "<details><summary>every kill</summary>",
      "",
      table(
        ["journal", "kill", "node", "rooms", "bots", "recovery p50", "recovery max", "state lost max", "ticks replayed"],
        both.flatMap((results, j) =>
          results.map((r, i) => [
            j === 0 ? "off" : "on",
            String(i + 1),
            r.node,
            String(r.rooms),
            String(r.bots),
            ms(percentile(r.recoveredMs, 0.5)),
            ms(Math.max(...r.recoveredMs)),
            `${Math.max(0, ...r.lostTicks)} ticks${r.failed ? ` (${r.failed} not recovered)` : ""}`,
            String(r.replayedTicks),
          ]),
        ),
      ),
      "",
      "</details>",
      "",
    ].join("\n"),
    plots: [
      {
        file: "failover-recovery.svg",
        chart: {
          title: "Recovery after SIGKILL, per kill",
          xLabel: "kill",
          yLabel: "ms",
          series: [
            { name: "max of the kill's bots, without journal", points: runs.withoutJournal.map((r, i) => [i + 1, Math.max(...r.recoveredMs)] as const) },
            { name: "max of the kill's bots, with journal", points: runs.withJournal.map((r, i) => [i + 1, Math.max(...r.recoveredMs)] as const) },
          ],
          threshold: { y: 1000, label: "1 s" },
        },
      },
    ],
  };
}

export function drainSection(run: DrainRun, o: { rooms: number; botsPerRoom: number; takers: number }, ctx: SectionContext, command: string): Section {
  const sorted = [...run.hitchesMs].sort((a, b) => a - b);
  return {
    markdown: [
      header("Operator drain", ctx, command),
      `One node runs ${o.rooms} rooms with ${o.rooms * o.botsPerRoom} lean bots (through one gateway); ${o.takers} other nodes take the rooms when it is drained through its admin API. Hitch: the longest gap between two state frames a bot received from the drain's start on (normal: one tick, ${TICK_MS.toFixed(0)} ms). DRAIN_PARALLELISM 4.`,
      "",
      table(
        ["measure", "value"],
        [
          ["rooms handed off", `${run.roomsMoved} of ${run.roomsTotal}`],
          ["**drain time** (admin call to node drained)", `**${ms(run.drainMs)}**`],
          ["until every bot had state from its new node", ms(run.allMovedMs)],
          ["hand-off per room p50 / p99", `${ms(percentile(run.handOffMs, 0.5))} / ${ms(percentile(run.handOffMs, 0.99))}`],
          ["**hitch p50**", `**${ms(percentile(run.hitchesMs, 0.5))}**`],
          ["**hitch p99**", `**${ms(percentile(run.hitchesMs, 0.99))}**`],
          ["hitch max", ms(Math.max(...run.hitchesMs))],
          ["ticks lost", "0 (a room resumes at the tick it froze at: test/cluster-drain.test.ts)"],
          ["bots that did not come back", String(run.botsLost)],
          ["the bots' own event-loop delay during the drain, p99 / max", `${ms(run.botLoopDelayP99Ms)} / ${ms(run.botLoopDelayMaxMs)}`],
        ],
      ),
      "",
      "![drain hitch distribution](bench-plots/drain-hitch.svg)",
      "",
    ].join("\n"),
    plots: [
      {
        file: "drain-hitch.svg",
        chart: {
          title: `Hitch per bot while ${o.rooms} rooms moved`,
          xLabel: "bots, percent (sorted by hitch)",
          yLabel: "ms",
          series: [{ name: "hitch", points: sorted.map((h, i) => [((i + 1) / sorted.length) * 100, h] as const) }],
          threshold: { y: 1000, label: "1 s" },
        },
      },
    ],
  };
}

export function chaosTimelineSection(run: ChaosTimelineRun, ctx: SectionContext, command: string): Section {
  const markers = run.events.map((e) => ({ x: e.atS, label: e.what.split(" (")[0]! }));
  const series = (name: string, pick: (p: ChaosTimelineRun["timeline"][number]) => number | null) => ({
    name,
    points: run.timeline.map((p) => [p.t, pick(p) ?? Number.NaN] as const),
  });
  return {
    markdown: [
      header("A bad day, second by second", ctx, command),
      `The load test's own swarm (${run.bots} bots, 5 % of them on the full client library) plays on three nodes through a gateway. A third of the way in the busiest node is SIGKILLed; two thirds in the busiest survivor is drained. Each point is one second. The same run as an interactive page: [bench-plots/chaos-timeline.html](bench-plots/chaos-timeline.html) (self-contained, opens offline).`,
      "",
      table(
        ["measure", "value"],
        [
          ...run.events.map((e) => [`event at ${e.atS.toFixed(1)} s`, e.what]),
          ["bot reconnects (rooms moved)", String(run.reconnected)],
          ["bots dropped for good", String(run.dropped)],
          ["longest gap between two state updates of one bot", ms(run.longestGapMs)],
          ["state lost per moved full bot (max)", run.lostTicks.length ? `${Math.max(...run.lostTicks)} ticks over ${run.lostTicks.length} moves` : "no full bot's room moved"],
        ],
      ),
      "",
      "![input-to-ack latency over time](bench-plots/chaos-latency.svg)",
      "",
      "![state updates per second over time](bench-plots/chaos-updates.svg)",
      "",
    ].join("\n"),
    plots: [
      {
        file: "chaos-latency.svg",
        chart: { title: "Input-to-ack latency, per second", xLabel: "seconds", yLabel: "ms", series: [series("p50", (p) => p.ackP50), series("p99", (p) => p.ackP99)], markers },
      },
      {
        file: "chaos-updates.svg",
        chart: { title: "State updates received per second (lean bots)", xLabel: "seconds", yLabel: "updates/s", series: [series("state updates", (p) => p.stateUpdates)], markers },
      },
    ],
  };
}
