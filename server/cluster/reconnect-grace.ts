/**
 * The claimer's half of riding out a Redis outage or a Sentinel failover. While Redis is away no
 * owner can renew, so every lease may lapse; when Redis is back, a room without a lease is far
 * more likely a live owner's that has not reconnected yet than a dead one's. So for a while after
 * this node's connection is (re)made it claims no such room: long enough for every live owner to
 * reconnect (at most RECONNECT_MAX_DELAY_MS after Redis is back, as this node did) and renew its
 * lease back (lease-lapse.ts), and at least one lease, so that any owner that does not come back
 * has stopped its rooms by its own local deadline before anyone claims them. The node's first
 * connection counts too: a node that starts during a failover knows no more than one that was
 * there. Rooms of a crashed node are still taken at once: their lease, if it ran on, names an
 * owner whose port refuses connections (mode "dead"), which the grace does not hold back.
 */
import type { Redis } from "ioredis";
import { RECONNECT_MAX_DELAY_MS } from "./redis-connection.ts";

export class ReconnectGrace {
  private until = 0;
  private readonly graceMs: number;

  constructor(redis: Redis, leaseMs: number) {
    this.graceMs = leaseMs + RECONNECT_MAX_DELAY_MS;
    redis.on("ready", () => {
      this.until = Date.now() + this.graceMs;
    });
  }

  /** Whether rooms without a lease are to be left to their owners for now. */
  get holding(): boolean {
    return Date.now() < this.until;
  }
}
