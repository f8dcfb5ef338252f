/**
 * One measuring window on a server process: how long its rooms' ticks took, how late its event
 * loop ran (a tick that is due waits behind every other room on the core), and the CPU it used.
 * A Locus node answers from its Prometheus metrics, the plain Colyseus baseline from its /stats;
 * the CPU of both comes from /proc.
 */
import { beyondSampling } from "../loop-delay.ts";
import { bucketDelta, bucketQuantile, histogramBuckets, sampleValue } from "../prometheus.ts";
import { cpuSeconds } from "./process-cpu.ts";

/** Both servers sample their event loop every 10 ms. */
const LOOP_SAMPLING_MS = 10;
const loopDelay = (sampledP99Ms: number | null) => beyondSampling(sampledP99Ms ?? LOOP_SAMPLING_MS, LOOP_SAMPLING_MS);

export interface ServerWindow {
  readonly ticks: number;
  /** Time one room spends in one tick (simulation and patch), p99, in milliseconds. */
  readonly tickP99Ms: number;
  /** How late the event loop ran, p99, in milliseconds. */
  readonly loopDelayP99Ms: number;
  readonly cpuSeconds: number;
  /** Locus nodes only: checkpoints written in the window, and their bytes. */
  readonly checkpoints?: { readonly count: number; readonly bytes: number };
  /** Locus nodes only: input-journal Redis calls and bytes sent in the window. */
  readonly journal?: { readonly writes: number; readonly bytes: number };
}

export interface ServerProbe {
  start(): Promise<void>;
  finish(): Promise<ServerWindow>;
}

/** `adminUrl`: the node's operator listener, where its /metrics are. */
export function locusProbe(adminUrl: string, pid: number): ServerProbe {
  let before = "";
  let cpu0 = 0;
  const scrape = async () => (await fetch(`${adminUrl}/metrics`)).text();
  return {
    async start() {
      // The scrape also restarts the event-loop delay histogram, which prom-client resets on each read.
      before = await scrape();
      cpu0 = cpuSeconds(pid);
    },
    async finish() {
      const after = await scrape();
      const delta = (name: string) => sampleValue(after, name) - sampleValue(before, name);
      const ticks = bucketDelta(histogramBuckets(after, "locus_tick_duration_seconds"), histogramBuckets(before, "locus_tick_duration_seconds"));
      return {
        ticks: ticks.counts[ticks.counts.length - 1] ?? 0,
        tickP99Ms: bucketQuantile(ticks, 0.99) * 1000,
        loopDelayP99Ms: loopDelay(sampleValue(after, "locus_nodejs_eventloop_lag_p99_seconds") * 1000),
        cpuSeconds: cpuSeconds(pid) - cpu0,
        checkpoints: { count: delta("locus_checkpoint_bytes_count") || 0, bytes: delta("locus_checkpoint_bytes_sum") || 0 },
        journal: { writes: delta("locus_journal_writes_total") || 0, bytes: delta("locus_journal_bytes_total") || 0 },
      };
    },
  };
}

interface BaselineStats {
  readonly ticks: number;
  readonly tickP99Ms: number | null;
  readonly loopDelayP99Ms: number | null;
}

export function baselineProbe(url: string, pid: number): ServerProbe {
  let cpu0 = 0;
  const stats = async () => (await (await fetch(`${url}/stats`)).json()) as BaselineStats;
  return {
    async start() {
      await stats();
      cpu0 = cpuSeconds(pid);
    },
    async finish() {
      const s = await stats();
      return { ticks: s.ticks, tickP99Ms: s.tickP99Ms ?? 0, loopDelayP99Ms: loopDelay(s.loopDelayP99Ms), cpuSeconds: cpuSeconds(pid) - cpu0 };
    },
  };
}
