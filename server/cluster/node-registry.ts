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
  /**
   * Where the ops CLI reaches the node's operator listener (admin API, metrics); never public.
   * Absent from a node of a version before the operator listener, met during a rolling update.
   */
  readonly adminAddress?: string;
  /** Colyseus's process id for this node, which placement hands back to the matchmaker. */
  readonly processId: string;
  readonly state: NodeState;
  readonly players: number;
  readonly rooms: number;
  /** The process id, for tools on the same machine (the load tester's kill-node scenario). */
  readonly pid: number;
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

/** Where a node's admin API is: a node from before the operator listener served it on its game port. */
export function adminAddress(node: NodeRecord): string {
  return node.adminAddress ?? node.address;
}

/** Load order: fewest players first, then fewest rooms (a new room has none yet), then by id. */
export function byLoad(a: NodeRecord, b: NodeRecord): number {
  return a.players - b.players || a.rooms - b.rooms || a.nodeId.localeCompare(b.nodeId);
}

/** The ready node with the least load: where a new room goes. */
export function leastLoaded(nodes: readonly NodeRecord[]): NodeRecord | undefined {
  let best: NodeRecord | undefined;
  for (const n of nodes) {
    if (n.state === "ready" && (!best || byLoad(n, best) < 0)) best = n;
  }
  return best;
}

export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly ttlMs: number;
  readonly record: () => Omit<NodeRecord, "heartbeatAt">;
  readonly onError: (err: unknown) => void;
}

export interface Heartbeat {
  /** Publishes the record now (after the beat in flight, if any): the load changed, placement should know. */
  beatSoon(): void;
  stop(): Promise<void>;
}

/** Refreshes this node's record until stopped; a beat that is still in flight is not doubled. */
export function startHeartbeat(redis: Redis, options: HeartbeatOptions): Heartbeat {
  let inFlight: Promise<unknown> | undefined;
  let again = false;
  const beat = () => {
    if (inFlight) {
      again = true;
      return;
    }
    const record: NodeRecord = { ...options.record(), heartbeatAt: Date.now() };
    inFlight = redis
      .multi()
      .set(keys.node(record.nodeId), JSON.stringify(record), "PX", options.ttlMs)
      .sadd(keys.nodes, record.nodeId)
      .exec()
      .catch(options.onError)
      .finally(() => {
        inFlight = undefined;
        if (again) {
          again = false;
          beat();
        }
      });
  };
  beat();
  const timer = setInterval(beat, options.intervalMs);
  return {
    beatSoon: beat,
    async stop() {
      clearInterval(timer);
      await inFlight;
      const { nodeId } = options.record();
      await redis.multi().del(keys.node(nodeId)).srem(keys.nodes, nodeId).exec().catch(options.onError);
    },
  };
}
