/**
 * What the gateway costs: the same players on one cluster node, joined directly and through a
 * gateway with each data plane (HAProxy, GATEWAY_RELAY=haproxy; the gateway's own Node process,
 * GATEWAY_RELAY=node), each gateway once on the node's core and once on a core of its own, and as
 * followers (matchmaking and the owner's address from the HAProxy gateway on its own core, the
 * socket straight to the node's PUBLIC_URL), alternated, the order reversed every other round;
 * latency from the bots, CPU of the node and of each gateway (HAProxy included) from /proc. Each
 * round ends with paired windows, half the players direct and half on a path, for the latency a
 * path adds.
 */
import type { GatewayRelay } from "../../server/config.ts";
import { freePort } from "../ports.ts";
import { type LocusProcess, startGatewayProcess, startNodeProcess, startRedis, type RunningProcess } from "../processes.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";
import { treeCpuSeconds } from "./process-cpu.ts";
import { loadWindow, type LoadWindow, type PairedWindow, pairedWindow } from "./load-window.ts";
import { locusProbe } from "./server-probe.ts";

export interface GatewayPath {
  readonly name: string;
  /** Undefined: straight to the node. */
  readonly relay: GatewayRelay | undefined;
  readonly core: "node's" | "own" | undefined;
  /** Joined through the gateway, the socket to the node's public address (docs/architecture.md, "Direct connections"). */
  readonly follow?: true;
}

export const GATEWAY_PATHS: readonly GatewayPath[] = [
  { name: "direct to the node", relay: undefined, core: undefined },
  { name: "HAProxy, own core", relay: "haproxy", core: "own" },
  { name: "Node relay, own core", relay: "node", core: "own" },
  { name: "HAProxy, node's core", relay: "haproxy", core: "node's" },
  { name: "Node relay, node's core", relay: "node", core: "node's" },
  { name: "followers via HAProxy gateway, own core", relay: "haproxy", core: "own", follow: true },
];

/**
 * Paths whose added latency is also measured paired (half the players on the path, half straight
 * to the node, in one window): a window's own moment moves both halves alike, where between two
 * windows it moves a p99 by more than the millisecond the target asks about.
 */
export const PAIRED_PATHS: readonly GatewayPath[] = GATEWAY_PATHS.filter((p) => p.relay === "haproxy" && p.core === "own");

export interface GatewayCostRun {
  readonly players: number;
  /** Where "own core" was: a core with no server on it. */
  readonly ownCore: string | undefined;
  /** Per path, in GATEWAY_PATHS order: one window per round. */
  readonly windows: LoadWindow[][];
  /** Per path, in PAIRED_PATHS order: one paired window per round. */
  readonly paired: PairedWindow[][];
}

export async function measureGatewayCost(
  players: number,
  seconds: number,
  rounds: number,
  cpus: { server: string | undefined; own: string | undefined },
  progress: (line: string) => void,
): Promise<GatewayCostRun> {
  const windows: LoadWindow[][] = GATEWAY_PATHS.map(() => []);
  const paired: PairedWindow[][] = PAIRED_PATHS.map(() => []);
  const redis = await startRedis({ cpus: cpus.server });
  const running: RunningProcess[] = [redis];
  try {
    const port = await freePort();
    // Only followers ask for the public address; every other path reaches the node as it would without one.
    const publicUrl = `ws://127.0.0.1:${port}`;
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: "gw-bench", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn", PUBLIC_URL: publicUrl }, { cpus: cpus.server, port });
    running.push(node);
    // One gateway per data plane and core: the followers share the one their path names.
    const gateways = new Map<string, LocusProcess>();
    const keyOf = (path: GatewayPath) => `${path.relay} ${path.core}`;
    const gatewayOf = (path: GatewayPath) => (path.relay ? gateways.get(keyOf(path)) : undefined);
    for (const path of GATEWAY_PATHS) {
      if (!path.relay || gatewayOf(path)) continue;
      const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn", GATEWAY_RELAY: path.relay }, { cpus: path.core === "own" ? cpus.own : cpus.server });
      running.push(gateway);
      gateways.set(keyOf(path), gateway);
    }
    for (let round = 0; round < rounds; round++) {
      const order = GATEWAY_PATHS.map((path, i) => ({ path, i }));
      if (round % 2 === 1) order.reverse();
      for (const { path, i } of order) {
        const gateway = gatewayOf(path);
        const extraCpu = {
          // Each window reads the gateway of its own path (HAProxy is a child of its gateway); the direct path reads none.
          gateway: () => (gateway ? treeCpuSeconds(gateway.child.pid!) : 0),
          redis: () => treeCpuSeconds(redis.child.pid!),
        };
        const w = await loadWindow(gateway?.url ?? node.url, players, seconds, locusProbe(node.adminUrl, node.child.pid!), extraCpu, { followRoom: path.follow === true, ping: true });
        windows[i]!.push(w);
        progress(`${path.name}, round ${round + 1}: ack p50 ${w.bots.ackP50Ms?.toFixed(1)} ms, p99 ${w.bots.ackP99Ms?.toFixed(1)} ms, node CPU ${((w.server.cpuSeconds / w.bots.seconds) * 100).toFixed(1)} %, gateway CPU ${w.extraCpuPercent.gateway!.toFixed(1)} %`);
      }
      const pairs = PAIRED_PATHS.map((path, i) => ({ path, i }));
      if (round % 2 === 1) pairs.reverse();
      for (const { path, i } of pairs) {
        const w = await pairedWindow(node.url, gatewayOf(path)!.url, players, seconds, path.follow === true);
        paired[i]!.push(w);
        progress(`paired, ${path.name}, round ${round + 1}: ack p99 ${w.relayed.ackP99Ms?.toFixed(1)} ms against ${w.direct.ackP99Ms?.toFixed(1)} ms direct in the same window`);
      }
    }
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
  return { players, ownCore: cpus.own, windows, paired };
}
