/**
 * A token bucket per client address: `burst` actions at once, then `ratePerSecond`. The map stays
 * bounded whatever the number of addresses: a bucket untouched long enough to be full again is
 * the same as no bucket and is dropped, a few at each call, and past `maxKeys` the least recently
 * used bucket is dropped (forgiving that one address) rather than growing memory.
 */

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets looked at for idleness on each call: enough to keep pace with new addresses, O(1) per call. */
const SWEEP_PER_CALL = 2;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  /** After this long untouched a bucket is full whatever it held. */
  private readonly refillMs: number;

  constructor(ratePerSecond: number, burst: number, maxKeys: number) {
    this.ratePerMs = ratePerSecond / 1000;
    this.burst = burst;
    this.maxKeys = maxKeys;
    this.refillMs = burst / this.ratePerMs;
  }

  /** Takes a token for `key`: 0 when there was one, otherwise the whole seconds until there is (at least 1). */
  take(key: string, now: number): number {
    this.sweep(now);
    const bucket = this.buckets.get(key);
    let tokens = this.burst;
    if (bucket) {
      tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.ratePerMs);
      // Re-inserted, so the map's order stays least recently used first.
      this.buckets.delete(key);
    } else if (this.buckets.size >= this.maxKeys) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.ratePerMs / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    let n = 0;
    for (const [key, bucket] of this.buckets) {
      if (n++ >= SWEEP_PER_CALL || now - bucket.at < this.refillMs) return;
      this.buckets.delete(key);
    }
  }
}
