/**
 * How many players one core holds: a server pinned to one core, rooms of 10 at 30 Hz, and a crowd
 * of lean bots on another core grown step by step until a tick's p99 passes half its budget, three
 * times on fresh processes, the knee being the median of the three. A tick is counted from when it
 * fell due to when its patch went out: the event loop's delay (the tick waits behind every other
 * room on the core) plus the tick's own time.
 */
import { Crowd, type CrowdWindow, SETTLE_MS } from "./crowd.ts";
import type { ServerProbe, ServerWindow } from "./server-probe.ts";

export const TICK_HZ = 30;
export const ROOM_SIZE = 10;
export const BUDGET_MS = 1000 / TICK_HZ;
/** The admin token of the benchmarks' throwaway clusters, which live only on loopback for one run. */
export const BENCH_TOKEN = "locus-benchmark-throwaway-token";
/** A bot loop later than this means the crowd, not the server, is what is being measured. */
export const BOTS_SATURATED_MS = 20;

export interface CapacityStep {
  readonly players: number;
  readonly server: ServerWindow;
  readonly bots: CrowdWindow;
  /** From due to patch sent, p99: loop delay p99 plus tick time p99 (an upper bound of the p99 of the sum). */
  readonly tickDueP99Ms: number;
  readonly cpuPercent: number;
  readonly cpuPerPlayerTickUs: number;
  readonly pass: boolean;
}

export interface CapacityRun {
  /** Every step measured, in the order measured. */
  readonly steps: CapacityStep[];
  /** The most players of a passing step below the first failing one, 0 when none passed. */
  readonly held: number;
  readonly stoppedBy: "tick budget" | "a bot dropped" | "bots saturated" | "largest step";
}

/** One server's runs, each on a fresh process; what it holds is their median. */
export interface CapacityResult {
  readonly name: string;
  readonly runs: readonly CapacityRun[];
  /** The median of the runs' knees. */
  readonly held: number;
  /** The run whose knee is the median. */
  readonly medianRun: CapacityRun;
}

export interface CapacityTarget {
  readonly url: string;
  readonly probe: ServerProbe;
}

/** How many runs each server gets: the median of three cannot be moved by one noisy run. */
export const CAPACITY_RUNS = 3;
const MIN_PLAYERS = 20;
/** The first run's steps, about a quarter apart: they draw the whole curve. */
export const COARSE = 1.25;
/** The steps near the knee, about a tenth apart. */
export const FINE = 1.1;

const wholeRooms = (n: number) => Math.round(n / ROOM_SIZE) * ROOM_SIZE;
/** The next step up by `ratio`, in whole rooms and at least one room more. */
const above = (n: number, ratio: number) => Math.max(n + ROOM_SIZE, wholeRooms(n * ratio));
/** The next step down by `ratio`, in whole rooms and at least one room less, never under MIN_PLAYERS. */
const below = (n: number, ratio: number) => Math.max(MIN_PLAYERS, Math.min(n - ROOM_SIZE, wholeRooms(n / ratio)));

export interface CapacityServer {
  readonly name: string;
  /** Starts the server afresh; each run gets its own process. */
  start(): Promise<CapacityTarget & { stop(): Promise<void> }>;
}

/**
 * Measures each server's knee `CAPACITY_RUNS` times, the servers interleaved (run 1 of each, then
 * run 2 in the reverse order, …) so that a noisy stretch of the machine's time is shared out. The
 * first run climbs the coarse steps from 20 players until one fails, then the steps about a tenth
 * apart between its last pass and that failure; each later run starts two fine steps below the
 * first run's knee and climbs a tenth at a time until a step fails (or, when its first step fails,
 * steps down until one passes).
 */
export async function measureKnees(
  servers: readonly CapacityServer[],
  o: { readonly maxPlayers: number; readonly seconds: number },
  progress: (line: string) => void,
): Promise<CapacityResult[]> {
  const runs = servers.map(() => [] as CapacityRun[]);
  for (let r = 0; r < CAPACITY_RUNS; r++) {
    const order = servers.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const server = servers[i]!;
      const first = runs[i]![0];
      const target = await server.start();
      try {
        const say = (line: string) => progress(`${server.name}, run ${r + 1}: ${line}`);
        runs[i]!.push(
          first === undefined
            ? await climb(target, { start: MIN_PLAYERS, ratio: COARSE, refine: true, maxPlayers: o.maxPlayers }, o.seconds, say)
            : await climb(target, { start: below(below(Math.max(first.held, MIN_PLAYERS), FINE), FINE), ratio: FINE, refine: false, maxPlayers: o.maxPlayers }, o.seconds, say),
        );
      } finally {
        await target.stop();
      }
    }
  }
  return servers.map((server, i) => {
    const sorted = [...runs[i]!].sort((a, b) => a.held - b.held);
    const medianRun = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return { name: server.name, runs: runs[i]!, held: medianRun.held, medianRun };
  });
}

export interface ClimbPlan {
  readonly start: number;
  /** Each step this much above the last. */
  readonly ratio: number;
  /** After a failure, measure the fine steps between the last pass and it. */
  readonly refine: boolean;
  readonly maxPlayers: number;
}

/**
 * The knee of one run: up from `start` by `ratio` until a step fails (then, with `refine`, up a
 * tenth at a time from the last pass), or down from `start` until one passes when `start` itself
 * fails. `passes` measures a step; the answer is the most players of a pass below the first failure.
 */
export async function climbKnee(plan: ClimbPlan, passes: (players: number) => Promise<boolean>): Promise<number> {
  let players = Math.min(plan.start, plan.maxPlayers);
  if (!(await passes(players))) {
    while (players > MIN_PLAYERS) {
      players = below(players, plan.ratio);
      if (await passes(players)) return players;
    }
    return 0;
  }
  let held = players;
  for (players = above(players, plan.ratio); players <= plan.maxPlayers; players = above(players, plan.ratio)) {
    if (!(await passes(players))) {
      if (plan.refine) {
        for (let fine = above(held, FINE); fine < players; fine = above(fine, FINE)) {
          if (!(await passes(fine))) break;
          held = fine;
        }
      }
      return held;
    }
    held = players;
  }
  return held;
}

/** One run on one fresh server, climbing as `plan` says. */
async function climb(target: CapacityTarget, plan: ClimbPlan, seconds: number, progress: (line: string) => void): Promise<CapacityRun> {
  const crowd = new Crowd(target.url);
  const steps: CapacityStep[] = [];
  let stoppedBy: CapacityRun["stoppedBy"] = "largest step";
  try {
    const held = await climbKnee(plan, async (players) => {
      await crowd.resizeTo(players);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      // One window's p99 rests on its few worst moments (a GC pause, the machine's other work):
      // a step fails only when a second window fails too.
      let step = await measureStep(players, crowd, target, seconds);
      if (!step.pass) {
        const again = await measureStep(players, crowd, target, seconds);
        if (again.pass || again.tickDueP99Ms > step.tickDueP99Ms) step = again;
      }
      steps.push(step);
      progress(
        `${players} players, tick p99 ${step.tickDueP99Ms.toFixed(1)} ms (loop ${step.server.loopDelayP99Ms.toFixed(1)} + tick ${step.server.tickP99Ms.toFixed(2)}), CPU ${step.cpuPercent.toFixed(0)} %, ack p99 ${step.bots.ackP99Ms?.toFixed(0) ?? "n/a"} ms, bot loop p99 ${step.bots.botLoopDelayP99Ms.toFixed(1)} ms${step.pass ? "" : " — over"}`,
      );
      if (!step.pass) {
        // A step measured by saturated bots says nothing about the server, so it never counts as held.
        stoppedBy = step.bots.dropped > 0 ? "a bot dropped" : step.bots.botLoopDelayP99Ms > BOTS_SATURATED_MS ? "bots saturated" : "tick budget";
      }
      return step.pass;
    });
    return { steps, held, stoppedBy };
  } finally {
    crowd.close();
  }
}

async function measureStep(players: number, crowd: Crowd, target: CapacityTarget, seconds: number): Promise<CapacityStep> {
  await target.probe.start();
  const bots = await crowd.measure(seconds);
  const server = await target.probe.finish();
  const tickDueP99Ms = server.loopDelayP99Ms + server.tickP99Ms;
  return {
    players,
    server,
    bots,
    tickDueP99Ms,
    cpuPercent: (server.cpuSeconds / bots.seconds) * 100,
    cpuPerPlayerTickUs: (server.cpuSeconds / (players * TICK_HZ * bots.seconds)) * 1e6,
    pass: tickDueP99Ms <= BUDGET_MS / 2 && bots.dropped === 0 && bots.botLoopDelayP99Ms <= BOTS_SATURATED_MS,
  };
}
