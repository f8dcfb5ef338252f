/**
 * A whole local cluster for a test: a private redis-server, Locus nodes n1..nN in cluster mode,
 * and a gateway in front of them.
 */
import { type NodeProcess, type RedisProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis } from "../../loadtest/processes.ts";

export interface TestCluster {
  readonly redis: RedisProcess;
  readonly nodes: Map<string, NodeProcess>;
  readonly gateway: RunningProcess;
  node(nodeId: string): NodeProcess;
  /** Everything every process printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export async function startCluster(count: number, env: Record<string, string> = {}): Promise<TestCluster> {
  const redis = await startRedis();
  const nodes = new Map<string, NodeProcess>();
  const started: RunningProcess[] = [redis];
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const nodeId = `n${i + 1}`;
        const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ...env });
        nodes.set(nodeId, node);
        started.push(node);
      }),
    );
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl });
    started.push(gateway);
    return {
      redis,
      nodes,
      gateway,
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
