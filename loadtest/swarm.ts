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
/** A worker busy enough to miss this is counted in the next window instead. */
const SAMPLE_WAIT_MS = 800;
const STOP_WAIT_MS = 5000;

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
  /** Per worker, what to call when its next sample arrives: the parent asks, so every window holds one sample of each. */
  private readonly awaiting = new Map<number, () => void>();

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
      child.on("message", (s: SwarmSample) => {
        this.absorb(worker, s);
        const done = this.awaiting.get(worker);
        this.awaiting.delete(worker);
        done?.();
      });
      // A worker that died already shows in its last sample's gauges; a send to it must not take the parent down.
      child.on("error", () => undefined);
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

  /** Asks every worker for its sample (answers within SAMPLE_WAIT_MS), then closes the window into a timeline point. */
  async tick(): Promise<TimelinePoint> {
    await this.ask("sample", SAMPLE_WAIT_MS);
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

  /** Asks every worker for its last sample (the one that carries the per-bot results), then lets them end. */
  async stop(): Promise<void> {
    await this.ask("stop", STOP_WAIT_MS);
    for (const child of this.children) if (child.exitCode === null) setTimeout(() => child.kill("SIGKILL"), STOP_WAIT_MS).unref();
  }

  private ask(message: "sample" | "stop", waitMs: number): Promise<unknown> {
    return Promise.all(
      this.children.map(
        (child, worker) =>
          new Promise<void>((resolve) => {
            if (!child.connected) return resolve();
            const timer = setTimeout(resolve, waitMs);
            this.awaiting.set(worker, () => {
              clearTimeout(timer);
              resolve();
            });
            child.send(message);
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
