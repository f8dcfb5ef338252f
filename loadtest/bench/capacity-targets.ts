/**
 * The servers the capacity measurements load, each started fresh on the server core(s): the plain
 * Colyseus baseline, a lone Locus node, and a Locus cluster node with its own Redis beside it.
 */
import { type RunningProcess, startBaselineProcess, startNodeProcess, startRedis } from "../processes.ts";
import { BENCH_TOKEN, type CapacityTarget, ROOM_SIZE, TICK_HZ } from "./capacity.ts";
import { baselineProbe, locusProbe } from "./server-probe.ts";

export const TARGET_KINDS = ["baseline", "single", "cluster"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const TARGET_NAMES: Readonly<Record<TargetKind, string>> = {
  baseline: "plain Colyseus 0.18 (baseline)",
  single: "Locus, single node",
  cluster: "Locus, cluster node (Redis, leases, checkpoints every 1 s)",
};

export interface StartedTarget extends CapacityTarget {
  /** The server process itself (the one measured), then whatever runs beside it. */
  readonly procs: readonly RunningProcess[];
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** taskset list the server (and its Redis) run on. */
  readonly cpus?: string;
  /** Node flags for the server process. */
  readonly nodeFlags?: readonly string[];
  /** A script to start instead of the kind's own (another checkout's server/main.ts, for an A/B). */
  readonly main?: string;
  /** Environment over the kind's own (JOURNAL=off, CHECKPOINT_MS=…), for an A/B of a setting. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startTarget(kind: TargetKind, o: TargetOptions = {}): Promise<StartedTarget> {
  const start = { cpus: o.cpus, nodeFlags: o.nodeFlags };
  const started = (procs: RunningProcess[], target: CapacityTarget): StartedTarget => ({
    ...target,
    procs,
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
    },
  });
  if (kind === "baseline") {
    const p = await startBaselineProcess({ TICK_HZ: String(TICK_HZ), MAX_PLAYERS: String(ROOM_SIZE), ...o.env }, { ...start, main: o.main });
    return started([p], { url: p.url, probe: baselineProbe(p.url, p.child.pid!) });
  }
  const env = { MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn", ...o.env };
  if (kind === "single") {
    const p = await startNodeProcess(env, { ...start, main: o.main });
    return started([p], { url: p.url, probe: locusProbe(p.adminUrl, p.child.pid!) });
  }
  const redis = await startRedis({ cpus: o.cpus });
  try {
    const p = await startNodeProcess({ ...env, REDIS_URL: redis.redisUrl, NODE_ID: "capacity", ADMIN_TOKEN: BENCH_TOKEN }, { ...start, main: o.main });
    return started([p, redis], { url: p.url, probe: locusProbe(p.adminUrl, p.child.pid!) });
  } catch (err) {
    await redis.stop();
    throw err;
  }
}
