/**
 * What a feel session (feel-session.ts) says about the netcode: how often and how far the own
 * player was corrected, how soon a key showed, how close drawn and true positions come at rest,
 * and how evenly the other player was drawn while it moved at a steady stick.
 */
import { MAX_SPEED } from "../shared/constants.ts";
import type { FeelRecord } from "./feel-session.ts";
import { percentile } from "./report.ts";

/** Corrections larger than this count as visible. */
export const VISIBLE_CORRECTION_PX = 2;
/** A correction is put down to a held stick when no stick change came within this many inputs before the inputs it acknowledged. */
export const HELD_INPUTS = 30;
/** Drawn movement this far along the new stick counts as the key showing. */
const SHOWN_PX = 0.5;
/** A frame drawn slower than this fraction of the true speed is a freeze, faster than the other a jump. */
export const FREEZE_RATIO = 0.25;
export const JUMP_RATIO = 1.75;
/** The other player moves at a steady stick when every patch around the drawn instant has it this close to top speed, the same way. */
const STEADY_SPEED = 0.95 * MAX_SPEED;
/** Drawn movement below this is no movement at all. */
const STILL_PX = 0.01;

export interface FeelMetrics {
  readonly minutes: number;
  /** Corrections of the own player above VISIBLE_CORRECTION_PX, and the largest of all, in units (pixels at scale 1). */
  readonly visibleCorrections: number;
  readonly largestCorrectionPx: number;
  /** Corrections above 1 px that no stick change can explain (see HELD_INPUTS). */
  readonly heldCorrectionsOver1Px: number;
  /** From a key press (from rest) to the first frame showing it: on the own screen, and on the other player's. */
  readonly ownShownMs: number[];
  readonly seenShownMs: number[];
  /** The largest distance between drawn and last-received position at the end of a rest. */
  readonly restOwnPx: number;
  readonly restSeenPx: number;
  /** Watcher frames drawn while the mover moved at a steady stick. */
  readonly steadyFrames: number;
  /** Each of those frames: seconds into the run, and the drawn speed over the true speed. */
  readonly steadySpeed: (readonly [number, number])[];
  /** Standard deviation over mean of drawn speed relative to true speed, over those frames. */
  readonly steadyVariation: number;
  /** Runs of frames drawn at under FREEZE_RATIO, or over JUMP_RATIO, of the true speed. */
  readonly freezes: number;
  readonly jumps: number;
  /** Steady frames drawn exactly where the last one was although the watcher held a newer patch and the server's patches around it came one per tick, each with the mover a step further. */
  readonly stillWithData: number;
  /** Steady frames whose drawn instant was past every patch the watcher had. */
  readonly underrunFrames: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  /** Patches on which the mover's ack did not move (a tick without its input), and inputs acknowledged beyond one per patch. */
  readonly ackStalls: number;
  readonly ackSkips: number;
}

export function feelMetrics(r: FeelRecord): FeelMetrics {
  const f = r.frames;
  const n = f.t.length;
  const minutes = n > 1 ? (f.t[n - 1]! - f.t[0]!) / 60_000 : 0;
  const tickMs = 1000 / r.tickHz;

  let visible = 0;
  let largest = 0;
  let held = 0;
  for (let i = 0; i < r.corrections.px.length; i++) {
    const px = r.corrections.px[i]!;
    if (px > VISIBLE_CORRECTION_PX) visible++;
    if (px > largest) largest = px;
    const lastChange = lastLegStartSeq(r, r.corrections.toSeq[i]!);
    if (px > 1 && lastChange <= r.corrections.fromSeq[i]! - HELD_INPUTS) held++;
  }

  const ownShownMs: number[] = [];
  const seenShownMs: number[] = [];
  let restOwnPx = 0;
  let restSeenPx = 0;
  for (let l = 0; l < r.legs.length; l++) {
    const leg = r.legs[l]!;
    const first = f.t.findIndex((t) => t >= leg.at);
    const end = l + 1 < r.legs.length ? f.t.findIndex((t) => t >= r.legs[l + 1]!.at) : -1;
    if (first < 0 || end < 0) continue;
    if (leg.stick.x === 0 && leg.stick.y === 0) {
      const last = end - 1;
      restOwnPx = Math.max(restOwnPx, Math.hypot(f.ownX[last]! - f.ownAuthX[last]!, f.ownY[last]! - f.ownAuthY[last]!));
      restSeenPx = Math.max(restSeenPx, Math.hypot(f.seenX[last]! - f.seenAuthX[last]!, f.seenY[last]! - f.seenAuthY[last]!));
      continue;
    }
    const shown = (xs: number[], ys: number[]) => {
      for (let i = first; i < end; i++) {
        if ((xs[i]! - xs[first]!) * leg.stick.x + (ys[i]! - ys[first]!) * leg.stick.y >= SHOWN_PX) return f.t[i]! - leg.at;
      }
      return undefined;
    };
    const own = shown(f.ownX, f.ownY);
    const seen = shown(f.seenX, f.seenY);
    if (own !== undefined) ownShownMs.push(own);
    if (seen !== undefined) seenShownMs.push(seen);
  }

  const ratios: number[] = [];
  const steadySpeed: (readonly [number, number])[] = [];
  let freezes = 0;
  let jumps = 0;
  let stillWithData = 0;
  let underrunFrames = 0;
  let inFreeze = false;
  let inJump = false;
  for (let i = 1; i < n; i++) {
    const from = f.drawnAt[i - 1]!;
    const to = f.drawnAt[i]!;
    if (!steadyBetween(r, Math.min(from, to) - tickMs, Math.max(from, to) + tickMs)) {
      inFreeze = inJump = false;
      continue;
    }
    const moved = Math.hypot(f.seenX[i]! - f.seenX[i - 1]!, f.seenY[i]! - f.seenY[i - 1]!);
    const ratio = moved / ((MAX_SPEED * (f.t[i]! - f.t[i - 1]!)) / 1000);
    ratios.push(ratio);
    steadySpeed.push([(f.t[i]! - f.t[0]!) / 1000, ratio]);
    if (ratio < FREEZE_RATIO && !inFreeze) freezes++;
    if (ratio > JUMP_RATIO && !inJump) jumps++;
    inFreeze = ratio < FREEZE_RATIO;
    inJump = ratio > JUMP_RATIO;
    if (f.newestAt[i]! < to) underrunFrames++;
    else if (moved < STILL_PX && movingStream(r, from - tickMs, to + tickMs, tickMs)) stillWithData++;
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / Math.max(1, ratios.length);
  const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ratios.length));

  let ackStalls = 0;
  let ackSkips = 0;
  r.ackSteps.forEach((count, step) => {
    if (step === 0) ackStalls += count;
    else if (step > 1) ackSkips += count * (step - 1);
  });

  return {
    minutes,
    visibleCorrections: visible,
    largestCorrectionPx: largest,
    heldCorrectionsOver1Px: held,
    ownShownMs,
    seenShownMs,
    restOwnPx,
    restSeenPx,
    steadyFrames: ratios.length,
    steadySpeed,
    steadyVariation: mean > 0 ? sd / mean : Number.NaN,
    freezes,
    jumps,
    stillWithData,
    underrunFrames,
    ackP50Ms: percentile(r.ackLatencies, 0.5),
    ackP99Ms: percentile(r.ackLatencies, 0.99),
    ackStalls,
    ackSkips,
  };
}

/** The first input of the latest leg that had begun by input `seq`. */
function lastLegStartSeq(r: FeelRecord, seq: number): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const leg of r.legs) if (leg.firstSeq <= seq) last = leg.firstSeq;
  return last;
}

/** First patch index stamped at or after `at`. */
function firstPatchFrom(r: FeelRecord, at: number): number {
  const stamps = r.patches.at;
  let lo = 0;
  let hi = stamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stamps[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when patches exist on both sides of [from, to] and every one from the last before it to the first after it has the mover at top speed, one way. */
function steadyBetween(r: FeelRecord, from: number, to: number): boolean {
  const p = r.patches;
  const start = firstPatchFrom(r, from) - 1;
  const end = firstPatchFrom(r, to);
  if (start < 0 || end >= p.at.length) return false;
  const vx = Math.sign(p.vx[start]!);
  const vy = Math.sign(p.vy[start]!);
  for (let i = start; i <= end; i++) {
    if (Math.hypot(p.vx[i]!, p.vy[i]!) < STEADY_SPEED || Math.sign(p.vx[i]!) !== vx || Math.sign(p.vy[i]!) !== vy) return false;
  }
  return true;
}

/**
 * True when the server's patches over [from, to] came one per tick (none stamped twice, none
 * missing) and each had the mover further on: the server ran its steps, rather than waiting out a
 * tick for a late input.
 */
function movingStream(r: FeelRecord, from: number, to: number, tickMs: number): boolean {
  const { at, x, y } = r.patches;
  for (let i = Math.max(1, firstPatchFrom(r, from)); i < at.length && at[i - 1]! <= to; i++) {
    const gap = at[i]! - at[i - 1]!;
    if (gap < tickMs / 2 || gap > tickMs * 1.5) return false;
    if (x[i] === x[i - 1] && y[i] === y[i - 1]) return false;
  }
  return true;
}
