import { describe, expect, it } from "vitest";
import { summarizeGcTrace } from "./gc-trace.ts";

const TRACE_GC = [
  "[9285:0x3d197000]    27536 ms: Scavenge 91.3 (177.6) -> 39.9 (177.6) MB, pooled: 5 MB, 9.95 / 0.01 ms  (average mu = 0.994, current mu = 0.991) task; ",
  "[9285:0x3d197000]    34906 ms: Mark-Compact 103.3 (187.9) -> 28.3 (183.7) MB, pooled: 1 MB, 21.86 / 0.00 ms  (+ 0.9 ms in 0 steps since start of marking) finalize incremental marking via stack guard",
  "a line of the server's own",
].join("\n");

const TRACE_GC_NVP = [
  "[8673:0x41080000]    19953 ms: pause=11.2 mutator=951.6 gc=s reduce_memory=0 scavenge=10.96 total_size_before=93560920 total_size_after=41031104 holes_size_before=4961024 allocated=55143776 promoted=687080 new_space_survived=678232",
  "[8673:0x41080000]    20876 ms: pause=15.0 mutator=911.6 gc=mc reduce_memory=0 evacuate=4.3 total_size_before=90683704 total_size_after=29609144 holes_size_before=23216",
  "[8673:0x41080000]    21876 ms: pause=4.0 mutator=911.6 gc=s reduce_memory=0 total_size_before=60000000 total_size_after=30000000",
].join("\n");

describe("summarizeGcTrace", () => {
  it("reads --trace-gc lines: scavenges apart from full collections, pauses and megabytes freed", () => {
    const s = summarizeGcTrace(TRACE_GC);
    expect(s).toMatchObject({ scavenges: 1, scavengeMs: 9.95, scavengeMaxMs: 9.95, fullGcs: 1, fullGcMs: 21.86, fullGcMaxMs: 21.86 });
    expect(s.scavengedMb).toBeCloseTo(51.4);
  });

  it("reads --trace-gc-nvp lines the same way", () => {
    const s = summarizeGcTrace(TRACE_GC_NVP);
    expect(s).toMatchObject({ scavenges: 2, scavengeMs: 15.2, scavengeMaxMs: 11.2, fullGcs: 1, fullGcMs: 15, fullGcMaxMs: 15 });
    expect(s.scavengedMb).toBeCloseTo((93560920 - 41031104 + 30000000) / 2 ** 20);
  });
});
