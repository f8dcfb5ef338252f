/**
 * How many players one core holds: a server pinned to one core, rooms of 10 at 30 Hz, and a crowd
 * of lean bots on another core grown step by step until a tick's p99 passes half its budget. A
 * tick is counted from when it fell due to when its patch went out: the event loop's delay (the
 * tick waits behind every other room on the core) plus the tick's own time.
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
  readonly name: string;
  readonly steps: CapacityStep[];
  /** The most players of a passing step, 0 when none passed. */
  readonly held: number;
  readonly stoppedBy: "tick budget" | "a bot dropped" | "bots saturated" | "largest step";
}

export interface CapacityTarget {
  readonly url: string;
  readonly probe: ServerProbe;
}

/** Player counts to try: from 20, about a quarter more each time, whole rooms. */
export function capacitySteps(maxPlayers: number): number[] {
  const steps: number[] = [];
  for (let n = 20; n <= maxPlayers; n = Math.max(n + ROOM_SIZE, Math.round((n * 1.25) / ROOM_SIZE) * ROOM_SIZE)) steps.push(n);
  return steps;
}

export async function measureCapacity(
  name: string,
  target: CapacityTarget,
  steps: readonly number[],
  seconds: number,
  progress: (line: string) => void,
): Promise<CapacityRun> {
  const crowd = new Crowd(target.url);
  const measured: CapacityStep[] = [];
  let stoppedBy: CapacityRun["stoppedBy"] = "largest step";
  try {
    for (const players of steps) {
      await crowd.growTo(players);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      // One window's p99 rests on its few worst moments (a GC pause, the machine's other work):
      // a step fails only when a second window fails too.
      let step = await measureStep(players, crowd, target, seconds);
      if (!step.pass) {
        const again = await measureStep(players, crowd, target, seconds);
        if (again.pass || again.tickDueP99Ms > step.tickDueP99Ms) step = again;
      }
      measured.push(step);
      progress(
        `${name}: ${players} players, tick p99 ${step.tickDueP99Ms.toFixed(1)} ms (loop ${step.server.loopDelayP99Ms.toFixed(1)} + tick ${step.server.tickP99Ms.toFixed(2)}), CPU ${step.cpuPercent.toFixed(0)} %, ack p99 ${step.bots.ackP99Ms?.toFixed(0) ?? "n/a"} ms, bot loop p99 ${step.bots.botLoopDelayP99Ms.toFixed(1)} ms${step.pass ? "" : " — over"}`,
      );
      if (!step.pass) {
        // A step measured by saturated bots says nothing about the server, so it never counts as held.
        stoppedBy = step.bots.dropped > 0 ? "a bot dropped" : step.bots.botLoopDelayP99Ms > BOTS_SATURATED_MS ? "bots saturated" : "tick budget";
        break;
      }
    }
  } finally {
    crowd.close();
  }
  const passing = measured.filter((s) => s.pass);
  return { name, steps: measured, held: passing.length ? passing[passing.length - 1]!.players : 0, stoppedBy };
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
