/**
 * Per-client accounting of what a client sends that the room will not use as sent: values out of
 * range, more inputs than the tick rate, message types nobody handles. The room clamps or drops
 * the offending input at once; once a second it reviews each guard, warns the client, and after
 * STRIKES_TO_KICK bad seconds in a row disconnects it.
 */
import { ErrorCode } from "../../shared/protocol.ts";

export const STRIKES_TO_KICK = 3;

export type Offense = "invalid_input" | "input_flood" | "unknown_message";

export const OFFENSE_CODE: Readonly<Record<Offense, number>> = {
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

export class InputGuard {
  /** Input frames received in the current one-second window. */
  frames = 0;
  /** Input fields clamped in the current window. */
  invalidValues = 0;
  unknownMessages = 0;
  lastUnknownType = "";
  private strikes = 0;
  private readonly maxInputsPerSecond: number;

  constructor(maxInputsPerSecond: number) {
    this.maxInputsPerSecond = maxInputsPerSecond;
  }

  /** Closes the current window. A clean second forgives one strike. */
  review(): Review {
    const warnings: Warning[] = [];
    if (this.frames > this.maxInputsPerSecond) {
      warnings.push(warn("input_flood", `${this.frames} inputs in one second; at most ${this.maxInputsPerSecond} are accepted and the excess was dropped`));
    }
    if (this.invalidValues > 0) {
      warnings.push(warn("invalid_input", `${this.invalidValues} input values were not finite numbers in [-1, 1] and were clamped`));
    }
    if (this.unknownMessages > 0) {
      warnings.push(warn("unknown_message", `${this.unknownMessages} messages of unknown type (last: ${this.lastUnknownType}) were ignored; this room takes only inputs`));
    }
    this.frames = 0;
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
