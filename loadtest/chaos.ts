/**
 * The load test's chaos: killing the busiest node of a cluster on this machine, draining a node
 * anywhere through its admin API, and reading the moved bots' recovery from their longest waits
 * for state.
 */
import { readFileSync } from "node:fs";
import { adminAddress, type NodeRecord } from "../server/cluster/node-registry.ts";
import type { RedisEndpoint } from "../server/cluster/redis-endpoint.ts";
import { clusterNodes, drainAt } from "./admin-api.ts";
import { percentile } from "./report.ts";

/** Host names of this machine: the only targets of the project's own tests, and of anything that kills a process. */
export const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

export interface Recovery {
  bots: number;
  p50: number;
  p99: number;
  max: number;
}

/** Percentiles of per-bot times (recoveries, or times back after a storm). */
export function recovery(gaps: readonly number[]): Recovery {
  return { bots: gaps.length, p50: percentile(gaps, 0.5), p99: percentile(gaps, 0.99), max: gaps.length ? Math.max(...gaps) : Number.NaN };
}

/** SIGKILLs the node with the most players; only a Locus node on this machine is ever killed. */
export async function killBusiestNode(redis: RedisEndpoint): Promise<string> {
  const busiest = await busiestNode(redis);
  if (!LOOPBACK.test(new URL(busiest.address).hostname)) throw new Error(`${busiest.nodeId} is not on this machine`);
  // A stale record, or a pid from another namespace, must never hit some other process.
  if (!isLocusNode(busiest.pid)) throw new Error(`pid ${busiest.pid} of ${busiest.nodeId} is not a Locus node on this machine`);
  process.kill(busiest.pid, "SIGKILL");
  return `killed ${busiest.nodeId} (pid ${busiest.pid}, ${busiest.players} players, ${busiest.rooms} rooms)`;
}

/** Drains the node whose admin API is at `target.adminUrl`, or else the busiest node in the cluster's Redis, at its admin address. */
export async function drainNode(target: { readonly adminUrl: string } | { readonly redis: RedisEndpoint }, token: string): Promise<string> {
  if ("adminUrl" in target) {
    await drainAt(target.adminUrl, token);
    return `drained the node at ${target.adminUrl}`;
  }
  const busiest = await busiestNode(target.redis);
  await drainAt(adminAddress(busiest), token);
  return `drained ${busiest.nodeId} (${busiest.players} players, ${busiest.rooms} rooms)`;
}

async function busiestNode(redis: RedisEndpoint): Promise<NodeRecord> {
  const busiest = (await clusterNodes(redis)).filter((n) => n.state === "ready").sort((a, b) => b.players - a.players)[0];
  if (!busiest) throw new Error("no ready node");
  return busiest;
}

function isLocusNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.endsWith("server/main.ts"));
  } catch {
    return false;
  }
}
