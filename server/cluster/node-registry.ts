/**
 * Node presence: every node refreshes a short-lived record of itself (address, state, load), so
 * placement, gateways and failure detection all read the same view of who is alive.
 */
import type { Redis } from "ioredis";
import { keys } from "./redis-keys.ts";

export type NodeState = "ready" | "draining";

export interface NodeRecord {
  readonly nodeId: string;
  /** Where gateways and peers reach the node's HTTP and websocket port. */
  readonly address: string;
  /** Colyseus's process id for this node, which placement hands back to the matchmaker. */
  readonly processId: string;
  readonly state: NodeState;
  readonly players: number;
  readonly rooms: number;
  readonly heartbeatAt: number;
}

/** Reads every node record that has not lapsed, dropping the ids of those that have. */
export async function readNodes(redis: Redis): Promise<NodeRecord[]> {
  const ids = await redis.smembers(keys.nodes);
  if (ids.length === 0) return [];
  const raw = await redis.mget(ids.map(keys.node));
  const nodes: NodeRecord[] = [];
  const gone: string[] = [];
  raw.forEach((value, i) => {
    if (value === null) gone.push(ids[i]!);
    else nodes.push(JSON.parse(value) as NodeRecord);
  });
  if (gone.length > 0) await redis.srem(keys.nodes, ...gone);
  return nodes;
}

/** The ready node with the fewest players: where a new room goes, and who claims an orphan first. */
export function leastLoaded(nodes: readonly NodeRecord[]): NodeRecord | undefined {
  let best: NodeRecord | undefined;
  for (const n of nodes) {
    if (n.state !== "ready") continue;
    if (!best || n.players < best.players || (n.players === best.players && n.nodeId < best.nodeId)) best = n;
  }
  return best;
}

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly ttlMs: number;
  readonly record: () => Omit<NodeRecord, "heartbeatAt">;
  readonly onError: (err: unknown) => void;
}

/** Refreshes this node's record until stopped; a beat that is still in flight is not doubled. */
export function startHeartbeat(redis: Redis, options: HeartbeatOptions): { stop(): Promise<void> } {
  let inFlight: Promise<unknown> | undefined;
  const beat = () => {
    if (inFlight) return;
    const record: NodeRecord = { ...options.record(), heartbeatAt: Date.now() };
    inFlight = redis
      .multi()
      .set(keys.node(record.nodeId), JSON.stringify(record), "PX", options.ttlMs)
      .sadd(keys.nodes, record.nodeId)
      .exec()
      .catch(options.onError)
      .finally(() => (inFlight = undefined));
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      const { nodeId } = options.record();
      await redis.multi().del(keys.node(nodeId)).srem(keys.nodes, nodeId).exec().catch(options.onError);
    },
  };
}
