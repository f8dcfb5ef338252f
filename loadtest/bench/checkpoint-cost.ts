/**
 * What checkpoints cost: one cluster node under the same load with checkpoints nearly off
 * (CHECKPOINT_MS at its maximum: each room writes one a minute), at the default 1 s,
 * and ten times as often, alternated (the order reversed every other round) so drift in the
 * machine hits all alike, reported as a ratio from one run. The default rate with the input journal
 * on is a fourth setting: the journal's cost is its difference from the default. At the default rate the cost hides in
 * the noise between two fresh nodes; the tenfold rate makes it big enough to divide per checkpoint.
 * So does the journal's: one more window with the journal on is CPU-profiled, and the profile says
 * what share of that one node's time went to the journal and to checkpoints.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNodeProcess, startRedis, type RunningProcess } from "../processes.ts";
import { cpuSeconds } from "./process-cpu.ts";
import { loadWindow, type LoadWindow } from "./load-window.ts";
import { locusProbe } from "./server-probe.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";
import { type FrameMatch, profileShares, readCpuProfile } from "./cpu-profile.ts";

export const CHECKPOINT_SETTINGS = [
  { label: "nearly off (CHECKPOINT_MS 60000, one a minute per room)", ms: 60_000, journal: false },
  { label: "on (CHECKPOINT_MS 1000, the default)", ms: 1000, journal: false },
  { label: "ten times as often (CHECKPOINT_MS 100)", ms: 100, journal: false },
  { label: "on, with the input journal (CHECKPOINT_MS 1000, JOURNAL=on)", ms: 1000, journal: true },
] as const;

/** What the profiled window attributes: the functions each cost starts in, their callees included. */
const PROFILED: Record<"journal" | "checkpoints", readonly FrameMatch[]> = {
  journal: [
    { file: "journal-writer.ts" },
    { file: "arena-journal.ts" },
    { file: "durable-room.ts", fn: "record" },
    { file: "cluster-host.ts", fn: "record" },
    { file: "ownership.ts", fn: "appendJournals" },
  ],
  checkpoints: [{ file: "checkpoint-writer.ts" }],
};

export interface ProfiledWindow {
  /** The node's CPU over the window, in percent of one core (profiling included). */
  readonly cpuPercent: number;
  /** Fractions of the node's busy time. */
  readonly shares: Record<keyof typeof PROFILED, number>;
}

export interface CheckpointCostRun {
  readonly players: number;
  /** Per setting, in CHECKPOINT_SETTINGS order: one window per round. */
  readonly windows: LoadWindow[][];
  /** The default rate with the journal on, CPU-profiled; undefined when the profile could not be read. */
  readonly profiled: ProfiledWindow | undefined;
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
  const profiled = await profiledWindow(players, seconds, cpus, progress);
  return { players, windows, profiled };
}

/** How long a node given SIGTERM may take to drain its rooms and exit, writing its profile. */
const EXIT_WAIT_MS = 30_000;

async function profiledWindow(players: number, seconds: number, cpus: { server: string | undefined }, progress: (line: string) => void): Promise<ProfiledWindow | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "locus-cpu-prof-"));
  const redis = await startRedis({ cpus: cpus.server });
  try {
    const node = await startNodeProcess(
      { REDIS_URL: redis.redisUrl, NODE_ID: "ckpt-profiled", ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), CHECKPOINT_MS: "1000", JOURNAL: "on", LOG_LEVEL: "warn", NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` },
      { cpus: cpus.server },
    );
    let w: LoadWindow;
    let measuredUntil: number;
    try {
      w = await loadWindow(node.url, players, seconds, locusProbe(node.adminUrl, node.child.pid!));
      // loadWindow waits a second after the window for the rooms to close.
      measuredUntil = Date.now() - 1000;
      node.child.kill("SIGTERM");
      const exited = await Promise.race([node.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), EXIT_WAIT_MS))]);
      if (!exited) {
        progress("checkpoints, profiled window: the node did not exit on SIGTERM; no profile");
        return undefined;
      }
    } finally {
      await node.stop();
    }
    const sinceWindowEndUs = (Date.now() - measuredUntil) * 1000;
    const { shares } = profileShares(readCpuProfile(dir), PROFILED, sinceWindowEndUs + w.bots.seconds * 1e6, sinceWindowEndUs);
    const cpuPercent = (w.server.cpuSeconds / w.bots.seconds) * 100;
    progress(`checkpoints, profiled window (journal on): node CPU ${cpuPercent.toFixed(1)} %, journal ${(shares.journal! * 100).toFixed(1)} % of it, checkpoints ${(shares.checkpoints! * 100).toFixed(1)} %`);
    return { cpuPercent, shares: shares as ProfiledWindow["shares"] };
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
