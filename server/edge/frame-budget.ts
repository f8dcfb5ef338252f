/**
 * One connection's frame budget: every frame it sends (messages of any type, websocket pings and
 * pongs) draws on a CreditBucket of `perSecond`, which after a silence holds up to BURST_SECONDS
 * of credit. A frame the credit does not cover is dropped unprocessed. The first drop warns the
 * sender; a sender still over budget WARN_TO_CLOSE_MS after that warning, or that has had a
 * second's budget dropped since, is closed: a flood as fast as the socket goes is closed at once,
 * before reading it costs the node anything. A second of staying within budget ends the episode,
 * so a later slip is warned afresh rather than closed outright.
 */
import { CreditBucket } from "./credit-bucket.ts";

/**
 * The longest silence whose credit a connection may spend at once. It covers the backlog of any
 * stall a node survives: in cluster mode a stall past ROOM_LEASE_MS (1.5 s by default; a lone
 * node's stalls are only as long as its own work) moves the room, and its players reconnect with a
 * fresh budget.
 */
export const BURST_SECONDS = 10;
/** From the warning to the close, for a sender that stays over budget. */
export const WARN_TO_CLOSE_MS = 1000;

export const Admission = {
  ACCEPT: 0,
  /** Over budget: drop the frame. */
  DROP: 1,
  /** Over budget for the first time in a while: drop the frame and warn the sender. */
  WARN: 2,
  /** Still over budget a while after the warning, or by a second's worth: drop the frame and close the connection. */
  CLOSE: 3,
} as const;
export type Admission = (typeof Admission)[keyof typeof Admission];

export class FrameBudget {
  /** Frames dropped so far. */
  dropped = 0;
  private readonly credit: CreditBucket;
  /** When the current over-budget episode began; the episode lasts while drops come less than a grace apart. */
  private overSince = 0;
  private droppedInEpisode = 0;
  private lastDropAt = Number.NEGATIVE_INFINITY;
  /** Frames a second on average. */
  readonly perSecond: number;

  constructor(perSecond: number, nowMs: number) {
    this.perSecond = perSecond;
    this.credit = new CreditBucket(perSecond, BURST_SECONDS, nowMs);
  }

  /** Admits one frame arriving at `nowMs` (a monotonic clock in milliseconds). */
  admit(nowMs: number): Admission {
    if (this.credit.take(nowMs)) return Admission.ACCEPT;
    this.dropped++;
    const newEpisode = nowMs - this.lastDropAt > WARN_TO_CLOSE_MS;
    this.lastDropAt = nowMs;
    if (newEpisode) {
      this.overSince = nowMs;
      this.droppedInEpisode = 1;
      return Admission.WARN;
    }
    this.droppedInEpisode++;
    return nowMs - this.overSince >= WARN_TO_CLOSE_MS || this.droppedInEpisode > this.perSecond ? Admission.CLOSE : Admission.DROP;
  }
}
