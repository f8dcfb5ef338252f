import { describe, expect, it } from "vitest";
import { InputBacklog } from "./input-backlog.ts";

const run = (backlog: InputBacklog, queued: readonly number[]) => queued.map((q) => backlog.standing(q));

describe("InputBacklog", () => {
  it("skips one input when the queue never emptied for a whole window", () => {
    expect(run(new InputBacklog(4), [3, 2, 3, 2])).toEqual([false, false, false, true]);
  });

  it("leaves a queue that emptied once in the window alone: that is jitter", () => {
    expect(run(new InputBacklog(4), [3, 1, 3, 2, 2, 2, 2, 2])).toEqual([false, false, false, false, false, false, false, true]);
  });

  it("never skips the only input there is", () => {
    expect(run(new InputBacklog(2), [1, 1, 0, 1])).toEqual([false, false, false, false]);
  });

  it("keeps trimming, one per window, until the queue is down", () => {
    expect(run(new InputBacklog(2), [4, 4, 3, 3, 2, 2, 1, 1])).toEqual([false, true, false, true, false, true, false, false]);
  });
});
