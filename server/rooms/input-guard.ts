/**
 * Per-client accounting of what a client sends that the room will not use as sent: values out of
 * range, more inputs than the tick rate, message types nobody handles. The room clamps or drops
 * the offending input at once; once a second it reviews each guard, warns the client, and after
 * STRIKES_TO_KICK bad seconds in a row disconnects it.
 *
 * Inputs are paid for by the clock (a CreditBucket), not counted per review window: when the node
 * stalls, its players keep sending, and the backlog that arrives in one burst when it wakes was
 * paid for by the stall. Counted per window, that burst read as a flood and kicked them.
 */
import { ErrorCode } from "../../shared/protocol.ts";
import { CreditBucket } from "../edge/credit-bucket.ts";

export const STRIKES_TO_KICK = 3;

export type Offense = "invalid_input" | "input_flood" | "unknown_message";

const OFFENSE_CODE: Readonly<Record<Offense, number>> = {
  invalid_input: ErrorCode.INVALID_INPUT,
  input_flood: ErrorCode.INPUT_FLOOD,
  unknown_message: ErrorCode.UNKNOWN_MESSAGE,
};

export interface Warning {
  readonly offense: Offense;
  readonly code: number;
  readonly message: string;
}

export interface Review {
  readonly warnings: readonly Warning[];
  /** Set when the client has used up its strikes: disconnect it with this warning's code. */
  readonly kick: Warning | undefined;
}

const CLEAN: Review = { warnings: [], kick: undefined };

/** Silence a client may save up as input credit; as long as the frame budget's, for the same reason. */
const INPUT_BURST_SECONDS = 10;

export class InputGuard {
  /** Input fields clamped in the current window. */
  invalidValues = 0;
  unknownMessages = 0;
  lastUnknownType = "";
  /** Input frames in the current window that the credit did not cover. */
  private excessInputs = 0;
  private strikes = 0;
  private readonly maxInputsPerSecond: number;
  private readonly credit: CreditBucket;

  /** `nowMs` and every later time given to the guard read one monotonic clock, in milliseconds. */
  constructor(maxInputsPerSecond: number, nowMs: number) {
    this.maxInputsPerSecond = maxInputsPerSecond;
    this.credit = new CreditBucket(maxInputsPerSecond, INPUT_BURST_SECONDS, nowMs);
  }

  /** Counts one input frame received at `nowMs`. */
  input(nowMs: number): void {
    if (!this.credit.take(nowMs)) this.excessInputs++;
  }

  /** Closes the current window. A clean second forgives one strike. */
  review(): Review {
    const warnings: Warning[] = [];
    if (this.excessInputs > 0) {
      warnings.push(warn("input_flood", `${this.excessInputs} inputs beyond ${this.maxInputsPerSecond} per second; the excess was dropped`));
    }
    if (this.invalidValues > 0) {
      warnings.push(warn("invalid_input", `${this.invalidValues} input values were not finite numbers in [-1, 1] and were clamped`));
    }
    if (this.unknownMessages > 0) {
      warnings.push(warn("unknown_message", `${this.unknownMessages} messages of unknown type (last: ${this.lastUnknownType}) were ignored; this room takes only inputs`));
    }
    this.excessInputs = 0;
    this.invalidValues = 0;
    this.unknownMessages = 0;
    if (warnings.length === 0) {
      if (this.strikes > 0) this.strikes--;
      return CLEAN;
    }
    this.strikes++;
    return { warnings, kick: this.strikes >= STRIKES_TO_KICK ? warnings[0] : undefined };
  }
}

function warn(offense: Offense, message: string): Warning {
  return { offense, code: OFFENSE_CODE[offense], message };
}
