import { describe, expect, it } from "vitest";
import { FIRST_RETRY_MS, jitteredRetryMs, MAX_RETRIES, MAX_RETRY_MS } from "./reconnection.ts";

const SEAT_HOLD_DEFAULT_MS = 20_000;

describe("jittered reconnect waits", () => {
  it("draws each wait in the upper half of an envelope that doubles from the first retry up to the cap", () => {
    for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) {
      const envelope = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
      expect(jitteredRetryMs(attempt, () => 0)).toBe(envelope / 2);
      expect(jitteredRetryMs(attempt, () => 0.999_999)).toBeCloseTo(envelope, 2);
    }
    expect(jitteredRetryMs(30, () => 0.999_999)).toBeLessThanOrEqual(MAX_RETRY_MS);
  });

  it("spreads players cut at the same moment: their waits for the same retry differ", () => {
    const waits = new Set(Array.from({ length: 50 }, () => Math.round(jitteredRetryMs(8))));
    expect(waits.size).toBeGreaterThan(25);
  });

  it("retries, at the shortest draws, for longer than the default seat hold", () => {
    let total = 0;
    for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) total += jitteredRetryMs(attempt, () => 0);
    expect(total).toBeGreaterThan(SEAT_HOLD_DEFAULT_MS);
  });
});
