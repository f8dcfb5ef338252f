/**
 * Garbage collections from a Node process's `--trace-gc` output: one line per collection, such as
 * `[1234:0x5b...]    81234 ms: Scavenge 40.1 (52.3) -> 25.0 (52.3) MB, 1.93 / 0.00 ms  (average mu = ...) allocation failure;`
 * where the first figure after "MB," is the pause on the main thread. With `--trace-gc-nvp` V8
 * prints `name=value` lines instead (`pause=1.9 ... gc=s ... total_size_before=… total_size_after=…`,
 * with what each scavenge copied and promoted), read the same way, so a window can be traced in
 * that detail and still summarised.
 */

export interface GcSummary {
  readonly scavenges: number;
  readonly scavengeMs: number;
  readonly scavengeMaxMs: number;
  /** Mark-compacts and other full collections, with their main-thread pause. */
  readonly fullGcs: number;
  readonly fullGcMs: number;
  readonly fullGcMaxMs: number;
  /** Megabytes freed by scavenges: about the young generation's allocation. */
  readonly scavengedMb: number;
}

const LINE = /ms: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-sweep|Mark-Compact \(reduce\))[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;
const NVP_LINE = /ms: pause=([\d.]+) .*?\bgc=(\w+) .*?\btotal_size_before=(\d+) total_size_after=(\d+)/;

/** One collection: whether it was a young-generation one, its main-thread pause, and the megabytes it freed. */
function collection(line: string): { young: boolean; pauseMs: number; freedMb: number } | undefined {
  const m = LINE.exec(line);
  if (m) return { young: m[1] === "Scavenge" || m[1] === "Minor Mark-Compact", pauseMs: Number(m[6]), freedMb: Number(m[2]) - Number(m[4]) };
  const n = NVP_LINE.exec(line);
  // gc=s is a scavenge, gc=mmc a minor mark-compact, gc=mc a full one.
  if (n) return { young: n[2] === "s" || n[2] === "mmc", pauseMs: Number(n[1]), freedMb: (Number(n[3]) - Number(n[4])) / 2 ** 20 };
  return undefined;
}

export function summarizeGcTrace(output: string): GcSummary {
  let scavenges = 0;
  let scavengeMs = 0;
  let scavengeMaxMs = 0;
  let fullGcs = 0;
  let fullGcMs = 0;
  let fullGcMaxMs = 0;
  let scavengedMb = 0;
  for (const line of output.split("\n")) {
    const c = collection(line);
    if (!c) continue;
    const pause = c.pauseMs;
    if (c.young) {
      scavenges++;
      scavengeMs += pause;
      scavengeMaxMs = Math.max(scavengeMaxMs, pause);
      scavengedMb += c.freedMb;
    } else {
      fullGcs++;
      fullGcMs += pause;
      fullGcMaxMs = Math.max(fullGcMaxMs, pause);
    }
  }
  return { scavenges, scavengeMs, scavengeMaxMs, fullGcs, fullGcMs, fullGcMaxMs, scavengedMb };
}
