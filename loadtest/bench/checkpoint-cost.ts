/**
 * What checkpoints cost: one cluster node under the same load with checkpoints nearly off
 * (CHECKPOINT_MS at its maximum: each room writes one a minute), at the default 1 s,
 * and ten times as often, alternated (the order reversed every other round) so drift in the
 * machine hits all alike, reported as a ratio from one run. The default rate with the input journal
 * on is a fourth setting: the journal's cost is its difference from the default. At the default rate the cost hides in
 * the noise between two fresh nodes; the tenfold rate makes it big enough to divide per checkpoint.
 */
import { startNodeProcess, startRedis, type RunningProcess } from "../processes.ts";
import { cpuSeconds } from "./process-cpu.ts";
import { loadWindow, type LoadWindow } from "./load-window.ts";
import { locusProbe } from "./server-probe.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";

export const CHECKPOINT_SETTINGS = [
  { label: "nearly off (CHECKPOINT_MS 60000, one a minute per room)", ms: 60_000, journal: false },
  { label: "on (CHECKPOINT_MS 1000, the default)", ms: 1000, journal: false },
  { label: "ten times as often (CHECKPOINT_MS 100)", ms: 100, journal: false },
  { label: "on, with the input journal (CHECKPOINT_MS 1000, JOURNAL=on)", ms: 1000, journal: true },
] as const;

export interface CheckpointCostRun {
  readonly players: number;
  /** Per setting, in CHECKPOINT_SETTINGS order: one window per round. */
  readonly windows: LoadWindow[][];
}

export async function measureCheckpointCost(
  players: number,
  seconds: number,
  rounds: number,
  cpus: { server: string | undefined },
  progress: (line: string) => void,
): Promise<CheckpointCostRun> {
  const windows: LoadWindow[][] = CHECKPOINT_SETTINGS.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = [...CHECKPOINT_SETTINGS.entries()];
    if (round % 2 === 1) order.reverse();
    for (const [i, setting] of order) {
      // A fresh Redis each time, so no room of an earlier window is ever rehydrated into this one.
      const redis = await startRedis({ cpus: cpus.server });
      const running: RunningProcess[] = [redis];
      try {
        const node = await startNodeProcess(
          { REDIS_URL: redis.redisUrl, NODE_ID: "ckpt-bench", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), CHECKPOINT_MS: String(setting.ms), JOURNAL: setting.journal ? "on" : "off", LOG_LEVEL: "warn" },
          { cpus: cpus.server },
        );
        running.push(node);
        const w = await loadWindow(node.url, players, seconds, locusProbe(node.adminUrl, node.child.pid!), { redis: () => cpuSeconds(redis.child.pid!) });
        windows[i]!.push(w);
        progress(`checkpoints ${setting.label}, round ${round + 1}: node CPU ${((w.server.cpuSeconds / w.bots.seconds) * 100).toFixed(1)} %, ${w.server.checkpoints?.count ?? 0} checkpoints`);
      } finally {
        await Promise.all(running.map((p) => p.stop()));
      }
    }
  }
  return { players, windows };
}
