/**
 * How late an event loop runs. Node's monitorEventLoopDelay (and prom-client, which uses it)
 * records the whole sampling interval, so an idle loop reads its resolution: the delay a timer
 * suffers is what lies beyond that.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

export function beyondSampling(sampledMs: number, resolutionMs: number): number {
  return Math.max(0, sampledMs - resolutionMs);
}

export class LoopDelay {
  private readonly histogram: IntervalHistogram;
  private readonly resolutionMs: number;

  constructor(resolutionMs: number) {
    this.resolutionMs = resolutionMs;
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  p99Ms(): number {
    return this.histogram.count === 0 ? 0 : beyondSampling(this.histogram.percentile(99) / 1e6, this.resolutionMs);
  }

  maxMs(): number {
    return this.histogram.count === 0 ? 0 : beyondSampling(this.histogram.max / 1e6, this.resolutionMs);
  }

  reset(): void {
    this.histogram.reset();
  }

  stop(): void {
    this.histogram.disable();
  }
}
