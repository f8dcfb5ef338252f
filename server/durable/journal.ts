/**
 * The input journal's format: what a periodic room's step consumed since its last checkpoint, so
 * that a new owner replays it on the checkpoint and resumes where the dead node stopped, not where
 * it last checkpointed. The layer owns the envelope; each record is the game's own JSON.
 *
 * A room's records are numbered from 1 (`seq`) for as long as the room lives, across owners: a
 * checkpoint stores the number of the last record its state holds (`JournalPosition.seq`), and a
 * replay takes the records after it. Records go to Redis in batches, one per room per node write:
 * `[firstSeq, lastSeq, tick, nodeVersion, records]`, `tick` being the room's progress after the
 * last of them. The journal lives under an id drawn when the room is created (`JournalPosition.id`),
 * so what an ended room of the same id left behind is never read.
 *
 * Replay needs the step to compute the same bits it computed on the node that recorded it: the
 * same Node version. A batch recorded on another one refuses the replay (rolling deploys), and the
 * room resumes from its checkpoint as it would without a journal.
 */
import { randomBytes } from "node:crypto";

export interface JournalPosition {
  /** The journal's id, drawn when the room was created. */
  readonly id: string;
  /** The last record the checkpoint's state holds (0: none yet). */
  readonly seq: number;
}

/** Records in a batch past this are not a room's per-tick records. */
const MAX_BATCH_RECORDS = 4096;
const JOURNAL_ID = /^[A-Za-z0-9_-]{8,32}$/;

export function newJournalId(): string {
  return randomBytes(9).toString("base64url");
}

/** One batch as stored; `records` are already JSON text, joined by commas. */
export function encodeBatch(first: number, last: number, tick: number, records: string): string {
  return `[${first},${last},${tick},${JSON.stringify(process.version)},[${records}]]`;
}

/** A journal position read from a checkpoint, or undefined when it holds none or a bad one. */
export function parseJournalPosition(data: unknown): JournalPosition | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { id, seq } = data as Record<string, unknown>;
  if (typeof id !== "string" || !JOURNAL_ID.test(id) || !(typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0)) return undefined;
  return { id, seq };
}

/** What a new owner can replay on the checkpoint. */
export interface JournalTail {
  /** The records after the checkpoint's, in order, as the game wrote them (untrusted). */
  readonly records: readonly unknown[];
  /** The seq of the last of them. */
  readonly lastSeq: number;
  /** The room's progress after the last record the dead node stored (whether or not it is replayed). */
  readonly lastTick: number;
  /** Why the records stop short of the last stored one, or none were taken. */
  readonly refused?: string;
}

/**
 * The records after `from.seq`, from the batches read back in the order they were stored. Stops
 * at a gap (a batch lost or trimmed away), a batch that is not one, or one recorded on another
 * Node version (`refused` then says which).
 */
export function journalTail(batches: readonly string[], from: JournalPosition, nodeVersion = process.version): JournalTail {
  const records: unknown[] = [];
  let lastSeq = from.seq;
  let lastTick = -1;
  let refused: string | undefined;
  for (const text of batches) {
    let batch: unknown;
    try {
      batch = JSON.parse(text);
    } catch {
      refused ??= "a journal batch is not JSON";
      break;
    }
    if (!isBatch(batch)) {
      refused ??= "a journal batch is not [first, last, tick, node, records]";
      break;
    }
    const [first, last, tick, node, batchRecords] = batch;
    if (last <= lastSeq && refused === undefined) continue;
    lastTick = Math.max(lastTick, tick);
    if (refused !== undefined) continue;
    if (node !== nodeVersion) {
      refused = `recorded on Node ${node.slice(0, 20)}, this node runs ${nodeVersion}`;
      continue;
    }
    if (first > lastSeq + 1) {
      refused = `records ${lastSeq + 1} to ${first - 1} are missing`;
      continue;
    }
    records.push(...batchRecords.slice(lastSeq + 1 - first));
    lastSeq = last;
  }
  return refused === undefined ? { records, lastSeq, lastTick } : { records, lastSeq, lastTick, refused };
}

function isBatch(v: unknown): v is [number, number, number, string, unknown[]] {
  if (!Array.isArray(v) || v.length !== 5) return false;
  const [first, last, tick, node, records] = v as unknown[];
  const count = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  return (
    count(first) && count(last) && count(tick) && first >= 1 && typeof node === "string" &&
    Array.isArray(records) && records.length <= MAX_BATCH_RECORDS && records.length === last - first + 1
  );
}
