/**
 * A whole local cluster for a test: a private redis-server (or a Sentinel group), Locus nodes
 * n1..nN in cluster mode, and a gateway in front of them.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { type ArenaSession, joinArena } from "../../client/lib/node.ts";
import { type LocusProcess, type NodeProcess, type RedisProcess, type StartOptions, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../../loadtest/processes.ts";
import { type SentinelGroup, type SentinelGroupOptions, startSentinelGroup } from "../../loadtest/sentinel-group.ts";

/** The admin token every test cluster's nodes share. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";

/** The nodes and the gateway of a test cluster, on whatever Redis it was given. */
export interface ClusterProcesses {
  readonly nodes: Map<string, NodeProcess>;
  readonly gateway: LocusProcess;
  node(nodeId: string): NodeProcess;
  /** Starts one more node in this cluster (on `options.port` when given). */
  addNode(nodeId: string, env?: Record<string, string>, options?: StartOptions): Promise<NodeProcess>;
  /** Everything every process printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export interface TestCluster extends ClusterProcesses {
  readonly redis: RedisProcess;
}

export interface SentinelTestCluster extends ClusterProcesses {
  /** The master, replica and sentinels every process finds Redis through. */
  readonly group: SentinelGroup;
}

/** A test cluster for the tests of one describe block, and a client of its Redis for them to look in. */
export interface SuiteCluster {
  readonly cluster: TestCluster;
  readonly redis: Redis;
}

/**
 * Starts a cluster of `count` nodes (with `env` for each) before the tests of the describe block
 * it is called in and stops it after them; its fields are read inside the tests, once it is up.
 */
export function clusterForSuite(count: number, env: Record<string, string> = {}): SuiteCluster {
  const suite = {} as { cluster: TestCluster; redis: Redis };
  beforeAll(async () => {
    suite.cluster = await startCluster(count, env);
    suite.redis = new Redis(suite.cluster.redis.redisUrl);
  });
  afterAll(async () => {
    suite.redis?.disconnect();
    await suite.cluster?.stop();
  });
  return suite;
}

/** A player joins the arena through the cluster's gateway (into `roomId` when given), kept in `sessions` for the test to close; resolves once it sees itself in the state. */
export async function joinThroughGateway(cluster: TestCluster, sessions: ArenaSession[], name: string, roomId?: string): Promise<ArenaSession> {
  const session = await joinArena({ url: cluster.gateway.url, name, ...(roomId ? { roomId } : {}) });
  sessions.push(session);
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its state`);
  return session;
}

/** `main`: the nodes' script, when not server/main.ts (a node serving room types of its own). */
export async function startCluster(count: number, env: Record<string, string> = {}, main?: string): Promise<TestCluster> {
  const redis = await startRedis();
  return { redis, ...(await startProcesses(redis, { REDIS_URL: redis.redisUrl }, count, env, main)) };
}

/** A cluster whose Redis fails over: a master, a replica and three sentinels (sentinel-group.ts). */
export async function startSentinelCluster(count: number, env: Record<string, string> = {}, group: SentinelGroupOptions = {}): Promise<SentinelTestCluster> {
  const redis = await startSentinelGroup(group);
  const processes = await startProcesses(redis, redis.env, count, env, undefined);
  return { group: redis, ...processes, output: () => `${processes.output()}\n--- redis\n${redis.output()}` };
}

async function startProcesses(redis: { stop(): Promise<void> }, redisEnv: Readonly<Record<string, string>>, count: number, env: Record<string, string>, main: string | undefined): Promise<ClusterProcesses> {
  const nodes = new Map<string, NodeProcess>();
  const started: { stop(): Promise<void> }[] = [redis];
  const addNode = async (nodeId: string, extra: Record<string, string> = {}, options: StartOptions = {}) => {
    const node = await startNodeProcess({ ...redisEnv, NODE_ID: nodeId, ADMIN_TOKEN, ...env, ...extra }, { ...options, ...(main ? { main } : {}) });
    nodes.set(nodeId, node);
    started.push(node);
    return node;
  };
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => addNode(`n${i + 1}`)));
    const gateway = await startGatewayProcess({ ...redisEnv });
    started.push(gateway);
    return {
      nodes,
      gateway,
      addNode,
      node(nodeId) {
        const n = nodes.get(nodeId);
        if (!n) throw new Error(`no node ${nodeId}`);
        return n;
      },
      output: () => [...nodes].map(([id, n]) => `--- ${id}\n${n.output()}`).join("\n") + `\n--- gateway\n${gateway.output()}`,
      async stop() {
        await Promise.all(started.map((p) => p.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
}

/** Calls a node's admin API, on its operator listener, with the test clusters' token (or `token`). */
export async function admin(node: { adminUrl: string }, method: "GET" | "POST", path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.adminUrl}/admin${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}
