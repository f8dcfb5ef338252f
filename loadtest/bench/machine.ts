/**
 * The machine a benchmark ran on, and how its cores are split: servers on the first core(s), the
 * benchmark's own bots on the last, so that neither side's work passes for the other's.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { createRequire } from "node:module";

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly colyseus: string;
  /** taskset lists: where servers run, where the bots run; undefined when there is one core. */
  readonly serverCpus: string | undefined;
  readonly botCpus: string | undefined;
  /**
   * A core with no server on it, for a relay measured on a core of its own: the last core, which
   * the bots share when there are fewer than three.
   */
  readonly relayCpus: string | undefined;
  /** Every core: for the cluster benchmarks, whose several processes would not fit on one. */
  readonly allCpus: string | undefined;
}

export function describeMachine(): Machine {
  const cores = cpus().length;
  const split = cores >= 2 && spawnSync("taskset", ["-V"]).status === 0;
  const require = createRequire(import.meta.url);
  const colyseus = (JSON.parse(readFileSync(require.resolve("@colyseus/core/package.json"), "utf8")) as { version: string }).version;
  return {
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    colyseus,
    serverCpus: split ? (cores >= 4 ? `0-${Math.floor(cores / 2) - 1}` : "0") : undefined,
    botCpus: split ? (cores >= 4 ? `${Math.floor(cores / 2)}-${cores - 1}` : String(cores - 1)) : undefined,
    relayCpus: split ? String(cores - 1) : undefined,
    allCpus: split ? `0-${cores - 1}` : undefined,
  };
}

/** Moves this process, every thread of it, onto the bots' cores; its children inherit that unless pinned elsewhere. */
export function pinSelf(machine: Machine): void {
  if (machine.botCpus === undefined) return;
  const r = spawnSync("taskset", ["-a", "-p", "-c", machine.botCpus, String(process.pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset could not pin the benchmark to CPUs ${machine.botCpus}: ${r.stderr.trim()}`);
}

export function machineLine(m: Machine): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.kernel}; Node ${m.node}; Colyseus ${m.colyseus}`;
}
