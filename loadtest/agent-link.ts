/**
 * The coordinator's side of a distributed run: claims agents waiting in Redis, hands each its
 * part of the run, and turns each into a swarm peer whose requests go to the agent's inbox and
 * whose samples come back through the run's outbox.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { loadtestKeys } from "../server/cluster/redis-keys.ts";
import { redactUrl } from "../server/redact.ts";
import { type AgentInfo, type AgentOrders, ID, parseAgentAnswer, parseAgentInfo } from "./agent-protocol.ts";
import type { AgentSummary } from "./load-report.ts";
import { peak } from "./schedule.ts";
import type { SwarmPeer } from "./swarm.ts";
import { type SwarmPlan, type SwarmRequest, splitPlan } from "./swarm-protocol.ts";

/** Run keys outlive a crashed coordinator by this much, then Redis forgets them. */
export const RUN_KEY_TTL_MS = 600_000;
/** An agent silent this long is taken for gone: the run goes on without waiting for it. */
const SILENT_AGENT_MS = 15_000;
const POLL_MS = 250;

export interface AgentCrew {
  readonly peers: SwarmPeer[];
  readonly agents: AgentSummary[];
  /** Problems met on the way (answers that failed their checks, agents gone silent), once each. */
  readonly problems: Set<string>;
  close(): void;
}

/** Claims `count` waiting agents within `waitMs` and gives them their parts of `plan`; fails, releasing them, when too few come. */
export async function recruitAgents(coordinator: string, count: number, waitMs: number, plan: SwarmPlan, onWait: (have: number) => void): Promise<AgentCrew> {
  const redis = new Redis(coordinator, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  await redis.connect().catch((err: Error) => {
    redis.disconnect();
    throw new Error(`cannot reach the coordinator's Redis at ${redactUrl(coordinator)}: ${err.message}`);
  });
  const claimed: { id: string; info: AgentInfo }[] = [];
  try {
    const until = Date.now() + waitMs;
    while (claimed.length < count) {
      for (const id of await redis.smembers(loadtestKeys.agents)) {
        if (claimed.length >= count) break;
        if (!ID.test(id)) {
          await redis.srem(loadtestKeys.agents, id);
          continue;
        }
        const raw = await redis.get(loadtestKeys.agent(id));
        // An id whose record lapsed is an agent that died waiting.
        if (raw === null) await redis.srem(loadtestKeys.agents, id);
        else if ((await redis.srem(loadtestKeys.agents, id)) === 1) claimed.push({ id, info: parseAgentInfo(raw) });
      }
      if (claimed.length >= count) break;
      onWait(claimed.length);
      if (Date.now() > until) throw new Error(`only ${claimed.length} of ${count} agents were waiting at ${redactUrl(coordinator)} within ${Math.round(waitMs / 1000)} s; start more with: npm run loadtest -- agent --coordinator ${redactUrl(coordinator)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } catch (err) {
    if (claimed.length > 0) await redis.sadd(loadtestKeys.agents, ...claimed.map((c) => c.id)).catch(() => undefined);
    redis.disconnect();
    throw err;
  }
  return startCrew(redis, claimed, plan);
}

async function startCrew(redis: Redis, claimed: readonly { id: string; info: AgentInfo }[], plan: SwarmPlan): Promise<AgentCrew> {
  const runId = randomBytes(8).toString("hex");
  const outbox = loadtestKeys.outbox(runId);
  const problems = new Set<string>();
  const push = (id: string, message: AgentOrders | SwarmRequest) =>
    void redis.multi().rpush(loadtestKeys.inbox(id), JSON.stringify(message)).pexpire(loadtestKeys.inbox(id), RUN_KEY_TTL_MS).exec().catch(() => undefined);
  let closed = false;
  const heardAt = claimed.map(() => Date.now());
  const peers: SwarmPeer[] = claimed.map(({ id }, i) => ({
    get live() {
      if (closed) return false;
      if (Date.now() - heardAt[i]! < SILENT_AGENT_MS) return true;
      problems.add(`agent ${id} went silent; the run went on without it`);
      return false;
    },
    request: (r) => push(id, r),
    onSample: () => undefined,
    release: () => undefined,
  }));
  const agents = claimed.map(({ id, info }, i) => {
    const part = splitPlan(plan, claimed.length, i);
    push(id, { kind: "orders", runId, plan: part });
    return { id, host: info.host, workers: Math.min(info.workers, Math.max(1, peak(part.stages))), bots: peak(part.stages) };
  });
  const index = new Map(claimed.map(({ id }, i) => [id, i]));
  const reader = redis.duplicate();
  reader.on("error", () => undefined);
  void (async () => {
    while (!closed) {
      const popped = await reader.blpop(outbox, 1).catch(() => null);
      if (!popped) continue;
      try {
        const { agent, sample } = parseAgentAnswer(popped[1]);
        const i = index.get(agent);
        if (i === undefined) throw new Error(`an answer from ${agent}, which is not in this run`);
        heardAt[i] = Date.now();
        peers[i]!.onSample(sample);
      } catch (err) {
        problems.add((err as Error).message);
      }
    }
  })();
  return {
    peers,
    agents,
    problems,
    close() {
      closed = true;
      reader.disconnect();
      void redis.del(outbox).finally(() => redis.disconnect());
    },
  };
}
