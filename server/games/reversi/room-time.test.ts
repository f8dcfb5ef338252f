import { afterEach, describe, expect, it, vi } from "vitest";
import { RoomTime } from "./room-time.ts";

describe("room time", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs only between run() and stand(), from where it was made to stand", () => {
    vi.useFakeTimers();
    const time = new RoomTime(500);
    vi.advanceTimersByTime(200);
    expect(time.now()).toBe(500);
    time.run();
    vi.advanceTimersByTime(300);
    time.run();
    expect(time.now()).toBe(800);
    time.stand();
    vi.advanceTimersByTime(10_000);
    expect(time.now()).toBe(800);
    time.run();
    vi.advanceTimersByTime(50);
    expect(time.now()).toBe(850);
  });
});
