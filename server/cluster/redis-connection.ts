/**
 * Opening a connection to the cluster's Redis, the same way in nodes and gateways: an outage is
 * logged once when it starts and once when it ends, not on every retry.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { newRedis, type RedisEndpoint } from "./redis-endpoint.ts";

/** The longest wait between two attempts to reach Redis again: every process is back this soon after Redis is. */
export const RECONNECT_MAX_DELAY_MS = 1000;

/**
 * A command connection fails fast while Redis is away, so no renewal or checkpoint queues up
 * behind an outage; a subscriber connection keeps its queue, so it resubscribes when Redis returns.
 * In Sentinel mode each reconnect asks the sentinels where the master is now.
 */
export function connectRedis(endpoint: RedisEndpoint, log: Logger, name: string, kind: "commands" | "subscriber" = "commands"): Redis {
  const redis = newRedis(endpoint, {
    enableOfflineQueue: kind === "subscriber",
    maxRetriesPerRequest: kind === "subscriber" ? null : 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS),
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
