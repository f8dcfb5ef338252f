/**
 * `npm run ops -- <command>`: the operator's view of a cluster, read from Redis, and drains run
 * through the nodes' admin API, each node reached by id at the operator address it publishes in
 * its record (never through a gateway). REDIS_URL and ADMIN_TOKEN come from the environment or flags.
 *
 *   nodes              every live node: state, load, game and admin addresses, last heartbeat
 *   rooms              every room: owner, epoch, tick and players of its last checkpoint
 *   drain <node>       hands every room of <node> to the others; waits, showing progress
 *   undrain <node>     returns a drained, idle node to service
 */
import { Redis } from "ioredis";
import { formatTable, parseFlags } from "../cli.ts";
import type { BadRecordSink } from "../cluster/bad-records.ts";
import { MAX_CHECKPOINT_BYTES } from "../durable/checkpoint.ts";
import { adminAddress, type NodeRecord, readNodes } from "../cluster/node-registry.ts";
import { readOwners } from "../cluster/owner-value.ts";
import { keys } from "../cluster/redis-keys.ts";
import { type Bounded, readBounded, withScripts } from "../cluster/redis-scripts.ts";
import { redactUrl } from "../redact.ts";

const spec = {
  redis: { type: "string", help: "Redis URL (default: $REDIS_URL)" },
  token: { type: "string", help: "admin token (default: $ADMIN_TOKEN)" },
} as const;
const program = "npm run ops -- <nodes | rooms | drain <node> | undrain <node>>";
const flags = parseFlags(program, spec, { positionals: true });
const [command, target, ...extra] = flags.positionals;
const redisUrl = (flags.values.redis as string | undefined) ?? process.env.REDIS_URL;
const token = (flags.values.token as string | undefined) ?? process.env.ADMIN_TOKEN;

if (!command || !["nodes", "rooms", "drain", "undrain"].includes(command)) flags.fail(command ? `unknown command "${command}"` : "a command is required");
if ((command === "drain" || command === "undrain") !== (target !== undefined) || extra.length > 0) {
  flags.fail(command === "drain" || command === "undrain" ? `${command} takes one node id` : `${command} takes no argument`);
}
if (!redisUrl || !/^rediss?:\/\/\S+$/.test(redisUrl)) flags.fail("a redis:// URL is required: set REDIS_URL or pass --redis");

const redis = withScripts(new Redis(redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null }));
redis.on("error", () => undefined);
/** Records in Redis that are not valid ones: skipped, and listed on stderr once the command is done. */
const skipped: string[] = [];
const badRecords: BadRecordSink = {
  report(kind, key, _content, reason) {
    if (!skipped.some((line) => line.startsWith(`${key}:`))) skipped.push(`${key}: ${reason}`);
  },
};

try {
  await redis.connect().catch((err: Error) => {
    throw new Error(`cannot reach Redis at ${redactUrl(redisUrl!)}: ${err.message}`);
  });
  switch (command) {
    case "nodes":
      await listNodes();
      break;
    case "rooms":
      await listRooms();
      break;
    case "drain":
      await drain(target!);
      break;
    case "undrain":
      await undrain(target!);
      break;
  }
  process.exitCode ??= 0;
} catch (err) {
  process.stderr.write(`ops: ${redactUrl((err as Error).message)}\n`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
  if (skipped.length > 0) process.stderr.write(`ops: skipped ${skipped.length} bad record(s) in Redis:\n${skipped.map((line) => `  ${line}\n`).join("")}`);
}

async function listNodes(): Promise<void> {
  const nodes = (await readNodes(redis, badRecords)).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  if (nodes.length === 0) return void process.stdout.write("no live nodes\n");
  const now = Date.now();
  process.stdout.write(
    formatTable(
      ["NODE", "STATE", "PLAYERS", "ROOMS", "ADDRESS", "ADMIN", "HEARTBEAT"],
      nodes.map((n) => [n.nodeId, n.state, String(n.players), String(n.rooms), n.address, adminAddress(n), `${now - n.heartbeatAt} ms ago`]),
    ),
  );
}

async function listRooms(): Promise<void> {
  const roomIds = (await redis.smembers(keys.rooms)).sort();
  if (roomIds.length === 0) return void process.stdout.write("no rooms\n");
  const [owners, checkpoints] = await Promise.all([readOwners(redis, roomIds, badRecords), readBounded(redis, roomIds.map(keys.checkpoint), MAX_CHECKPOINT_BYTES)]);
  const now = Date.now();
  process.stdout.write(
    formatTable(
    ["ROOM", "OWNER", "EPOCH", "TICK", "PLAYERS", "CHECKPOINT"],
    roomIds.map((id, i) => {
      const owner = owners[i];
      const cp = summary(checkpoints[i]!);
      const age = typeof cp === "string" ? cp : `${now - cp.takenAt} ms old`;
      return [id, owner?.nodeId ?? "(none: being recovered)", owner ? String(owner.epoch) : "", typeof cp === "string" ? "-" : String(cp.tick), typeof cp === "string" ? "-" : String(cp.players), age];
    }),
    ),
  );
}

async function drain(nodeId: string): Promise<void> {
  const node = await findNode(nodeId);
  const started = Date.now();
  const res = await call(node, "POST", "/drain");
  if (res.status !== 202) throw new Error(`${nodeId} refused the drain (${res.status}): ${res.body.error ?? JSON.stringify(res.body)}`);
  let status = res.body;
  for (;;) {
    const handOffs = Object.values(status.handOffs ?? {}) as { status: string }[];
    const done = handOffs.filter((h) => h.status !== "waiting" && h.status !== "moving").length;
    process.stderr.write(`\rdraining ${nodeId}: ${done}/${handOffs.length} rooms handed off, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (status.state === "drained") break;
    await new Promise((r) => setTimeout(r, 250));
    status = (await call(node, "GET", "/status")).body;
  }
  process.stderr.write("\n");
  const rows = Object.entries(status.handOffs as Record<string, { status: string; target?: string; tick?: number; ms?: number; error?: string }>);
  if (rows.length > 0) {
    process.stdout.write(
    formatTable(
      ["ROOM", "RESULT", "TO", "AT TICK", "TOOK", "NOTE"],
      rows.map(([id, h]) => [id, h.status, h.target ?? "", h.tick === undefined ? "" : String(h.tick), h.ms === undefined ? "" : `${h.ms} ms`, h.error ?? ""]),
      ),
    );
  }
  const failed = rows.filter(([, h]) => h.status !== "moved");
  process.stdout.write(`${nodeId} drained in ${status.drainFinishedAt - status.drainStartedAt} ms: ${rows.length - failed.length} of ${rows.length} rooms handed off\n`);
  if (failed.length > 0) {
    process.stderr.write(`ops: ${failed.length} rooms were not handed off; they were checkpointed for recovery on the other nodes\n`);
    process.exitCode = 1;
  }
}

async function undrain(nodeId: string): Promise<void> {
  const node = await findNode(nodeId);
  const res = await call(node, "POST", "/undrain");
  if (res.status !== 200) throw new Error(`${nodeId} refused (${res.status}): ${res.body.error ?? JSON.stringify(res.body)}`);
  process.stdout.write(`${nodeId} is back in service\n`);
}

async function findNode(nodeId: string): Promise<NodeRecord> {
  const nodes = await readNodes(redis, badRecords);
  const node = nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw new Error(`no live node "${nodeId}"; live nodes: ${nodes.map((n) => n.nodeId).join(", ") || "none"}`);
  return node;
}

async function call(node: NodeRecord, method: "GET" | "POST", path: string): Promise<{ status: number; body: any }> {
  if (!token) throw new Error("an admin token is required: set ADMIN_TOKEN or pass --token");
  let res: Response;
  const at = adminAddress(node);
  try {
    res = await fetch(`${at}/admin${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach ${node.nodeId}'s admin API at ${at}: ${(err as Error).message}`);
  }
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) throw new Error(`${node.nodeId} refused the admin token: ${body.error ?? "401"}`);
  return { status: res.status, body };
}

/** What the rooms table shows of a checkpoint, or why it shows nothing. */
function summary(read: Bounded): { tick: number; players: number; takenAt: number } | string {
  if (read.status === "missing") return "none";
  if (read.status !== "ok") return read.status === "too_large" ? `unreadable: ${read.bytes} bytes` : `unreadable: a ${read.type}`;
  try {
    const cp = JSON.parse(read.text) as { tick: unknown; takenAt: unknown; seats: unknown[] };
    if (typeof cp.tick !== "number" || typeof cp.takenAt !== "number" || !Array.isArray(cp.seats)) return "unreadable";
    return { tick: cp.tick, takenAt: cp.takenAt, players: cp.seats.length };
  } catch {
    return "unreadable";
  }
}
