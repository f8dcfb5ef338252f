import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { type RecoveryFailureKind, RecoveryFailures } from "./recovery-failures.ts";

describe("RecoveryFailures", () => {
  it("counts every failure, logs the first of each run with its event, and the first again after the path worked", () => {
    const lines: Record<string, unknown>[] = [];
    const counted: RecoveryFailureKind[] = [];
    const log = { warn: (fields: Record<string, unknown>) => void lines.push(fields) } as unknown as Logger;
    const failures = new RecoveryFailures(log, (kind) => counted.push(kind));
    const err = new Error("Connection is closed.");

    failures.report("checkpoint_write", err, { room: "r1" });
    failures.report("checkpoint_write", err, { room: "r2" });
    failures.report("heartbeat", err);
    failures.recovered("checkpoint_write");
    failures.report("checkpoint_write", err, { room: "r3" });

    expect(counted).toEqual(["checkpoint_write", "checkpoint_write", "heartbeat", "checkpoint_write"]);
    expect(lines.map((l) => [l.event, l.room])).toEqual([
      ["checkpoint_write_failed", "r1"],
      ["heartbeat_failed", undefined],
      ["checkpoint_write_failed", "r3"],
    ]);
    expect(lines[0]!.err).toBe(err);
  });
});
