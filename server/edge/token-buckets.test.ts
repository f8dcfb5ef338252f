import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-buckets.ts";

describe("TokenBuckets", () => {
  it("allows a burst, then the rate, and says how long to wait", () => {
    const buckets = new TokenBuckets(2, 3, 100);
    expect([0, 1, 2].map(() => buckets.take("a", 0))).toEqual([0, 0, 0]);
    expect(buckets.take("a", 0)).toBe(1);
    // Half a second refills one token at 2 a second.
    expect(buckets.take("a", 500)).toBe(0);
    expect(buckets.take("a", 500)).toBe(1);
  });

  it("rounds the wait up to whole seconds, never below one", () => {
    const buckets = new TokenBuckets(0.1, 1, 100);
    expect(buckets.take("a", 0)).toBe(0);
    expect(buckets.take("a", 0)).toBe(10);
    expect(buckets.take("a", 9_500)).toBe(1);
  });

  it("keeps each address's bucket apart", () => {
    const buckets = new TokenBuckets(1, 1, 100);
    expect(buckets.take("a", 0)).toBe(0);
    expect(buckets.take("a", 0)).toBe(1);
    expect(buckets.take("b", 0)).toBe(0);
  });

  it("drops buckets that refilled, so idle addresses cost nothing", () => {
    const buckets = new TokenBuckets(10, 5, 1_000_000);
    for (let i = 0; i < 1000; i++) buckets.take(`a${i}`, 0);
    expect(buckets.size).toBe(1000);
    // 0.5 s later every bucket is full again; each call sweeps a couple of them.
    for (let i = 0; i < 600; i++) buckets.take("b", 500 + i);
    expect(buckets.size).toBe(1);
  });

  it("never holds more than maxKeys buckets, forgetting the least recently used", () => {
    const buckets = new TokenBuckets(1, 1, 50);
    buckets.take("victim", 0);
    for (let i = 0; i < 10_000; i++) buckets.take(`attacker-${i}`, 1);
    expect(buckets.size).toBe(50);
    // Forgotten, the victim starts with a full bucket.
    expect(buckets.take("victim", 2)).toBe(0);
  });
});
