/**
 * Abuse that an offender can repeat as fast as it likes (a refused request or socket, a failed
 * admin authentication, a refused or flooding websocket), logged so that the flood never floods
 * the log: the first occurrence of an event for an offender is logged at once with `count: 1`,
 * and the repeats are summed over a window that opens with it; when the window ends, one more
 * line carries how many followed (`count`, `windowMs`), and while they keep coming a new window
 * opens. A quiet window ends the episode, so the next occurrence is logged at once again. Summing
 * `count` over an event's lines gives its exact total. Memory is bounded: past `maxOffenders`
 * episodes at once, further offenders share one line per event, as `(others)`.
 *
 * For a condition that scans meet again and again (a bad record in Redis), see log-once.ts: that
 * is reported once while it lasts, not summed.
 */
import type { Logger } from "pino";

export interface RepeatLogOptions {
  readonly log: Logger;
  /** How long an episode's repeats are summed before one line reports them; 10 s by default. */
  readonly windowMs?: number;
  /** Episodes tracked at once; 1000 by default. */
  readonly maxOffenders?: number;
}

/** One occurrence: its event, the reason within it, who did it, and the line's other fields. */
export interface Occurrence {
  readonly event: string;
  readonly reason: string;
  readonly offender: string;
  readonly [field: string]: unknown;
}

export const OTHER_OFFENDERS = "(others)";

interface Episode {
  /** Occurrences since the episode's last line. */
  count: number;
  /** The last occurrence and its message, for the window's line. */
  last: Occurrence;
  message: string;
  timer: NodeJS.Timeout;
}

export class RepeatLog {
  private readonly log: Logger;
  private readonly windowMs: number;
  private readonly maxOffenders: number;
  private readonly episodes = new Map<string, Episode>();

  constructor(options: RepeatLogOptions) {
    this.log = options.log;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxOffenders = options.maxOffenders ?? 1000;
  }

  /** One occurrence; `message` is the human text of its line. */
  report(occurrence: Occurrence, message: string): void {
    let key = `${occurrence.event} ${occurrence.reason} ${occurrence.offender}`;
    let line = occurrence;
    if (!this.episodes.has(key) && this.episodes.size >= this.maxOffenders) {
      line = { ...occurrence, offender: OTHER_OFFENDERS };
      key = `${occurrence.event} ${occurrence.reason} ${OTHER_OFFENDERS}`;
    }
    const open = this.episodes.get(key);
    if (open) {
      open.count++;
      open.last = line;
      open.message = message;
      return;
    }
    this.log.warn({ ...line, count: 1 }, message);
    this.open(key, line, message);
  }

  /** Logs what the open windows have summed so far and forgets them (the process is stopping). */
  stop(): void {
    for (const [key, episode] of this.episodes) {
      clearTimeout(episode.timer);
      this.episodes.delete(key);
      this.sum(episode);
    }
  }

  private open(key: string, last: Occurrence, message: string): void {
    const episode: Episode = {
      count: 0,
      last,
      message,
      timer: setTimeout(() => {
        this.episodes.delete(key);
        if (episode.count === 0) return;
        this.sum(episode);
        // Still coming: keep summing, one line per window, for as long as it goes on.
        this.open(key, episode.last, episode.message);
      }, this.windowMs).unref(),
    };
    this.episodes.set(key, episode);
  }

  private sum(episode: Episode): void {
    if (episode.count === 0) return;
    this.log.warn({ ...episode.last, count: episode.count, windowMs: this.windowMs }, `${episode.message} (${episode.count} times in ${this.windowMs / 1000} s)`);
  }
}
