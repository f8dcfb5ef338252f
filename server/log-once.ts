/**
 * Remembers which conditions were already reported, so a condition that every scan (four a
 * second, on every node) meets again, such as a bad record in Redis, is logged once while it
 * lasts rather than on every pass; its subject is forgotten when it clears. That is a state seen
 * again, not an offender's repeated acts: those are summed per window by repeat-log.ts. Bounded:
 * past `capacity` distinct conditions it forgets them all and may report each once more.
 */
export class LogOnce {
  private readonly seen = new Set<string>();
  private readonly capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
  }

  /** True the first time `key` is seen (again after a reset). */
  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.capacity) this.seen.clear();
    this.seen.add(key);
    return true;
  }

  /** `key` may be reported again: it was fixed, or its subject is gone. */
  forget(key: string): void {
    this.seen.delete(key);
  }
}
