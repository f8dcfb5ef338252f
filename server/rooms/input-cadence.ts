/**
 * Feeds one player's inputs into the room's fixed steps, one a tick, so that the input count each
 * patch acknowledges always stands for exactly the steps the server ran for that player. The
 * client's reconciler replays every input past the acknowledged count on top of the state it is
 * sent; a step run without acknowledging an input, or an input acknowledged without its step,
 * shifts that replay by one whole step and shows as a correction of about 10 px.
 *
 * - An input that has not arrived when its tick comes, while the player moves, is guessed: the
 *   tick runs the last stick received and acknowledges the missing input as if it had come; it is
 *   dropped unrun when it does. Sticks are held for many ticks, so the guess is nearly always
 *   right, and a wrong one costs the correction it must.
 * - While the player stands still with a centred stick a step changes nothing, so the room can
 *   run no input (wait) or take two (give one back) at no cost at all. That is when the queue is
 *   set to the depth the network's jitter asks for: deep enough that inputs are rarely late,
 *   shallow enough not to add a tick of delay that is not needed. It waits at once when an input
 *   is short, but gives one back only when the queue held more than its depth on each of the last
 *   still ticks of a window (SURPLUS_WINDOW_MS): the queue a tick sees swings by an input with the
 *   arrival jitter, and trimmed on its first high tick it sat at the jitter's early edge, so the
 *   leg that followed ran with no input to spare and its late inputs were guessed (a release
 *   among them mispredicted). An input beyond BURST_SURPLUS over the depth is given back at once:
 *   that is a burst after a hold or a stall, or a jitter wider than the depth covers, and a
 *   window's wait for it would add its delay to every input of the window.
 * - The depth follows lateness: a window with inputs late now and then asks for one more, and
 *   windows with none let one go. A late run longer than OUTAGE_MS is a lost packet or a stall,
 *   which a deeper queue would only pay for with delay on every other input, so it does not count.
 * - Guesses stop once a late run is longer than the jitter the queue is sized for (its depth plus
 *   one tick, never past OUTAGE_MS): what is left is a lost packet's retransmission, a stall or a
 *   client that stopped, and every further guess would add one more step of error, and one more
 *   visible correction, if the stick changed meanwhile. The rest of the run waits: the player
 *   stands, nothing is acknowledged, and its inputs, when they come, are later by the ticks waited.
 *   A client whose inputs run behind the ticks (it stalled and skipped steps) is late every tick,
 *   its inputs settling guesses one tick after them: the waits put it back on time.
 * - The ticks waited through an outage (a late run that long, moving or still) are caught up: a
 *   moving tick that finds more than the depth left after the input it takes runs the next one
 *   too (two steps, two inputs acknowledged, so the ack still counts the steps), once for each
 *   tick owed, never below the depth. A give-back at rest pays one back, and a still tick that
 *   finds the queue at its depth owes nothing more. Left owed, the outage's delay stayed on every
 *   input until the next rest (and a leg that started inside its burst carried it whole), with a
 *   hold every few legs under 1 % loss. On a link without loss nothing waits that long, so nothing
 *   a watcher sees changes there; under loss a watcher sees the mover stand, then catch up.
 */

/** What a tick does for the player: run its next input, run a guess for the missing one, or run nothing. */
export type TickFeed = "step" | "guess" | "wait";

/** Ticks of one review of the depth. */
const WINDOW_MS = 2000;
/** Late runs in one window that ask for a deeper queue, and windows in a row without one before it may be shallower. */
const LATE_RUNS_TO_DEEPEN = 3;
const CLEAN_WINDOWS_TO_SHALLOW = 2;
/** Lateness for this long in a row is an outage (a lost packet's retransmission, a stall), not jitter. */
const OUTAGE_MS = 170;
/** Inputs waiting: where a new player's queue starts, and the least and most it is set to (in time, rounded to ticks). */
const START_DEPTH = 2;
const MIN_DEPTH = 1;
const MAX_DEPTH_MS = 200;
/** A still player's queue is given back an input when it held more than its depth on every still tick of the last this long, */
const SURPLUS_WINDOW_MS = 300;
/** or at once when it holds more than this many beyond its depth. */
const BURST_SURPLUS = 2;
/** A queue longer than this is from a client whose clock runs fast, or a flood: the excess is dropped, acknowledged unrun. */
const MOST_QUEUED_MS = 600;

export class InputCadence {
  private readonly windowTicks: number;
  private readonly outageTicks: number;
  private readonly maxDepth: number;
  private readonly mostQueued: number;
  /** Inputs beyond the depth left after each of the last still ticks, a ring of one window. */
  private readonly surplus: Int8Array;
  /** Inputs the queue is set to hold waiting, beyond the one each tick takes. */
  private depth = START_DEPTH;
  /** Guessed steps already acknowledged whose inputs have not arrived yet. */
  private debt = 0;
  private ticks = 0;
  private lateRun = 0;
  private lateRuns = 0;
  private cleanWindows = 0;
  /** Still ticks since the player last moved or waited: the ring's next slot, and whether the ring is full. */
  private stillTicks = 0;
  /** Ticks waited through an outage whose delay the queue still carries: not yet caught up or given back. */
  private waited = 0;

  constructor(tickHz: number) {
    const ticks = (ms: number) => Math.max(1, Math.round((ms * tickHz) / 1000));
    this.windowTicks = ticks(WINDOW_MS);
    this.outageTicks = ticks(OUTAGE_MS);
    this.maxDepth = Math.max(MIN_DEPTH, ticks(MAX_DEPTH_MS));
    this.mostQueued = ticks(MOST_QUEUED_MS);
    this.surplus = new Int8Array(ticks(SURPLUS_WINDOW_MS));
  }

  /** Of the `queued` inputs, how many came only to settle guesses: the room drops them without acknowledging them again. */
  settle(queued: number): number {
    const settled = Math.min(this.debt, queued);
    this.debt -= settled;
    return settled;
  }

  /** How many of the oldest of `queued` inputs (debt settled) the room must drop because the queue is too long. */
  overflow(queued: number): number {
    return Math.max(0, queued - this.mostQueued);
  }

  /**
   * What this tick does, given the inputs queued once debt is settled and whether a step would
   * change nothing (the player stands still and its last stick is centred).
   */
  plan(queued: number, still: boolean): TickFeed {
    this.review(queued === 0);
    const feed = this.feed(queued, still);
    if (feed !== "step") this.restartSurplusWindow();
    if (feed === "wait" && this.lateRun > this.guessLimit()) this.waited++;
    else if (still && queued <= this.depth + 1) this.waited = 0;
    return feed;
  }

  /**
   * Asked after taking a moving player's step input, with how many are left: true when the tick
   * should run the next one as well (taken, stepped and acknowledged), which gives back a tick the
   * room waited through an outage, as long as the queue keeps its depth.
   */
  catchUp(left: number): boolean {
    if (this.waited === 0 || left <= this.depth) return false;
    this.waited--;
    return true;
  }

  private feed(queued: number, still: boolean): TickFeed {
    if (queued === 0) {
      if (still || this.lateRun > this.guessLimit()) return "wait";
      this.debt++;
      return "guess";
    }
    return still && queued - 1 < this.depth ? "wait" : "step";
  }

  /**
   * Asked after taking a step's input, with how many are left and whether that input was centred
   * and the player still: true when it should be given back (taken without a step; the room runs
   * the next one instead), which shortens a queue that stayed deeper than it is set to through the
   * whole window, one input a tick until its shallowest tick in the window had none to spare, or
   * that is deeper than a burst.
   */
  giveBack(left: number, stillAndCentred: boolean): boolean {
    if (!stillAndCentred) {
      this.restartSurplusWindow();
      return false;
    }
    const window = this.surplus.length;
    // Clamped to fit: a tick more than a burst over gives back at once whatever the ring holds.
    this.surplus[this.stillTicks % window] = Math.min(left - this.depth, BURST_SURPLUS + 1);
    this.stillTicks++;
    if (left - this.depth <= BURST_SURPLUS) {
      if (this.stillTicks < window) return false;
      for (let i = 0; i < window; i++) if (this.surplus[i]! < 1) return false;
    }
    for (let i = 0; i < Math.min(this.stillTicks, window); i++) this.surplus[i]!--;
    if (this.waited > 0) this.waited--;
    return true;
  }

  /** The late run the queue is sized for: guessed while moving, beyond it waited (an outage). */
  private guessLimit(): number {
    return Math.min(this.depth + 1, this.outageTicks);
  }

  private restartSurplusWindow(): void {
    this.stillTicks = 0;
  }

  private review(late: boolean): void {
    if (late) {
      this.lateRun++;
    } else {
      if (this.lateRun > 0 && this.lateRun <= this.outageTicks) this.lateRuns++;
      this.lateRun = 0;
    }
    if (++this.ticks < this.windowTicks) return;
    if (this.lateRuns >= LATE_RUNS_TO_DEEPEN) {
      this.depth = Math.min(this.maxDepth, this.depth + 1);
      this.cleanWindows = 0;
    } else if (this.lateRuns > 0) {
      this.cleanWindows = 0;
    } else if (++this.cleanWindows >= CLEAN_WINDOWS_TO_SHALLOW) {
      this.depth = Math.max(MIN_DEPTH, this.depth - 1);
      this.cleanWindows = 0;
    }
    this.ticks = 0;
    this.lateRuns = 0;
  }
}
