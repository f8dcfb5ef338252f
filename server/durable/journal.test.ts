import { describe, expect, it } from "vitest";
import { encodeBatch, journalTail } from "./journal.ts";

const rec = (n: number) => JSON.stringify(["r", n]);
const batch = (first: number, last: number, tick = last * 10) => encodeBatch(first, last, tick, Array.from({ length: last - first + 1 }, (_, i) => rec(first + i)).join(","));

describe("journal tail", () => {
  it("takes the records after the checkpoint's, across batches, skipping those it holds", () => {
    const tail = journalTail([batch(1, 3), batch(4, 6), batch(7, 7)], { id: "abcdefgh", seq: 4 });
    expect(tail.records).toEqual([["r", 5], ["r", 6], ["r", 7]]);
    expect(tail.lastSeq).toBe(7);
    expect(tail.lastTick).toBe(70);
    expect(tail.refused).toBeUndefined();
  });

  it("stops at a gap, keeping the records before it and the last tick stored", () => {
    const tail = journalTail([batch(1, 2), batch(5, 6)], { id: "abcdefgh", seq: 0 });
    expect(tail.records).toEqual([["r", 1], ["r", 2]]);
    expect(tail.refused).toBe("records 3 to 4 are missing");
    expect(tail.lastTick).toBe(60);
  });

  it("refuses batches recorded on another Node version: the room resumes from the checkpoint", () => {
    const tail = journalTail([batch(1, 2)], { id: "abcdefgh", seq: 0 }, "v0.0.1");
    expect(tail.records).toEqual([]);
    expect(tail.refused).toBe(`recorded on Node ${process.version}, this node runs v0.0.1`);
    expect(tail.lastTick).toBe(20);
  });

  it("stops at a batch that is not one", () => {
    for (const junk of ["{", "[1,2,3]", JSON.stringify([1, 3, 0, process.version, [1]])]) {
      const tail = journalTail([batch(1, 1), junk, batch(2, 2)], { id: "abcdefgh", seq: 0 });
      expect(tail.records).toEqual([["r", 1]]);
      expect(tail.refused).toBeDefined();
    }
  });
});
