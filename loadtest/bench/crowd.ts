/**
 * A crowd of lean bots inside the benchmark's own process (which sits on its own core), grown in
 * steps and measured in windows: input-to-ack latency and a PING's round trip as HDR histograms,
 * bytes per bot, and how late the crowd's own event loop ran, which says whether a figure is the
 * server's or the bots'.
 */
import { latencyHistogram, maxMs, quantileMs, recordMs } from "../latency-histogram.ts";
import { LeanBot } from "../lean-bot.ts";
import { LoopDelay } from "../loop-delay.ts";

/** Between the last join and a measurement: new rooms start, and the bots' first inputs drain. */
export const SETTLE_MS = 2000;
const MAX_RAMP_FAILURES = 50;
/** Each bot's PINGs while measured: a fifteenth as many as its inputs, enough for a p99 over a few windows. */
const PING_EVERY_MS = 500;

export interface CrowdWindow {
  readonly bots: number;
  readonly seconds: number;
  readonly ackP50Ms: number | null;
  readonly ackP99Ms: number | null;
  readonly ackMaxMs: number | null;
  /** A PING's round trip (the path and the node's loop delay, no wait for a tick). */
  readonly pingP50Ms: number | null;
  readonly pingP99Ms: number | null;
  readonly bytesPerSecondPerBot: number;
  /** The crowd's own event-loop delay p99: above a few milliseconds, its latencies are partly its own. */
  readonly botLoopDelayP99Ms: number;
  /** Bots that were dropped for good during the window. */
  readonly dropped: number;
}

export interface CrowdOptions {
  /** The bots open their sockets to the room's owner when the gateway at the crowd's url names its address. */
  readonly followRoom?: boolean;
  /** The bots PING while measured (more frames for the server: only where a path's latency is the question). */
  readonly ping?: boolean;
}

export class Crowd {
  readonly bots: LeanBot[] = [];
  private readonly url: string;
  private readonly options: CrowdOptions;
  private joining = 0;

  constructor(url: string, options: CrowdOptions = {}) {
    this.url = url;
    this.options = options;
  }

  /** Joins bots until there are `total`, one after another as players arrive, or sends the last ones away. */
  async resizeTo(total: number): Promise<void> {
    while (this.bots.length > total) this.bots.pop()!.close();
    await this.growTo(total);
  }

  /**
   * Joins bots until there are `total`, one after another as players arrive, or `concurrently`
   * at a time for a quicker ramp (the rooms then fill in no set order, and a join that races
   * another for a seat is tried again, up to MAX_RAMP_FAILURES in all).
   */
  async growTo(total: number, concurrently = 1): Promise<void> {
    let failures = 0;
    const joinOne = async () => {
      while (this.bots.length + this.joining < total) {
        this.joining++;
        try {
          const bot = await LeanBot.join({ url: this.url, name: `bench${this.bots.length}`, tickHz: 30, followRoom: this.options.followRoom === true });
          bot.wander();
          this.bots.push(bot);
        } catch (err) {
          if (concurrently === 1 || ++failures > MAX_RAMP_FAILURES) throw err;
        } finally {
          this.joining--;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrently }, joinOne));
  }

  /** Measures the crowd for `seconds`, from a clean window. */
  async measure(seconds: number): Promise<CrowdWindow> {
    const droppedBefore = this.droppedCount();
    for (const b of this.bots) {
      b.clearWindow();
      b.bytesReceived = 0;
      if (this.options.ping) b.pingEvery(PING_EVERY_MS);
    }
    const loop = new LoopDelay(5);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    loop.stop();
    const acks = latencyHistogram();
    const pings = latencyHistogram();
    let bytes = 0;
    for (const b of this.bots) {
      b.stopPinging();
      for (const l of b.ackLatencies) recordMs(acks, l);
      for (const l of b.pingLatencies) recordMs(pings, l);
      bytes += b.bytesReceived;
    }
    const window: CrowdWindow = {
      bots: this.bots.length,
      seconds: elapsed,
      ackP50Ms: quantileMs(acks, 0.5),
      ackP99Ms: quantileMs(acks, 0.99),
      ackMaxMs: maxMs(acks),
      pingP50Ms: quantileMs(pings, 0.5),
      pingP99Ms: quantileMs(pings, 0.99),
      bytesPerSecondPerBot: bytes / elapsed / Math.max(1, this.bots.length),
      botLoopDelayP99Ms: loop.p99Ms(),
      dropped: this.droppedCount() - droppedBefore,
    };
    acks.destroy();
    pings.destroy();
    return window;
  }

  private droppedCount(): number {
    return this.bots.filter((b) => b.leftWith !== undefined).length;
  }

  close(): void {
    for (const b of this.bots) b.close();
    this.bots.length = 0;
  }
}
