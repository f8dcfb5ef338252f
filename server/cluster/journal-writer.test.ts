import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { HostedRoom } from "../durable/room-host.ts";
import type { NodeMetrics } from "../metrics.ts";
import { JournalWriter } from "./journal-writer.ts";
import type { OwnedRoom } from "./owned-room.ts";
import type { JournalAppend, Ownership } from "./ownership.ts";
import type { RecoveryFailures } from "./recovery-failures.ts";

/** A writer whose timer never fires (never started): only what it sends by itself reaches `sent`. */
function writerOf() {
  const sent: JournalAppend[][] = [];
  const ownership = {
    appendJournals: async (batches: JournalAppend[]) => {
      sent.push(batches);
      return batches.map(() => true);
    },
  } as unknown as Ownership;
  const counter = { inc() {}, observe() {} };
  const metrics = { journalWrites: counter, journalBatches: counter, journalBytes: counter, journalWriteSeconds: counter, journalRefused: counter } as unknown as NodeMetrics;
  const failures = { recovered() {}, report() {} } as unknown as RecoveryFailures;
  const writer = new JournalWriter({
    ownership,
    flushMs: 1000 / 30,
    checkpointMs: 1000,
    metrics,
    log: pino({ level: "silent" }),
    failures,
    ownedEntry: () => ({ lease: { roomId: "r", epoch: 1 } }) as unknown as OwnedRoom,
  });
  return { writer, sent };
}

describe("JournalWriter", () => {
  it("sends a room's earlier ticks before a later tick's patch goes out, when the room runs ahead of the write's timer", () => {
    const { writer, sent } = writerOf();
    const room = {} as HostedRoom;
    writer.record(room, "j", 1, 7, ["seat"]);
    writer.record(room, "j", 2, 7, ["t", 1]);
    writer.patching(room, 7);
    expect(sent).toHaveLength(0);
    writer.record(room, "j", 3, 8, ["t", 2]);
    expect(sent).toHaveLength(0);
    writer.patching(room, 8);
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]!.batch).toContain('["seat"],["t",1],["t",2]');
    writer.record(room, "j", 4, 9, ["t", 3]);
    writer.patching(room, 9);
    expect(sent).toHaveLength(1);
    writer.flush();
    expect(sent[1]![0]!.batch).toContain('["t",3]');
  });

  it("sends a catch-up's ticks in one call before the one patch that carries them", () => {
    const { writer, sent } = writerOf();
    const room = {} as HostedRoom;
    for (let tick = 7; tick <= 9; tick++) writer.record(room, "j", tick - 6, tick, ["t", tick]);
    expect(sent).toHaveLength(0);
    writer.patching(room, 9);
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]!.batch).toContain('["t",7],["t",8],["t",9]');
  });

  it("leaves a room's records of one tick to the timer, and another room's tick does not send them", () => {
    const { writer, sent } = writerOf();
    writer.record({} as HostedRoom, "a", 1, 7, ["t", 1]);
    writer.record({} as HostedRoom, "b", 1, 3, ["t", 1]);
    writer.record({} as HostedRoom, "c", 1, 9, ["t", 1]);
    writer.patching({} as HostedRoom, 10);
    expect(sent).toHaveLength(0);
  });
});
