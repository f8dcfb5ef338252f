/**
 * `npm run ops -- <command>`: the operator's view of a cluster, read from Redis, and drains run
 * through the nodes' admin API, each node reached by id at the operator address it publishes in
 * its record (never through a gateway). The Redis (REDIS_URL, or REDIS_SENTINELS with
 * REDIS_SENTINEL_MASTER, and REDIS_PASSWORD, REDIS_TLS…) and ADMIN_TOKEN come from the environment
 * or flags.
 *
 *   nodes              every live node: state, load, game and admin addresses, last heartbeat
 *   rooms              every room: owner, epoch, tick and players of its last checkpoint
 *   drain <node>       hands every room of <node> to the others; waits, showing progress
 *   undrain <node>     returns a drained, idle node to service
 */
import { formatTable, parseFlags } from "../cli.ts";
import type { BadRecordSink } from "../cluster/bad-records.ts";
import { MAX_CHECKPOINT_BYTES } from "../durable/checkpoint.ts";
import { adminAddress, type NodeRecord, readNodes } from "../cluster/node-registry.ts";
import { OwnershipView } from "../cluster/ownership.ts";
import { describeRedis, newRedis, type RedisEndpoint } from "../cluster/redis-endpoint.ts";
import { type Bounded, withScripts } from "../cluster/redis-scripts.ts";
import { ConfigError, loadRedisEndpoint } from "../config.ts";
import type { AdminStatus } from "../http/admin.ts";
import { redactUrl } from "../redact.ts";

const spec = {
  redis: { type: "string", help: "Redis URL (default: $REDIS_URL, or $REDIS_SENTINELS with $REDIS_SENTINEL_MASTER)" },
  token: { type: "string", help: "admin token (default: $ADMIN_TOKEN)" },
} as const;
const program = "npm run ops -- <nodes | rooms | drain <node> | undrain <node>>";
const flags = parseFlags(program, spec, { positionals: true });
const [command, target, ...extra] = flags.positionals;
const token = (flags.values.token as string | undefined) ?? process.env.ADMIN_TOKEN;

if (!command || !["nodes", "rooms", "drain", "undrain"].includes(command)) flags.fail(command ? `unknown command "${command}"` : "a command is required");
if ((command === "drain" || command === "undrain") !== (target !== undefined) || extra.length > 0) {
  flags.fail(command === "drain" || command === "undrain" ? `${command} takes one node id` : `${command} takes no argument`);
}
const flagUrl = flags.values.redis as string | undefined;
if (flagUrl !== undefined && !/^rediss?:\/\/\S+$/.test(flagUrl)) flags.fail("--redis must be a redis:// or rediss:// URL");
let endpoint: RedisEndpoint | undefined;
try {
  endpoint = loadRedisEndpoint(process.env, flagUrl);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  flags.fail(err.message);
}
if (!endpoint) flags.fail("the cluster's Redis is required: set REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_MASTER), or pass --redis");

const redis = withScripts(newRedis(endpoint!, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null }));
redis.on("error", () => undefined);
/** Records in Redis that are not valid ones: skipped, and listed on stderr once the command is done. */
const skipped: string[] = [];
const badRecords: BadRecordSink = {
  report(kind, key, _content, reason) {
    if (!skipped.some((line) => line.startsWith(`${key}:`))) skipped.push(`${key}: ${reason}`);
  },
};
const ownership = new OwnershipView(redis, badRecords);

try {
  await redis.connect().catch((err: Error) => {
    throw new Error(`cannot reach Redis at ${describeRedis(endpoint!)}: ${err.message}`);
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
  const roomIds = (await ownership.liveRoomIds()).sort();
  if (roomIds.length === 0) return void process.stdout.write("no rooms\n");
  const [owners, checkpoints] = await Promise.all([ownership.ownersOf(roomIds), ownership.readCheckpoints(roomIds, MAX_CHECKPOINT_BYTES)]);
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
  let status = await call(node, "POST", "/drain", 202, "refused the drain");
  for (;;) {
    const handOffs = Object.values(status.handOffs);
    const done = handOffs.filter((h) => h.status !== "waiting" && h.status !== "moving").length;
    process.stderr.write(`\rdraining ${nodeId}: ${done}/${handOffs.length} rooms handed off, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (status.state === "drained") break;
    await new Promise((r) => setTimeout(r, 250));
    status = await call(node, "GET", "/status", 200, "did not answer its status");
  }
  process.stderr.write("\n");
  const rows = Object.entries(status.handOffs);
  if (rows.length > 0) {
    process.stdout.write(
      formatTable(
        ["ROOM", "RESULT", "TO", "AT TICK", "TOOK", "NOTE"],
        rows.map(([id, h]) => [id, h.status, h.target ?? "", h.tick === undefined ? "" : String(h.tick), h.ms === undefined ? "" : `${h.ms} ms`, h.error ?? ""]),
      ),
    );
  }
  const failed = rows.filter(([, h]) => h.status !== "moved");
  process.stdout.write(`${nodeId} drained in ${(status.drainFinishedAt ?? 0) - (status.drainStartedAt ?? 0)} ms: ${rows.length - failed.length} of ${rows.length} rooms handed off\n`);
  if (failed.length > 0) {
    process.stderr.write(`ops: ${failed.length} rooms were not handed off; they were checkpointed for recovery on the other nodes\n`);
    process.exitCode = 1;
  }
}

async function undrain(nodeId: string): Promise<void> {
  await call(await findNode(nodeId), "POST", "/undrain", 200, "refused");
  process.stdout.write(`${nodeId} is back in service\n`);
}

async function findNode(nodeId: string): Promise<NodeRecord> {
  const nodes = await readNodes(redis, badRecords);
  const node = nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw new Error(`no live node "${nodeId}"; live nodes: ${nodes.map((n) => n.nodeId).join(", ") || "none"}`);
  return node;
}

/** Calls the node's admin API: its status when it answers `expected`, else an error saying `refusal` and why. */
async function call(node: NodeRecord, method: "GET" | "POST", path: string, expected: number, refusal: string): Promise<AdminStatus> {
  if (!token) throw new Error("an admin token is required: set ADMIN_TOKEN or pass --token");
  let res: Response;
  const at = adminAddress(node);
  try {
    res = await fetch(`${at}/admin${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach ${node.nodeId}'s admin API at ${at}: ${(err as Error).message}`);
  }
  const body: unknown = await res.json().catch(() => ({}));
  if (res.status === expected && isAdminStatus(body)) return body;
  const error = typeof body === "object" && body !== null && "error" in body && typeof body.error === "string" ? body.error : JSON.stringify(body);
  if (res.status === 401) throw new Error(`${node.nodeId} refused the admin token: ${error}`);
  throw new Error(`${node.nodeId} ${refusal} (${res.status}): ${error}`);
}

/** Enough of a status to read it as one: a node of another version may answer more. */
function isAdminStatus(body: unknown): body is AdminStatus {
  if (typeof body !== "object" || body === null) return false;
  const status = body as Record<string, unknown>;
  return typeof status.state === "string" && typeof status.handOffs === "object" && status.handOffs !== null;
}

/** What the rooms table shows of a checkpoint, or why it shows nothing. Read only as far as the table needs: one seat per player. */
function summary(read: Bounded): { tick: number; players: number; takenAt: number } | string {
  if (read.status === "missing") return "none";
  if (read.status !== "ok") return read.status === "too_large" ? `unreadable: ${read.bytes} bytes` : `unreadable: a ${read.type}`;
  try {
    const cp = JSON.parse(read.text) as { tick: unknown; takenAt: unknown; seats: unknown };
    if (typeof cp.tick !== "number" || typeof cp.takenAt !== "number" || !Array.isArray(cp.seats)) return "unreadable";
    return { tick: cp.tick, takenAt: cp.takenAt, players: cp.seats.length };
  } catch {
    return "unreadable";
  }
}
