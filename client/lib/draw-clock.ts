/**
 * The clock other players are drawn on. Colyseus's Predict draws them by linear interpolation at
 * `serverNow() − delay − smoothedRtt() / 2`, and holds still when that instant runs past the newest
 * patch. This clock is the room's own, held back by as much more than `delay` as recent patches
 * needed to arrive in time: on a jittery link other players are drawn a little further in the past
 * and keep moving, rather than freezing whenever a patch comes late. The extra delay grows and
 * shrinks gradually, so that a change shows as other players slowing or quickening by a few
 * percent for a moment, never as a stop or a jump.
 *
 * A patch is in time when the instant drawn has not yet passed the patch before it: until it
 * comes, that one is the newest the interpolation has. Measured against the patch itself, a
 * patch a whole interval late still looked in time, and at 200 ms ± 60 the delay never rose.
 *
 * It also tells Predict the patch cadence, which a Locus room does not advertise (it sends a patch
 * per tick by hand, with no patch timer). Without it Predict takes the interval between the last
 * two samples as the cadence, and one short interval corrupts that for good: a server stamps a tick
 * on its room clock when the tick runs early, and one stamp a few milliseconds after the last makes
 * every later sample look like the end of an idle gap, whose collapse puts the same short interval
 * back in front of the next sample. Other players were then drawn in 30 Hz steps, still and double
 * speed by turns, until they left (docs/netcode.md).
 */
import type { RoomClockLike } from "@colyseus/sdk";

/**
 * Patches remembered: about twenty seconds at 30 Hz. The delay covers the latest of them, not a
 * share: on TCP a late chunk holds back every patch behind it, so one spell of lateness is a
 * single late patch followed by a burst, and a share would leave the worst spells uncovered.
 */
const WINDOW = 600;
/** Patches between two reviews of the delay. */
const REVIEW_EVERY = 30;
/** How far ahead of the drawn instant even a late patch should arrive. */
const SAFETY_MS = 10;
/** The most the delay is ever raised by, so that a bad spell does not leave others drawn long in the past. */
const MAX_EXTRA_MS = 150;
/** How much faster (or slower) than real time the drawn instant may run while the delay changes. */
const RAISE_RATE = 0.1;
/**
 * How much faster than real time the round trip the drawing takes half of may move. The room clock's
 * estimate moves by a tenth of each sample's difference at once, 12 to 20 ms a sample at 200 ms ± 60,
 * and drawn at `− smoothedRtt / 2` each such sample was a frame of others drawn at half or one and a
 * half times their speed (traced: every frame counted as a freeze or jump without a late patch).
 */
const RTT_RATE = 0.1;
const LOWER_RATE = 0.02;
/**
 * How far past the newest patch others are carried on at their last velocity. A patch later than
 * the extra delay covers (a new record of lateness, which no delay can know in advance) is a few
 * frames; one later than this is a segment TCP is resending, and carrying the player on longer
 * would only make the step back larger if it had stopped meanwhile.
 */
const MAX_AHEAD_MS = 100;

/** The SDK's room clock has `reset()`; its interface does not promise it. */
type ResettableClock = RoomClockLike & { reset?(): void };

export class DrawClock implements RoomClockLike {
  /** Milliseconds added to the interpolation delay now. */
  extraMs = 0;
  private readonly room: { readonly clock: ResettableClock };
  private readonly delayMs: number;
  private readonly ticks: { readonly tickRate?: number };
  private readonly margins = new Float64Array(WINDOW);
  private seen = 0;
  /** The stamp of the newest patch before the one now arriving; NaN before the first. */
  private held = Number.NaN;
  private targetMs = 0;
  private lastFrame = -1;
  /** The round trip the drawing subtracts half of: the room clock's estimate, followed at RTT_RATE; NaN until it has one. */
  private rttMs = Number.NaN;

  /**
   * Reads `room.clock` afresh each time rather than keeping the object: the room swaps its real clock in
   * after the handshake, and across a reconnect keeps that one, offset and all (hence `forget`). `ticks`
   * is the room's input handle, whose `tickRate` the server advertised at join: one patch per tick.
   */
  constructor(room: { readonly clock: ResettableClock }, delayMs: number, ticks: { readonly tickRate?: number }) {
    this.room = room;
    this.delayMs = delayMs;
    this.ticks = ticks;
  }

  /** Call on every patch: notes how far the instant drawn without extra delay still was from the patch held until now. */
  patched(): void {
    const clock = this.room.clock;
    const held = this.held;
    this.held = clock.lastServerTime();
    if (Number.isNaN(held)) return;
    const drawn = (clock.renderNow?.() ?? clock.serverNow()) - this.delayMs - this.smoothedRtt() / 2;
    this.margins[this.seen++ % WINDOW] = held - drawn;
    // Reviewed on every patch at first, so that a jittery link is covered within a second of joining.
    if (this.seen % REVIEW_EVERY !== 0 && this.seen > REVIEW_EVERY) return;
    let least = Number.POSITIVE_INFINITY;
    for (let i = Math.min(this.seen, WINDOW) - 1; i >= 0; i--) least = Math.min(least, this.margins[i]!);
    this.targetMs = Math.min(MAX_EXTRA_MS, Math.max(0, SAFETY_MS - least));
  }

  /**
   * Call when the room's socket is back after a drop: the room may have moved to a node whose clock
   * started afresh, and what patches needed before says nothing about the new one.
   */
  forget(): void {
    this.seen = 0;
    this.held = Number.NaN;
    this.targetMs = 0;
    this.rttMs = Number.NaN;
    // A room rebuilt on another node stamps from its own start: kept, the old offset put the drawn
    // instant seconds past every new patch, and others moved in 30 Hz steps for 1.5 to 2.5 s.
    this.room.clock.reset?.();
  }

  /** Call every frame before drawing: moves the extra delay toward what recent patches needed, and the round trip toward the room clock's. */
  advance(now: number): void {
    const dt = this.lastFrame < 0 ? 0 : Math.min(100, now - this.lastFrame);
    this.lastFrame = now;
    if (this.extraMs < this.targetMs) this.extraMs = Math.min(this.targetMs, this.extraMs + dt * RAISE_RATE);
    else this.extraMs = Math.max(this.targetMs, this.extraMs - dt * LOWER_RATE);
    const rtt = this.room.clock.smoothedRtt();
    // The clock's own until it has measured one, and its first measurement as it is: slewing up from
    // nothing would draw others too close to the present.
    if (!(rtt > 0)) this.rttMs = Number.NaN;
    else if (Number.isNaN(this.rttMs)) this.rttMs = rtt;
    else this.rttMs += Math.max(-dt * RTT_RATE, Math.min(dt * RTT_RATE, rtt - this.rttMs));
  }

  /**
   * Milliseconds the instant others are drawn at has run past the newest patch, at most
   * MAX_AHEAD_MS: Predict's interpolation holds them still there, so they are drawn on at their
   * velocity as of that patch for as long (exact for a player at a steady stick).
   */
  aheadOfNewestMs(): number {
    const newest = this.lastServerTime();
    if (!(newest > 0)) return 0;
    const ahead = this.drawnAt() - newest;
    return ahead > 0 ? Math.min(MAX_AHEAD_MS, ahead) : 0;
  }

  /** The server instant others are drawn at now: Predict's lerp target on this clock. */
  drawnAt(): number {
    return this.serverNow() - this.delayMs - this.smoothedRtt() / 2;
  }

  now(): number {
    return this.room.clock.now();
  }

  /**
   * The room's slew-limited render timeline (`renderNow`, which irons out the wobble each patch's
   * clock-offset estimate puts into `serverNow`), held back by the extra delay.
   */
  serverNow(): number {
    const clock = this.room.clock;
    return (clock.renderNow?.() ?? clock.serverNow()) - this.extraMs;
  }

  rtt(): number {
    return this.room.clock.rtt();
  }

  /** The room clock's round-trip estimate, followed no faster than RTT_RATE so that a sample never jerks others drawn. */
  smoothedRtt(): number {
    return Number.isNaN(this.rttMs) ? this.room.clock.smoothedRtt() : this.rttMs;
  }

  jitter(): number {
    return this.room.clock.jitter();
  }

  lastServerTime(): number {
    return this.room.clock.lastServerTime();
  }

  /** The advertised patch interval if the server sent one, else the tick's. */
  patchInterval(): number {
    const advertised = this.room.clock.patchInterval?.() ?? 0;
    if (advertised > 0) return advertised;
    const hz = this.ticks.tickRate ?? 0;
    return Number.isFinite(hz) && hz > 0 ? 1000 / hz : 0;
  }

  /** The room feeds its own clock; nothing is fed through this one. */
  sample(): void {}
}
