/**
 * The swarm's parent side: asks its peers (bot worker processes on this machine, or agents on
 * others) for a sample once a second, merges their answers into the run's totals and its
 * timeline, and notices when the bots themselves, rather than the server, are the bottleneck.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Histogram, latencyHistogram, maxMs, quantileMs } from "./latency-histogram.ts";
import { type Gauge, SampleMerger, type Window } from "./sample-merger.ts";
import type { SwarmRequest, SwarmSample, WorkerOrders } from "./swarm-protocol.ts";
import type { TimelinePoint } from "./timeline.ts";

const WORKER = fileURLToPath(new URL("./swarm-worker.ts", import.meta.url));

/** One worker process, or one agent: it answers every request with one sample. */
export interface SwarmPeer {
  readonly live: boolean;
  request(r: SwarmRequest): void;
  /** Where its samples go; set by the swarm. */
  onSample: (s: SwarmSample) => void;
  /** After its last answer: a worker still running is killed a little later. */
  release(): void;
}

export interface SwarmWaits {
  /** How long a request waits for a peer; a peer busy enough to miss it is counted in the next window instead. */
  readonly sampleMs: number;
  readonly stopMs: number;
}

const WORKER_WAITS: SwarmWaits = { sampleMs: 800, stopMs: 5000 };

export class Swarm {
  /** Every input-to-ack latency of the run, in microseconds. */
  readonly acks: Histogram = latencyHistogram();
  readonly timeline: TimelinePoint[] = [];
  longestGapMs = 0;
  /** Seconds in which some bot process was saturated, and the worst it got. */
  saturatedSeconds = 0;
  maxWorkerCpuPercent = 0;
  maxWorkerLoopDelayMs = 0;
  readonly reconnectedBotGaps: number[] = [];
  readonly lostTicks: number[] = [];
  storm: { backMs: number[]; lost: number } | undefined;
  private readonly merger = new SampleMerger();
  private readonly peers: readonly SwarmPeer[];
  private readonly waits: SwarmWaits;
  private readonly startedAt = performance.now();
  /** Per peer, what to call when its next sample arrives: the parent asks, so every window holds one sample of each. */
  private readonly awaiting = new Map<number, () => void>();

  constructor(peers: readonly SwarmPeer[], waits: SwarmWaits = WORKER_WAITS) {
    this.peers = peers;
    this.waits = waits;
    peers.forEach((peer, i) => {
      peer.onSample = (s) => {
        this.merger.absorb(i, s);
        const done = this.awaiting.get(i);
        this.awaiting.delete(i);
        done?.();
      };
    });
  }

  /** Bot worker processes on this machine, one per set of orders. */
  static local(orders: readonly WorkerOrders[]): Swarm {
    return new Swarm(
      orders.map((o) => {
        const worker = forkWorker();
        worker.start(o);
        return worker;
      }),
    );
  }

  total(key: Gauge): number {
    return this.merger.total(key);
  }

  get lastError(): string {
    return this.merger.lastError;
  }

  get droppedCodes(): Record<string, number> {
    return this.merger.droppedCodes;
  }

  /** Asks every peer for its sample, then closes the window into a timeline point; `target` is the bots the run wants now. */
  async tick(target: number, onWindow?: (w: Window) => void): Promise<TimelinePoint> {
    await this.ask({ kind: "sample" }, this.waits.sampleMs);
    const w = this.merger.take();
    const point: TimelinePoint = {
      t: Math.round((performance.now() - this.startedAt) / 100) / 10,
      target,
      connected: this.total("connected"),
      ackP50: quantileMs(w.acks, 0.5),
      ackP99: quantileMs(w.acks, 0.99),
      ackMax: maxMs(w.acks),
      stateUpdates: w.stateFrames,
      bytesPerBot: w.bytes / Math.max(1, this.total("leanConnected")),
    };
    this.timeline.push(point);
    this.acks.add(w.acks);
    this.longestGapMs = Math.max(this.longestGapMs, w.longestGapMs);
    this.maxWorkerCpuPercent = Math.max(this.maxWorkerCpuPercent, w.cpuPercent);
    this.maxWorkerLoopDelayMs = Math.max(this.maxWorkerLoopDelayMs, w.loopDelayP99Ms);
    if (w.saturated) this.saturatedSeconds++;
    this.reconnectedBotGaps.push(...w.reconnectedBotGaps);
    this.lostTicks.push(...w.lostTicks);
    if (w.storm) {
      this.storm ??= { backMs: [], lost: 0 };
      this.storm.backMs.push(...w.storm.backMs);
      this.storm.lost += w.storm.lost;
    }
    onWindow?.(w);
    return point;
  }

  /** Asks every peer, and merges their answers into one sample: what an agent reports upwards. */
  async collect(r: SwarmRequest): Promise<SwarmSample> {
    await this.ask(r, r.kind === "stop" ? this.waits.stopMs : this.waits.sampleMs);
    return this.merger.takeSample();
  }

  /** Starts a reconnect storm: the bots connected now are its cohort; `cut` cuts their sockets at once. */
  async startStorm(cut: boolean): Promise<void> {
    await this.ask({ kind: "storm", cut }, this.waits.sampleMs);
  }

  /** Asks every peer for its last sample (the one that carries the per-bot results), then lets them end. */
  async stop(): Promise<void> {
    await this.ask({ kind: "stop" }, this.waits.stopMs);
    this.release();
  }

  /** Lets every peer go, after its last answer. */
  release(): void {
    for (const peer of this.peers) peer.release();
  }

  private ask(r: SwarmRequest, waitMs: number): Promise<unknown> {
    return Promise.all(
      this.peers.map(
        (peer, i) =>
          new Promise<void>((resolve) => {
            if (!peer.live) return resolve();
            const timer = setTimeout(resolve, waitMs);
            this.awaiting.set(i, () => {
              clearTimeout(timer);
              resolve();
            });
            peer.request(r);
          }),
      ),
    );
  }
}

/** A bot worker process, started before its orders so that it is ready to play when they come. */
export interface WorkerProcess extends SwarmPeer {
  start(orders: WorkerOrders): void;
}

export function forkWorker(): WorkerProcess {
  const child: ChildProcess = fork(WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const peer: WorkerProcess = {
    get live() {
      return child.connected;
    },
    start: (orders) => child.send({ kind: "orders", orders }),
    request: (r) => child.send(r),
    onSample: () => undefined,
    release() {
      if (child.exitCode === null) setTimeout(() => child.kill("SIGKILL"), WORKER_WAITS.stopMs).unref();
    },
  };
  child.on("message", (s: SwarmSample) => peer.onSample(s));
  // A worker that died already shows in its last sample's gauges; a send to it must not take the parent down.
  child.on("error", () => undefined);
  return peer;
}
