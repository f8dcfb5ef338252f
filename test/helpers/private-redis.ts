/**
 * A redis-server of the test file's own, with Locus's scripts registered on a connection to it:
 * for the tests of the scripts themselves, which need no node.
 */
import { Redis } from "ioredis";
import { startRedis } from "../../loadtest/processes.ts";
import { type ScriptedRedis, withScripts } from "../../server/cluster/redis-scripts.ts";

export interface PrivateRedis {
  readonly redis: ScriptedRedis;
  /** Closes the connection and stops the server. */
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = await startRedis();
  const redis = withScripts(new Redis(server.redisUrl));
  return {
    redis,
    async stop() {
      redis.disconnect();
      await server.stop();
    },
  };
}
