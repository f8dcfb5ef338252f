/**
 * A server's per-address join limit answers 429 with `Retry-After` (seconds). A bot that is told
 * to wait, waits, as a player's client would, rather than counting the join a failure: a swarm
 * from one machine is one address, and ramping faster than the limit just takes longer.
 */

/** Joins a bot tries before giving up on a server that keeps saying "later". */
const MAX_ATTEMPTS = 6;
/** A longer Retry-After than this is waited this long: the swarm's own schedule matters more. */
const MAX_WAIT_SECONDS = 10;

/** Thrown by a join the server refused with 429: how long it asked to wait, in seconds. */
export class TooManyJoins extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Runs `join`, again after each TooManyJoins as long as it asks, up to a few times. */
export async function honouringRetryAfter<T>(join: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await join();
    } catch (err) {
      if (!(err instanceof TooManyJoins) || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.min(MAX_WAIT_SECONDS, err.retryAfterSeconds) * 1000));
    }
  }
}

/** The seconds a `Retry-After` header asks for (1 when it is missing or not a number of seconds). */
export function retryAfterSeconds(header: string | null | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 1 ? seconds : 1;
}
