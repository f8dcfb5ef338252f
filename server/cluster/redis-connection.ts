/**
 * Opening a connection to the cluster's Redis, the same way in nodes and gateways: an outage is
 * logged once when it starts and once when it ends, not on every retry.
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A command connection fails fast while Redis is away, so no renewal or checkpoint queues up
 * behind an outage; a subscriber connection keeps its queue, so it resubscribes when Redis returns.
 */
export function connectRedis(url: string, log: Logger, name: string, kind: "commands" | "subscriber" = "commands"): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "subscriber" ? null : 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    connectionName: name,
  });
  let down = false;
  redis.on("error", (err) => {
    if (!down) log.warn({ event: "redis_unreachable", err: err.message }, "Redis unreachable; rooms keep running");
    down = true;
  });
  redis.on("ready", () => {
    if (down) log.info({ event: "redis_back" }, "Redis reachable again");
    down = false;
  });
  return redis;
}
