/**
 * Redis content is untrusted input: a node record, an owner value or a checkpoint may be junk
 * (a bug, an old version, a hand edit, a restored backup). Readers skip a bad one and report it
 * here, which logs it once per key and content, however often scans meet it, and counts it.
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { LogOnce } from "../log-once.ts";

export type BadRecordKind = "node" | "owner";

export interface BadRecordSink {
  /** `key` holds `content` (as much as was read; undefined when nothing could be) that is not a valid record of `kind`. */
  report(kind: BadRecordKind, key: string, content: string | undefined, reason: string): void;
}

/** How much of a bad value a log line shows: enough to recognise it, never a whole blob. */
const PREVIEW_CHARS = 80;

export class BadRecordLog implements BadRecordSink {
  private readonly log: Logger;
  private readonly count: (kind: BadRecordKind) => void;
  private readonly once = new LogOnce();

  /** `count` feeds `locus_bad_redis_records_total{kind}` where the process has metrics. */
  constructor(log: Logger, count: (kind: BadRecordKind) => void) {
    this.log = log;
    this.count = count;
  }

  report(kind: BadRecordKind, key: string, content: string | undefined, reason: string): void {
    const digest = createHash("sha256").update(content ?? "").digest("base64url");
    if (!this.once.first(`${kind} ${key} ${digest}`)) return;
    this.count(kind);
    this.log.warn(
      { event: "bad_redis_record", kind, key, reason, preview: content?.slice(0, PREVIEW_CHARS) },
      `skipped a bad ${kind} record at ${key}: ${reason}`,
    );
  }
}
