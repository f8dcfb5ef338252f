/**
 * Merging the samples of many bot processes (or agents) into one: gauges are the sum of each
 * peer's latest, everything measured over a window adds up until the window is taken, and the
 * latency histograms add bucket by bucket, so a merged percentile is exactly the one of all the
 * raw latencies together, however many processes and machines measured them.
 */
import { addEncoded, encode, type Histogram, latencyHistogram } from "./latency-histogram.ts";
import type { StormResult, SwarmSample } from "./swarm-protocol.ts";

export const GAUGES = ["connected", "leanConnected", "joined", "failed", "dropped", "reconnected", "churned", "stormPending"] as const;
export type Gauge = (typeof GAUGES)[number];

/** A bot process busier than this, or whose event loop runs this late, is measuring itself as much as the server. */
export const SATURATED_CPU_PERCENT = 90;
export const SATURATED_LOOP_DELAY_MS = 50;

/** What arrived since the window was last taken. */
export interface Window {
  /** Ack latencies, microseconds; owned by the merger, valid until the next take(). */
  readonly acks: Histogram;
  readonly stateFrames: number;
  readonly bytes: number;
  readonly longestGapMs: number;
  readonly cpuPercent: number;
  readonly loopDelayP99Ms: number;
  readonly saturated: boolean;
  readonly reconnectedBotGaps: number[];
  readonly lostTicks: number[];
  readonly storm: StormResult | undefined;
}

export class SampleMerger {
  private readonly latest = new Map<number, SwarmSample>();
  private acks: Histogram = latencyHistogram();
  private spare: Histogram = latencyHistogram();
  private stateFrames = 0;
  private bytes = 0;
  private longestGapMs = 0;
  private cpuPercent = 0;
  private loopDelayP99Ms = 0;
  private reconnectedBotGaps: number[] = [];
  private lostTicks: number[] = [];
  private storm: { backMs: number[]; lost: number } | undefined;

  absorb(peer: number, s: SwarmSample): void {
    this.latest.set(peer, s);
    if (s.ackHistogram) addEncoded(this.acks, s.ackHistogram);
    this.stateFrames += s.stateFrames;
    this.bytes += s.bytes;
    this.longestGapMs = Math.max(this.longestGapMs, s.longestGapMs);
    this.cpuPercent = Math.max(this.cpuPercent, s.cpuPercent);
    this.loopDelayP99Ms = Math.max(this.loopDelayP99Ms, s.loopDelayP99Ms);
    if (s.reconnectedBotGaps) this.reconnectedBotGaps.push(...s.reconnectedBotGaps);
    if (s.lostTicks) this.lostTicks.push(...s.lostTicks);
    if (s.storm) {
      this.storm ??= { backMs: [], lost: 0 };
      this.storm.backMs.push(...s.storm.backMs);
      this.storm.lost += s.storm.lost;
    }
  }

  total(key: Gauge): number {
    let n = 0;
    for (const s of this.latest.values()) n += s[key];
    return n;
  }

  /** Every peer's dropped bots by close code, added up. */
  get droppedCodes(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const s of this.latest.values()) for (const [code, n] of Object.entries(s.droppedCodes)) sum[code] = (sum[code] ?? 0) + n;
    return sum;
  }

  get lastError(): string {
    return [...this.latest.values()].map((s) => s.lastError).find((e) => e) ?? "";
  }

  /** Hands over the window and starts a new one. */
  take(): Window {
    const window: Window = {
      acks: this.acks,
      stateFrames: this.stateFrames,
      bytes: this.bytes,
      longestGapMs: this.longestGapMs,
      cpuPercent: this.cpuPercent,
      loopDelayP99Ms: this.loopDelayP99Ms,
      saturated: this.cpuPercent > SATURATED_CPU_PERCENT || this.loopDelayP99Ms > SATURATED_LOOP_DELAY_MS,
      reconnectedBotGaps: this.reconnectedBotGaps,
      lostTicks: this.lostTicks,
      storm: this.storm,
    };
    // Two histograms take turns, so the one handed over stays whole until the next take.
    [this.acks, this.spare] = [this.spare, this.acks];
    this.acks.reset();
    this.stateFrames = 0;
    this.bytes = 0;
    this.longestGapMs = 0;
    this.cpuPercent = 0;
    this.loopDelayP99Ms = 0;
    this.reconnectedBotGaps = [];
    this.lostTicks = [];
    this.storm = undefined;
    return window;
  }

  /** The window taken, as one sample: what an agent sends its coordinator. */
  takeSample(): SwarmSample {
    const w = this.take();
    const sample: SwarmSample = {
      connected: this.total("connected"),
      leanConnected: this.total("leanConnected"),
      joined: this.total("joined"),
      failed: this.total("failed"),
      dropped: this.total("dropped"),
      droppedCodes: this.droppedCodes,
      reconnected: this.total("reconnected"),
      churned: this.total("churned"),
      stormPending: this.total("stormPending"),
      stateFrames: w.stateFrames,
      bytes: w.bytes,
      ackHistogram: w.acks.totalCount > 0 ? encode(w.acks) : "",
      longestGapMs: w.longestGapMs,
      lastError: this.lastError,
      cpuPercent: w.cpuPercent,
      loopDelayP99Ms: w.loopDelayP99Ms,
    };
    if (w.reconnectedBotGaps.length > 0) sample.reconnectedBotGaps = w.reconnectedBotGaps;
    if (w.lostTicks.length > 0) sample.lostTicks = w.lostTicks;
    if (w.storm) sample.storm = w.storm;
    return sample;
  }
}
