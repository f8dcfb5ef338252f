/**
 * `npm run loadtest -- agent --coordinator redis://HOST:6379`: a bot generator for a run bigger
 * than one machine. It waits in the coordinator's Redis for work, plays its part of the run with
 * its own worker processes, answers each of the coordinator's requests with one sample merged
 * over its workers (HDR histograms added exactly), and exits when the run ends: 0 after a run,
 * 1 when the coordinator went silent, 2 on bad flags.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { Redis } from "ioredis";
import { parseFlags } from "../server/cli.ts";
import { loadtestKeys } from "../server/cluster/redis-keys.ts";
import { redactUrl } from "../server/redact.ts";
import { type AgentInfo, type AgentOrders, MAX_WORKERS, parseAgentMessage } from "./agent-protocol.ts";
import { RUN_KEY_TTL_MS } from "./agent-link.ts";
import { peak } from "./schedule.ts";
import { forkWorker, Swarm } from "./swarm.ts";
import { splitPlan } from "./swarm-protocol.ts";

const spec = {
  coordinator: { type: "string", help: "the Redis where runs hand out work, redis://HOST:PORT[/DB] (the one given to the run's --coordinator)" },
  workers: { type: "string", help: `bot processes on this machine (1 to ${MAX_WORKERS}, default: one per core)` },
  "raw-acks": { type: "string", help: "also write every measured input-to-ack latency (microseconds, one per line) to a file per bot process in this directory" },
} as const;

const HEARTBEAT_MS = 1000;
const RECORD_TTL_MS = 5000;
/** A coordinator asks every second; this long without a word, it is gone. */
const COORDINATOR_SILENCE_S = 30;

const flags = parseFlags("npm run loadtest -- agent", spec, { argv: process.argv.slice(3) });
const coordinator = typeof flags.values.coordinator === "string" ? flags.values.coordinator : flags.fail("--coordinator is required");
if (!/^rediss?:\/\/\S+$/.test(coordinator)) flags.fail(`--coordinator must be a redis:// URL, got ${redactUrl(JSON.stringify(coordinator))}`);
const workers = flags.int("workers", Math.max(1, cpus().length), 1, MAX_WORKERS);
const rawAcksDir = typeof flags.values["raw-acks"] === "string" ? flags.values["raw-acks"] : undefined;
if (rawAcksDir !== undefined) {
  try {
    mkdirSync(rawAcksDir, { recursive: true });
  } catch (err) {
    flags.fail(`cannot write ${rawAcksDir}: ${(err as Error).message}`);
  }
}

const id = `${hostname().replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 80)}-${process.pid}-${randomBytes(3).toString("hex")}`;
const info: AgentInfo = { host: hostname(), workers };
const redis = new Redis(coordinator, { lazyConnect: true });
redis.on("error", () => undefined);
await redis.connect().catch((err: Error) => {
  process.stderr.write(`agent: cannot reach the coordinator's Redis at ${redactUrl(coordinator)}: ${err.message}\n`);
  process.exit(1);
});
const inbox = redis.duplicate();
inbox.on("error", () => undefined);

let idle = true;
const beat = () => {
  const m = redis.multi().set(loadtestKeys.agent(id), JSON.stringify(info), "PX", RECORD_TTL_MS);
  if (idle) m.sadd(loadtestKeys.agents, id);
  void m.exec().catch(() => undefined);
};
beat();
const heartbeat = setInterval(beat, HEARTBEAT_MS);
const leave = async (code: number) => {
  clearInterval(heartbeat);
  await redis.multi().srem(loadtestKeys.agents, id).del(loadtestKeys.agent(id)).exec().catch(() => undefined);
  inbox.disconnect();
  redis.disconnect();
  process.exit(code);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void leave(0));
process.stderr.write(`agent ${id}: waiting for work at ${redactUrl(coordinator)} (${workers} bot processes)\n`);

/** The next message in the inbox, or undefined after `timeoutS` (0: wait for ever); a malformed one is reported and skipped. */
async function next(timeoutS: number): Promise<ReturnType<typeof parseAgentMessage> | undefined> {
  for (;;) {
    const popped = await inbox.blpop(loadtestKeys.inbox(id), timeoutS).catch(async (err: Error) => {
      process.stderr.write(`agent: ${err.message}; retrying\n`);
      await new Promise((r) => setTimeout(r, 1000));
      return "retry" as const;
    });
    if (popped === "retry") continue;
    if (popped === null) return undefined;
    try {
      return parseAgentMessage(popped[1]);
    } catch (err) {
      process.stderr.write(`agent: ignored ${(err as Error).message}\n`);
    }
  }
}

// Bot processes start while the agent waits, so that they play as soon as the orders come.
const idleWorkers = Array.from({ length: workers }, forkWorker);
let orders: AgentOrders | undefined;
while (!orders) {
  const m = await next(0);
  if (m?.kind === "orders") orders = m;
}
idle = false;
await redis.srem(loadtestKeys.agents, id).catch(() => undefined);
const processes = Math.min(workers, Math.max(1, peak(orders.plan.stages)));
process.stderr.write(`agent ${id}: run ${orders.runId}, up to ${peak(orders.plan.stages)} bots against ${orders.plan.url} on ${processes} bot processes\n`);
const startedAt = Date.now();
const playing = idleWorkers.slice(0, processes);
for (const spare of idleWorkers.slice(processes)) spare.release();
playing.forEach((w, worker) => w.start({ ...splitPlan(orders!.plan, processes, worker), worker, startedAt, ...(rawAcksDir === undefined ? {} : { rawAcksDir }) }));
const swarm = new Swarm(playing);
const outbox = loadtestKeys.outbox(orders.runId);
for (;;) {
  const request = await next(COORDINATOR_SILENCE_S);
  if (request === undefined) {
    process.stderr.write(`agent ${id}: the coordinator said nothing for ${COORDINATOR_SILENCE_S} s; stopping\n`);
    await swarm.stop();
    await leave(1);
  }
  if (request!.kind === "orders") continue;
  const sample = await swarm.collect(request!);
  await redis.multi().rpush(outbox, JSON.stringify({ agent: id, sample })).pexpire(outbox, RUN_KEY_TTL_MS).exec().catch(() => undefined);
  if (request!.kind === "stop") break;
}
swarm.release();
process.stderr.write(`agent ${id}: run ${orders.runId} done\n`);
await leave(0);
