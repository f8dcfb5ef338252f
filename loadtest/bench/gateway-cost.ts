/**
 * What the gateway costs: the same players on one cluster node, joined directly and through a
 * gateway with each data plane (HAProxy, GATEWAY_RELAY=haproxy; the gateway's own Node process,
 * GATEWAY_RELAY=node), each gateway once on the node's core and once on a core of its own,
 * alternated, the order reversed every other round; latency from the bots, CPU of the node and of
 * each gateway (HAProxy included) from /proc.
 */
import type { GatewayRelay } from "../../server/config.ts";
import { type LocusProcess, startGatewayProcess, startNodeProcess, startRedis, type RunningProcess } from "../processes.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";
import { treeCpuSeconds } from "./process-cpu.ts";
import { loadWindow, type LoadWindow } from "./load-window.ts";
import { locusProbe } from "./server-probe.ts";

export interface GatewayPath {
  readonly name: string;
  /** Undefined: straight to the node. */
  readonly relay: GatewayRelay | undefined;
  readonly core: "node's" | "own" | undefined;
}

export const GATEWAY_PATHS: readonly GatewayPath[] = [
  { name: "direct to the node", relay: undefined, core: undefined },
  { name: "HAProxy, own core", relay: "haproxy", core: "own" },
  { name: "Node relay, own core", relay: "node", core: "own" },
  { name: "HAProxy, node's core", relay: "haproxy", core: "node's" },
  { name: "Node relay, node's core", relay: "node", core: "node's" },
];

export interface GatewayCostRun {
  readonly players: number;
  /** Where "own core" was: a core with no server on it. */
  readonly ownCore: string | undefined;
  /** Per path, in GATEWAY_PATHS order: one window per round. */
  readonly windows: LoadWindow[][];
}

export async function measureGatewayCost(
  players: number,
  seconds: number,
  rounds: number,
  cpus: { server: string | undefined; own: string | undefined },
  progress: (line: string) => void,
): Promise<GatewayCostRun> {
  const windows: LoadWindow[][] = GATEWAY_PATHS.map(() => []);
  const redis = await startRedis({ cpus: cpus.server });
  const running: RunningProcess[] = [redis];
  try {
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: "gw-bench", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn" }, { cpus: cpus.server });
    running.push(node);
    const gateways = new Map<GatewayPath, LocusProcess>();
    for (const path of GATEWAY_PATHS) {
      if (!path.relay) continue;
      const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn", GATEWAY_RELAY: path.relay }, { cpus: path.core === "own" ? cpus.own : cpus.server });
      running.push(gateway);
      gateways.set(path, gateway);
    }
    for (let round = 0; round < rounds; round++) {
      const order = GATEWAY_PATHS.map((path, i) => ({ path, i }));
      if (round % 2 === 1) order.reverse();
      for (const { path, i } of order) {
        const gateway = gateways.get(path);
        const w = await loadWindow(gateway?.url ?? node.url, players, seconds, locusProbe(node.adminUrl, node.child.pid!), {
          // Each window reads the gateway of its own path (HAProxy is a child of its gateway); the direct path reads none.
          gateway: () => (gateway ? treeCpuSeconds(gateway.child.pid!) : 0),
          redis: () => treeCpuSeconds(redis.child.pid!),
        });
        windows[i]!.push(w);
        progress(`${path.name}, round ${round + 1}: ack p50 ${w.bots.ackP50Ms?.toFixed(1)} ms, p99 ${w.bots.ackP99Ms?.toFixed(1)} ms, node CPU ${((w.server.cpuSeconds / w.bots.seconds) * 100).toFixed(1)} %, gateway CPU ${w.extraCpuPercent.gateway!.toFixed(1)} %`);
      }
    }
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
  return { players, ownCore: cpus.own, windows };
}
