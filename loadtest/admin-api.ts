/**
 * The load tester's one way into a cluster's operator side: the nodes' records in Redis, a drain
 * and a node's memory, each through the node's operator listener (its admin address). Nodes on
 * other machines are reached the same way as local ones, given the address and the token.
 */
import { type NodeRecord, readNodes } from "../server/cluster/node-registry.ts";
import { newRedis, type RedisEndpoint } from "../server/cluster/redis-endpoint.ts";
import { withScripts } from "../server/cluster/redis-scripts.ts";
import { sampleValue } from "./prometheus.ts";

const TIMEOUT_MS = 10_000;

/** The live nodes' records in the cluster's Redis; a record that is not a valid one is no node to load, strike or watch. */
export async function clusterNodes(endpoint: RedisEndpoint): Promise<NodeRecord[]> {
  const redis = withScripts(newRedis(endpoint, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null }));
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return await readNodes(redis, { report: () => undefined });
  } finally {
    redis.disconnect();
  }
}

/** Asks the node at `adminUrl` to drain; resolves once it has started (202). */
export async function drainAt(adminUrl: string, token: string): Promise<void> {
  const res = await fetch(`${adminUrl}/admin/drain`, { method: "POST", headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (res.status !== 202) throw new Error(`${adminUrl} refused the drain: ${res.status} ${(await res.text()).slice(0, 200)}`);
}

/** The node's resident memory in megabytes, from its /metrics. */
export async function residentMemoryMb(adminUrl: string, token: string | undefined): Promise<number> {
  const res = await fetch(`${adminUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${adminUrl}/metrics answered ${res.status}`);
  const bytes = sampleValue(await res.text(), "locus_process_resident_memory_bytes");
  if (!Number.isFinite(bytes)) throw new Error(`${adminUrl}/metrics has no locus_process_resident_memory_bytes`);
  return bytes / 1024 / 1024;
}
