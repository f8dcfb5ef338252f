/**
 * The swarm's parent side: starts the worker processes, merges their one-second samples into the
 * run's totals and its timeline, and notices when the bots themselves, rather than the server,
 * are the bottleneck.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { addEncoded, type Histogram, latencyHistogram, maxMs, quantileMs } from "./latency-histogram.ts";
import type { SwarmSample, WorkerOrders } from "./swarm-protocol.ts";
import type { TimelinePoint } from "./timeline.ts";

const WORKER = fileURLToPath(new URL("./swarm-worker.ts", import.meta.url));
/** A worker busier than this, or whose event loop runs this late, is measuring itself as much as the server. */
export const SATURATED_CPU_PERCENT = 90;
export const SATURATED_LOOP_DELAY_MS = 50;

export interface SwarmOptions {
  readonly url: string;
  readonly bots: number;
  readonly fullBots: number;
  readonly workers: number;
  readonly rampMs: number;
  readonly durationMs: number;
}

type Gauge = "connected" | "leanConnected" | "failed" | "dropped" | "reconnected";

export class Swarm {
  /** Every input-to-ack latency of the run, in microseconds. */
  readonly acks: Histogram = latencyHistogram();
  readonly timeline: TimelinePoint[] = [];
  stateFrames = 0;
  bytes = 0;
  longestGapMs = 0;
  /** Seconds in which some worker was saturated, and the worst it got. */
  saturatedSeconds = 0;
  maxWorkerCpuPercent = 0;
  maxWorkerLoopDelayMs = 0;
  readonly reconnectedBotGaps: number[] = [];
  readonly lostTicks: number[] = [];
  private readonly latest = new Map<number, SwarmSample>();
  private readonly window: Histogram = latencyHistogram();
  private windowFrames = 0;
  private windowBytes = 0;
  private windowSaturated = false;
  private readonly children: ChildProcess[];
  private readonly startedAt = performance.now();

  constructor(options: SwarmOptions) {
    const share = (n: number, w: number) => Math.floor(n / options.workers) + (w < n % options.workers ? 1 : 0);
    this.children = Array.from({ length: options.workers }, (_, worker) => {
      const orders: WorkerOrders = {
        worker,
        url: options.url,
        bots: share(options.bots, worker),
        fullBots: share(options.fullBots, worker),
        rampMs: options.rampMs,
        durationMs: options.durationMs,
        tickHz: 30,
      };
      const child = fork(WORKER, [], { env: { ...process.env, LOCUS_SWARM_ORDERS: JSON.stringify(orders) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child.on("message", (s: SwarmSample) => this.absorb(worker, s));
      return child;
    });
  }

  total(key: Gauge): number {
    let n = 0;
    for (const s of this.latest.values()) n += s[key];
    return n;
  }

  get lastError(): string {
    return [...this.latest.values()].map((s) => s.lastError).find((e) => e) ?? "";
  }

  /** Closes the current one-second window into a timeline point, and returns it. */
  tick(): TimelinePoint {
    const point: TimelinePoint = {
      t: Math.round((performance.now() - this.startedAt) / 100) / 10,
      connected: this.total("connected"),
      ackP50: quantileMs(this.window, 0.5),
      ackP99: quantileMs(this.window, 0.99),
      ackMax: maxMs(this.window),
      stateUpdates: this.windowFrames,
      bytesPerBot: this.windowBytes / Math.max(1, this.total("leanConnected")),
    };
    this.timeline.push(point);
    if (this.windowSaturated) this.saturatedSeconds++;
    this.window.reset();
    this.windowFrames = 0;
    this.windowBytes = 0;
    this.windowSaturated = false;
    return point;
  }

  /** Asks every worker for its last sample and waits for them to end (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.send("stop");
            setTimeout(() => child.kill("SIGKILL"), 5000).unref();
          }),
      ),
    );
  }

  private absorb(worker: number, s: SwarmSample): void {
    this.latest.set(worker, s);
    if (s.ackHistogram) {
      addEncoded(this.acks, s.ackHistogram);
      addEncoded(this.window, s.ackHistogram);
    }
    this.stateFrames += s.stateFrames;
    this.bytes += s.bytes;
    this.windowFrames += s.stateFrames;
    this.windowBytes += s.bytes;
    this.longestGapMs = Math.max(this.longestGapMs, s.longestGapMs);
    this.maxWorkerCpuPercent = Math.max(this.maxWorkerCpuPercent, s.cpuPercent);
    this.maxWorkerLoopDelayMs = Math.max(this.maxWorkerLoopDelayMs, s.loopDelayP99Ms);
    if (s.cpuPercent > SATURATED_CPU_PERCENT || s.loopDelayP99Ms > SATURATED_LOOP_DELAY_MS) this.windowSaturated = true;
    if (s.reconnectedBotGaps) this.reconnectedBotGaps.push(...s.reconnectedBotGaps);
    if (s.lostTicks) this.lostTicks.push(...s.lostTicks);
  }
}
