/**
 * Garbage collections from a Node process's `--trace-gc` output: one line per collection, such as
 * `[1234:0x5b...]    81234 ms: Scavenge 40.1 (52.3) -> 25.0 (52.3) MB, 1.93 / 0.00 ms  (average mu = ...) allocation failure;`
 * where the first figure after "MB," is the pause on the main thread.
 */

export interface GcSummary {
  readonly scavenges: number;
  readonly scavengeMs: number;
  readonly scavengeMaxMs: number;
  /** Mark-compacts and other full collections, with their main-thread pause. */
  readonly fullGcs: number;
  readonly fullGcMs: number;
  /** Megabytes freed by scavenges: about the young generation's allocation. */
  readonly scavengedMb: number;
}

const LINE = /ms: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-sweep|Mark-Compact \(reduce\))[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;

export function summarizeGcTrace(output: string): GcSummary {
  let scavenges = 0;
  let scavengeMs = 0;
  let scavengeMaxMs = 0;
  let fullGcs = 0;
  let fullGcMs = 0;
  let scavengedMb = 0;
  for (const line of output.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const pause = Number(m[6]);
    if (m[1] === "Scavenge" || m[1] === "Minor Mark-Compact") {
      scavenges++;
      scavengeMs += pause;
      scavengeMaxMs = Math.max(scavengeMaxMs, pause);
      scavengedMb += Number(m[2]) - Number(m[4]);
    } else {
      fullGcs++;
      fullGcMs += pause;
    }
  }
  return { scavenges, scavengeMs, scavengeMaxMs, fullGcs, fullGcMs, scavengedMb };
}
