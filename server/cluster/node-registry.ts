/**
 * Node presence: every node refreshes a short-lived record of itself (address, state, load), so
 * placement, gateways and failure detection all read the same view of who is alive.
 */
import type { Redis } from "ioredis";
import { PUBLIC_URL_PATTERN } from "../../shared/protocol.ts";
import { NODE_ADDRESS_PATTERN, NODE_ID_PATTERN } from "../config.ts";
import type { BadRecordSink } from "./bad-records.ts";
import { keys } from "./redis-keys.ts";
import { type Bounded, readBounded, readNodeRecords, type ScriptedRedis } from "./redis-scripts.ts";

export type NodeState = "ready" | "draining";
const NODE_STATES: readonly NodeState[] = ["ready", "draining"];

export interface NodeRecord {
  readonly nodeId: string;
  /** Where gateways and peers reach the node's HTTP and websocket port. */
  readonly address: string;
  /**
   * Where the ops CLI reaches the node's operator listener (admin API, metrics); never public.
   * Absent from a node of a version before the operator listener, met during a rolling update.
   */
  readonly adminAddress?: string;
  /** Where players' websockets reach the node without the gateway (PUBLIC_URL); absent when it advertises none. */
  readonly publicUrl?: string;
  /** Colyseus's process id for this node, which placement hands back to the matchmaker. */
  readonly processId: string;
  readonly state: NodeState;
  readonly players: number;
  readonly rooms: number;
  /** The process id, for tools on the same machine (the load tester's kill-node scenario). */
  readonly pid: number;
  readonly heartbeatAt: number;
}

/** A record is a few hundred bytes; anything much larger is not one, and is not even read. */
export const MAX_NODE_RECORD_BYTES = 4096;
const MAX_NODE_ID_BYTES = 64;

/**
 * Reads every node record that has not lapsed, dropping the ids of those that have. A record
 * that is not a valid one (junk, a wrong field, too large, not a string, an id that is no node
 * id) is reported to `bad` and skipped: it never stops placement, routing or failure detection.
 */
export async function readNodes(redis: ScriptedRedis, bad: BadRecordSink): Promise<NodeRecord[]> {
  const nodes: NodeRecord[] = [];
  for (const { id, record } of await readNodeRecords(redis, keys.nodes, keys.node(""), MAX_NODE_ID_BYTES, MAX_NODE_RECORD_BYTES)) {
    if (record.status === "bad_id") {
      bad.report("node", `${keys.nodes} member`, id, `an id of ${record.bytes} bytes is no node id`);
      continue;
    }
    const node = checkedRecord(id, record, bad);
    if (node) nodes.push(node);
  }
  return nodes;
}

/** Where a node's admin API is: a node from before the operator listener served it on its game port. */
export function adminAddress(node: NodeRecord): string {
  return node.adminAddress ?? node.address;
}

/** One node's record, or undefined when it has lapsed or is not a valid one (reported to `bad`). */
export async function readNode(redis: ScriptedRedis, nodeId: string, bad: BadRecordSink): Promise<NodeRecord | undefined> {
  if (!NODE_ID_PATTERN.test(nodeId)) return undefined;
  const [record] = await readBounded(redis, [keys.node(nodeId)], MAX_NODE_RECORD_BYTES);
  return checkedRecord(nodeId, record!, bad);
}

function checkedRecord(id: string, record: Bounded, bad: BadRecordSink): NodeRecord | undefined {
  if (record.status === "missing") return undefined;
  const key = keys.node(id);
  if (record.status !== "ok") {
    bad.report("node", key, undefined, record.status === "wrong_type" ? `a ${record.type}, not a string` : `${record.bytes} bytes, over ${MAX_NODE_RECORD_BYTES}`);
    return undefined;
  }
  const parsed = parseNodeRecord(id, record.text);
  if (!parsed.ok) bad.report("node", key, record.text, parsed.error);
  return parsed.ok ? parsed.value : undefined;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isAddress = (v: unknown): v is string => {
  if (typeof v !== "string" || !NODE_ADDRESS_PATTERN.test(v)) return false;
  try {
    return new URL(v).username === "";
  } catch {
    return false;
  }
};

/** Checks a node record read from `locus:node:{nodeId}`; fields it does not know are ignored, for records of newer nodes. */
export function parseNodeRecord(nodeId: string, text: string): { ok: true; value: NodeRecord } | { ok: false; error: string } {
  if (!NODE_ID_PATTERN.test(nodeId)) return { ok: false, error: "the key names no valid node id" };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, error: "not an object" };
  const r = data as Record<string, unknown>;
  if (r.nodeId !== nodeId) return { ok: false, error: "nodeId is not the one in its key" };
  if (!isAddress(r.address)) return { ok: false, error: "address is not an http(s) URL with no path" };
  if (r.adminAddress !== undefined && !isAddress(r.adminAddress)) return { ok: false, error: "adminAddress is not an http(s) URL with no path" };
  if (r.publicUrl !== undefined && (typeof r.publicUrl !== "string" || !PUBLIC_URL_PATTERN.test(r.publicUrl))) return { ok: false, error: "publicUrl is not a ws(s) URL with no path" };
  if (typeof r.processId !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(r.processId)) return { ok: false, error: "processId is not a process id" };
  if (!NODE_STATES.includes(r.state as NodeState)) return { ok: false, error: `state is not one of ${NODE_STATES.join(", ")}` };
  for (const field of ["players", "rooms", "pid", "heartbeatAt"] as const) {
    if (!isCount(r[field])) return { ok: false, error: `${field} is not a whole number of at least 0` };
  }
  const value: NodeRecord = {
    nodeId,
    address: r.address,
    processId: r.processId,
    state: r.state as NodeState,
    players: r.players as number,
    rooms: r.rooms as number,
    pid: r.pid as number,
    heartbeatAt: r.heartbeatAt as number,
    ...(r.adminAddress === undefined ? {} : { adminAddress: r.adminAddress as string }),
    ...(r.publicUrl === undefined ? {} : { publicUrl: r.publicUrl as string }),
  };
  return { ok: true, value };
}

/**
 * Load order: fewest rooms first, then fewest players, then by id. Rooms come first because a
 * room costs its tick with or without players and is where the next players will go: counted by
 * players, a burst of creates (rooms with nobody in them yet) would all land on one node.
 */
export function byLoad(a: NodeRecord, b: NodeRecord): number {
  return a.rooms - b.rooms || a.players - b.players || a.nodeId.localeCompare(b.nodeId);
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
  /** A beat reached Redis. */
  readonly onBeat: () => void;
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
      .then(options.onBeat, options.onError)
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
