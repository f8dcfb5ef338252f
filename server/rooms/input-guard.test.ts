import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../shared/protocol.ts";
import { InputGuard, STRIKES_TO_KICK } from "./input-guard.ts";

const TICK_HZ = 30;

/** One second of inputs at `perSecond`, from `fromMs`. */
function second(guard: InputGuard, fromMs: number, perSecond: number): void {
  for (let i = 0; i < perSecond; i++) guard.input(fromMs + (i * 1000) / perSecond);
}

describe("InputGuard", () => {
  it("leaves a client sending one input per tick alone", () => {
    const guard = new InputGuard(TICK_HZ * 2, 0);
    for (let s = 0; s < 30; s++) {
      second(guard, s * 1000, TICK_HZ);
      expect(guard.review().warnings).toEqual([]);
    }
  });

  it("does not read the backlog of a node's stall as a flood", () => {
    const guard = new InputGuard(TICK_HZ * 2, 0);
    for (let s = 0; s < 5; s++) {
      second(guard, s * 1000, TICK_HZ);
      guard.review();
    }
    // Frozen from 5 s to 8 s: the client's 90 inputs of those seconds arrive together at 8 s,
    // and the review that was due during the stall runs once, after them.
    for (let i = 0; i < 3 * TICK_HZ; i++) guard.input(8000);
    second(guard, 8000, TICK_HZ);
    expect(guard.review().warnings).toEqual([]);
  });

  it("warns a client that keeps sending faster than twice the tick rate, and kicks it after three bad seconds", () => {
    const guard = new InputGuard(TICK_HZ * 2, 0);
    const reviews = [];
    for (let s = 0; s < STRIKES_TO_KICK + 1; s++) {
      second(guard, s * 1000, TICK_HZ * 4);
      reviews.push(guard.review());
    }
    expect(reviews[0]!.warnings.map((w) => w.code)).toEqual([ErrorCode.INPUT_FLOOD]);
    expect(reviews[0]!.warnings[0]!.message).toMatch(/inputs beyond 60 per second; the excess was dropped/);
    expect(reviews.slice(0, STRIKES_TO_KICK - 1).every((r) => r.kick === undefined)).toBe(true);
    expect(reviews[STRIKES_TO_KICK - 1]!.kick?.code).toBe(ErrorCode.INPUT_FLOOD);
  });

  it("still warns about clamped values and unknown messages", () => {
    const guard = new InputGuard(TICK_HZ * 2, 0);
    guard.invalidValues = 2;
    guard.unknownMessages = 1;
    guard.lastUnknownType = '"teleport"';
    const { warnings } = guard.review();
    expect(warnings.map((w) => w.code)).toEqual([ErrorCode.INVALID_INPUT, ErrorCode.UNKNOWN_MESSAGE]);
    expect(guard.review().warnings).toEqual([]);
  });
});
