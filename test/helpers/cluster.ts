/**
 * A whole local cluster for a test: a private redis-server, Locus nodes n1..nN in cluster mode,
 * and a gateway in front of them.
 */
import { type LocusProcess, type NodeProcess, type RedisProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis } from "../../loadtest/processes.ts";

/** The admin token every test cluster's nodes share. */
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export interface TestCluster {
  readonly redis: RedisProcess;
  readonly nodes: Map<string, NodeProcess>;
  readonly gateway: LocusProcess;
  node(nodeId: string): NodeProcess;
  /** Starts one more node in this cluster. */
  addNode(nodeId: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** Everything every process printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** `main`: the nodes' script, when not server/main.ts (a node serving room types of its own). */
export async function startCluster(count: number, env: Record<string, string> = {}, main?: string): Promise<TestCluster> {
  const redis = await startRedis();
  const nodes = new Map<string, NodeProcess>();
  const started: RunningProcess[] = [redis];
  const addNode = async (nodeId: string, extra: Record<string, string> = {}) => {
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN, ...env, ...extra }, main ? { main } : {});
    nodes.set(nodeId, node);
    started.push(node);
    return node;
  };
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => addNode(`n${i + 1}`)));
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl });
    started.push(gateway);
    return {
      redis,
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
