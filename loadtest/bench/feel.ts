/**
 * The feel benchmark: scripted pairs of players (feel-session.ts) through the network-conditions
 * proxy, at the conditions a player far from the server meets, against a Locus node and against
 * the plain Colyseus baseline, each run a few times with a different seed.
 */
import { type FeelMetrics, feelMetrics } from "../feel-metrics.ts";
import { type FeelRecord, playFeelSession } from "../feel-session.ts";
import type { NetConditions } from "../netem/conditions.ts";
import { NetemProxy } from "../netem/proxy.ts";
import { startBaselineProcess, startNodeProcess, type RunningProcess } from "../processes.ts";
import { ROOM_SIZE, TICK_HZ } from "./capacity.ts";

export interface FeelCondition {
  readonly label: string;
  /** Undefined: the players connect to the server directly, on loopback. */
  readonly net: NetConditions | undefined;
}

export const FEEL_CONDITIONS: readonly FeelCondition[] = [
  { label: "direct", net: undefined },
  { label: "100 ms ± 20", net: { rttMs: 100, jitterMs: 20, loss: 0 } },
  { label: "100 ms ± 20, 1 % held", net: { rttMs: 100, jitterMs: 20, loss: 0.01 } },
  { label: "200 ms ± 60", net: { rttMs: 200, jitterMs: 60, loss: 0 } },
];

/** What the server said it did with the mover's inputs over one run (Locus only: the baseline has no such counters). */
export interface InputTicks {
  /** Ticks run on a guessed stick because the input was late. */
  readonly withoutInput: number;
  /** Inputs acknowledged without their step being run, where running it would have moved the player. */
  readonly dropped: number;
}

export interface FeelRound {
  readonly metrics: FeelMetrics;
  readonly record: FeelRecord;
  readonly inputs: InputTicks | undefined;
}

export interface FeelServerRun {
  readonly server: string;
  /** Per condition (FEEL_CONDITIONS order), one entry per round. */
  readonly rounds: FeelRound[][];
}

/** Each server, started, with the address of its input counters' /metrics (none for the baseline). */
const SERVERS: readonly [string, (cpus: string | undefined) => Promise<{ proc: RunningProcess; metricsUrl?: string }>][] = [
  ["plain Colyseus 0.18 (baseline)", async (cpus) => ({ proc: await startBaselineProcess({ TICK_HZ: String(TICK_HZ), MAX_PLAYERS: String(ROOM_SIZE) }, { cpus }) })],
  ["Locus", async (cpus) => {
    const proc = await startNodeProcess({ LOG_LEVEL: "warn" }, { cpus });
    return { proc, metricsUrl: proc.adminUrl };
  }],
];

export async function measureFeel(o: { seconds: number; rounds: number; cpus: string | undefined }, progress: (line: string) => void): Promise<FeelServerRun[]> {
  const runs: FeelServerRun[] = [];
  for (const [server, start] of SERVERS) {
    const { proc, metricsUrl } = await start(o.cpus);
    try {
      const rounds: FeelRound[][] = [];
      for (const condition of FEEL_CONDITIONS) {
        const perRound: FeelRound[] = [];
        for (let round = 1; round <= o.rounds; round++) {
          progress(`feel: ${server}, ${condition.label}, round ${round} of ${o.rounds} (${o.seconds} s)`);
          const before = metricsUrl ? await inputCounters(metricsUrl) : undefined;
          const record = await playThrough(proc, condition, round, o.seconds);
          const after = metricsUrl ? await inputCounters(metricsUrl) : undefined;
          perRound.push({
            record,
            metrics: feelMetrics(record),
            inputs: before && after ? { withoutInput: after.withoutInput - before.withoutInput, dropped: after.dropped - before.dropped } : undefined,
          });
        }
        rounds.push(perRound);
      }
      runs.push({ server, rounds });
    } finally {
      await proc.stop();
    }
  }
  return runs;
}

async function playThrough(proc: RunningProcess, condition: FeelCondition, seed: number, seconds: number): Promise<FeelRecord> {
  if (!condition.net) return playFeelSession(proc.url, seconds);
  const proxy = await NetemProxy.start({ target: { host: "127.0.0.1", port: proc.port }, conditions: condition.net, seed });
  try {
    return await playFeelSession(proxy.url, seconds);
  } finally {
    await proxy.stop();
  }
}

/** The node's counters of late inputs and of inputs dropped unrun, summed over their labels, from its operator listener. */
async function inputCounters(adminUrl: string): Promise<InputTicks> {
  const res = await fetch(`${adminUrl}/metrics`);
  if (!res.ok) throw new Error(`${adminUrl}/metrics answered ${res.status}: the input counters cannot be read`);
  const text = await res.text();
  const sum = (name: string, label?: string) => {
    let total = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) || (label !== undefined && !line.includes(label))) continue;
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  };
  return {
    withoutInput: sum("locus_late_input_ticks_total", 'handled="guessed"'),
    dropped: sum("locus_inputs_rejected_total", 'reason="input_flood"'),
  };
}
