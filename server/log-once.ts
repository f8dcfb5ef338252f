/**
 * Remembers which things were already reported, so a problem that every scan (four a second, on
 * every node) sees again is logged once rather than on every pass. Bounded: past `capacity`
 * distinct things it forgets them all and may report each once more.
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
