/**
 * Failures on the paths that make a room outlive its node: each one would otherwise pass
 * unnoticed until the crash or drain that needed it. Every failure is counted
 * (`locus_recovery_failures_total{kind}`); the first of a run is logged with its `event`, and the
 * next after the path worked again, so an outage is one line, not one per room per second.
 */
import type { Logger } from "pino";

export type RecoveryFailureKind = "checkpoint_write" | "journal_write" | "subscribe" | "heartbeat" | "ownership_publish";

const REPORTS: Record<RecoveryFailureKind, { readonly event: string; readonly message: string }> = {
  checkpoint_write: { event: "checkpoint_write_failed", message: "a checkpoint did not reach Redis; a crash now would rebuild the room from an older one" },
  journal_write: { event: "journal_write_failed", message: "journal records did not reach Redis; a crash now would rebuild rooms from their checkpoints, without the ticks since" },
  subscribe: { event: "subscribe_failed", message: "could not subscribe to the cluster's channels; hand-offs, adoptions and rebuild requests will go unheard" },
  heartbeat: { event: "heartbeat_failed", message: "could not publish this node's record; peers may take it for dead and take its rooms" },
  ownership_publish: { event: "ownership_publish_failed", message: "could not announce a room's new owner; gateways find it by their slower poll" },
};

export class RecoveryFailures {
  private readonly log: Logger;
  private readonly count: (kind: RecoveryFailureKind) => void;
  private readonly failing = new Set<RecoveryFailureKind>();

  /** `count` feeds `locus_recovery_failures_total{kind}`. */
  constructor(log: Logger, count: (kind: RecoveryFailureKind) => void) {
    this.log = log;
    this.count = count;
  }

  report(kind: RecoveryFailureKind, err: unknown, fields: Readonly<Record<string, unknown>> = {}): void {
    this.count(kind);
    if (this.failing.has(kind)) return;
    this.failing.add(kind);
    const { event, message } = REPORTS[kind];
    this.log.warn({ event, ...fields, err }, message);
  }

  /** The path worked: its next failure is logged again. */
  recovered(kind: RecoveryFailureKind): void {
    this.failing.delete(kind);
  }
}
