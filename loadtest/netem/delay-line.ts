/**
 * When each chunk of one direction of one connection is delivered: half the round trip, give or
 * take a normal draw with half the round trip's jitter as its standard deviation (so that the two
 * ways add up to the round trip and its jitter), plus the loss hold for a lost chunk, and never
 * before the chunk sent ahead of it, because TCP delivers in order (a late chunk holds back the
 * ones behind it, as head-of-line blocking does).
 */
import { Rng } from "../../server/game/rng.ts";
import { LOSS_HOLD_MS, type NetConditions } from "./conditions.ts";

export class DelayLine {
  private readonly rng: Rng;
  private lastAt = Number.NEGATIVE_INFINITY;
  /** A second normal deviate left over from the last Box-Muller pair. */
  private spare: number | undefined;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** The time (same clock as `now`) at which a chunk that arrived at `now` leaves. */
  schedule(now: number, c: NetConditions): number {
    let delay = c.rttMs / 2;
    if (c.jitterMs > 0) delay += (c.jitterMs / 2) * this.normal();
    if (c.loss > 0 && this.rng.next() < c.loss) delay += LOSS_HOLD_MS;
    const at = Math.max(now + Math.max(0, delay), this.lastAt);
    this.lastAt = at;
    return at;
  }

  private normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** A distinct, reproducible seed for each direction of each connection a proxy carries. */
export function lineSeed(seed: number, connection: number, direction: 0 | 1): number {
  return (seed ^ Math.imul(connection * 2 + direction + 1, 0x9e3779b1)) | 0;
}
