/**
 * The soak scenario's watch: every period (a minute by default) the latency percentiles of that
 * period and each node's resident memory, and at the end how much both drifted between the first
 * period at full load and the last, with a warning when they grew more than a healthy server's do.
 */
import { type Histogram, latencyHistogram, quantileMs } from "./latency-histogram.ts";

/** Memory that grows more than this over a soak, at a steady load, is a leak until shown otherwise. */
export const MEMORY_GROWTH_WARN_PCT = 20;
export const ACK_P99_DRIFT_WARN_PCT = 50;

export interface SoakNode {
  readonly name: string;
  /** Resident memory in MB. */
  readonly memoryMb: () => Promise<number>;
}

export interface SoakSample {
  /** Seconds since the run started, at the end of the period. */
  readonly atS: number;
  readonly ackP50: number | null;
  readonly ackP99: number | null;
  /** Resident memory per node, MB; a node that did not answer is missing. */
  readonly memoryMb: Record<string, number>;
}

export interface SoakReport {
  readonly everyS: number;
  readonly samples: readonly SoakSample[];
  /** The most any node's memory grew, first full-load period to last, in percent. */
  readonly memoryGrowthPct: number | null;
  /** How much the ack p99 grew, first full-load period to last, in percent. */
  readonly ackP99DriftPct: number | null;
  readonly warnings: readonly string[];
}

export class Soak {
  readonly samples: SoakSample[] = [];
  private readonly acks: Histogram = latencyHistogram();
  private readonly everyS: number;
  private readonly nodes: () => Promise<readonly SoakNode[]>;
  private readonly problems = new Set<string>();

  constructor(everyS: number, nodes: () => Promise<readonly SoakNode[]>) {
    this.everyS = everyS;
    this.nodes = nodes;
  }

  /** Adds a second's ack latencies to the period. */
  add(window: Histogram): void {
    this.acks.add(window);
  }

  /** Closes the period: its percentiles and every node's memory now. */
  async sample(atS: number): Promise<SoakSample> {
    const memoryMb: Record<string, number> = {};
    let nodes: readonly SoakNode[] = [];
    try {
      nodes = await this.nodes();
    } catch (err) {
      this.problems.add(`could not list the nodes: ${(err as Error).message}`);
    }
    await Promise.all(
      nodes.map(async (n) => {
        try {
          memoryMb[n.name] = Math.round((await n.memoryMb()) * 10) / 10;
        } catch (err) {
          this.problems.add(`could not read ${n.name}'s memory: ${(err as Error).message}`);
        }
      }),
    );
    const s: SoakSample = { atS: Math.round(atS), ackP50: quantileMs(this.acks, 0.5), ackP99: quantileMs(this.acks, 0.99), memoryMb };
    this.acks.reset();
    this.samples.push(s);
    return s;
  }

  /** The drift from the first period that began at full load (`steadyFromS`) to the last. */
  report(steadyFromS: number): SoakReport {
    const steady = this.samples.filter((s) => s.atS - this.everyS >= steadyFromS - 0.5);
    const first = steady[0];
    const last = steady.at(-1);
    const warnings = [...this.problems];
    let memoryGrowthPct: number | null = null;
    let ackP99DriftPct: number | null = null;
    if (first && last && first !== last) {
      for (const [name, before] of Object.entries(first.memoryMb)) {
        const after = last.memoryMb[name];
        if (after === undefined || before <= 0) continue;
        const growth = ((after - before) / before) * 100;
        memoryGrowthPct = Math.max(memoryGrowthPct ?? growth, growth);
        if (growth > MEMORY_GROWTH_WARN_PCT) warnings.push(`${name}'s memory grew ${growth.toFixed(0)} % (${before} MB to ${after} MB) at steady load`);
      }
      if (first.ackP99 !== null && last.ackP99 !== null && first.ackP99 > 0) {
        ackP99DriftPct = ((last.ackP99 - first.ackP99) / first.ackP99) * 100;
        if (ackP99DriftPct > ACK_P99_DRIFT_WARN_PCT) warnings.push(`ack p99 grew ${ackP99DriftPct.toFixed(0)} % (${first.ackP99} ms to ${last.ackP99} ms) at steady load`);
      }
    } else {
      warnings.push(`the soak needs two periods of ${this.everyS} s at full load to compare; it had ${steady.length}`);
    }
    return { everyS: this.everyS, samples: this.samples, memoryGrowthPct, ackP99DriftPct, warnings };
  }
}
