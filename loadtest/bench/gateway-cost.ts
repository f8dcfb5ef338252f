/**
 * What the gateway costs: the same players on one cluster node, joined directly and through the
 * gateway (which relays every websocket byte), alternated; latency from the bots, CPU of node and
 * gateway from /proc.
 */
import { startGatewayProcess, startNodeProcess, startRedis, type RunningProcess } from "../processes.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";
import { cpuSeconds } from "./process-cpu.ts";
import { loadWindow, type LoadWindow } from "./load-window.ts";
import { locusProbe } from "./server-probe.ts";

export const GATEWAY_PATHS = ["direct to the node", "through the gateway"] as const;

export interface GatewayCostRun {
  readonly players: number;
  /** Per path, in GATEWAY_PATHS order: one window per round. */
  readonly windows: LoadWindow[][];
}

export async function measureGatewayCost(
  players: number,
  seconds: number,
  rounds: number,
  cpus: { server: string | undefined },
  progress: (line: string) => void,
): Promise<GatewayCostRun> {
  const windows: LoadWindow[][] = GATEWAY_PATHS.map(() => []);
  const redis = await startRedis({ cpus: cpus.server });
  const running: RunningProcess[] = [redis];
  try {
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: "gw-bench", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn" }, { cpus: cpus.server });
    running.push(node);
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: cpus.server });
    running.push(gateway);
    for (let round = 0; round < rounds; round++) {
      for (const [i, path] of GATEWAY_PATHS.entries()) {
        const url = i === 0 ? node.url : gateway.url;
        const w = await loadWindow(url, players, seconds, locusProbe(node.adminUrl, node.child.pid!), {
          gateway: () => cpuSeconds(gateway.child.pid!),
          redis: () => cpuSeconds(redis.child.pid!),
        });
        windows[i]!.push(w);
        progress(`${path}, round ${round + 1}: ack p50 ${w.bots.ackP50Ms?.toFixed(1)} ms, p99 ${w.bots.ackP99Ms?.toFixed(1)} ms, gateway CPU ${w.extraCpuPercent.gateway!.toFixed(1)} %`);
      }
    }
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
  return { players, windows };
}
