/**
 * The load test's chaos: striking the busiest node of a cluster on this machine, and reading the
 * moved bots' recovery from their longest waits for state.
 */
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { adminAddress, readNodes } from "../server/cluster/node-registry.ts";
import { withScripts } from "../server/cluster/redis-scripts.ts";
import { percentile } from "./report.ts";

/** Host names of this machine: the only targets a load test may have. */
export const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

export interface Recovery {
  bots: number;
  p50: number;
  p99: number;
  max: number;
}

/** The bots that reconnected were in a room that moved: their longest wait for state is their recovery. */
export function recovery(gaps: readonly number[]): Recovery {
  return { bots: gaps.length, p50: percentile(gaps, 0.5), p99: percentile(gaps, 0.99), max: gaps.length ? Math.max(...gaps) : Number.NaN };
}

/** Kills or drains the node with the most players; only a node on this machine is ever killed. */
export async function strikeBusiestNode(kind: "kill-node" | "drain-node", redisAddress: string, token: string | undefined): Promise<string> {
  const redis = withScripts(new Redis(redisAddress, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null }));
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    // A record that is not a valid one is no node to strike.
    const busiest = (await readNodes(redis, { report: () => undefined })).filter((n) => n.state === "ready").sort((a, b) => b.players - a.players)[0];
    if (!busiest) throw new Error("no ready node");
    if (!LOOPBACK.test(new URL(busiest.address).hostname)) throw new Error(`${busiest.nodeId} is not on this machine`);
    if (kind === "kill-node") {
      // A stale record, or a pid from another namespace, must never hit some other process.
      if (!isLocusNode(busiest.pid)) throw new Error(`pid ${busiest.pid} of ${busiest.nodeId} is not a Locus node on this machine`);
      process.kill(busiest.pid, "SIGKILL");
      return `killed ${busiest.nodeId} (pid ${busiest.pid}, ${busiest.players} players, ${busiest.rooms} rooms)`;
    }
    const admin = adminAddress(busiest);
    if (!LOOPBACK.test(new URL(admin).hostname)) throw new Error(`${busiest.nodeId}'s admin API (${admin}) is not on this machine`);
    const res = await fetch(`${admin}/admin/drain`, { method: "POST", headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    if (res.status !== 202) throw new Error(`${busiest.nodeId} refused the drain: ${res.status} ${await res.text()}`);
    return `drained ${busiest.nodeId} (${busiest.players} players, ${busiest.rooms} rooms)`;
  } finally {
    redis.disconnect();
  }
}

function isLocusNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.endsWith("server/main.ts"));
  } catch {
    return false;
  }
}
