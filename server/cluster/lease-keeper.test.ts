import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HostedRoom } from "../durable/room-host.ts";
import type { NodeMetrics } from "../metrics.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { LeaseLapses, MAX_PAUSE_MS } from "./lease-lapse.ts";
import { OwnedRoom } from "./owned-room.ts";
import type { Ownership, Renewal } from "./ownership.ts";

const LEASE_MS = 2000;

/** A room that records what the host asked of it. */
function fakeRoom() {
  const calls: string[] = [];
  const room = {
    roomId: "r1",
    playerCount: 2,
    pause: () => void calls.push("pause"),
    unpause: () => void calls.push("unpause"),
    fence: () => void calls.push("fence"),
  } as unknown as HostedRoom;
  return { room, calls };
}

/** A keeper whose every renewal answers what `answer` says now. */
function keeperOf(entry: OwnedRoom, answer: { now: Renewal | "throw" }) {
  const ownership = {
    leaseMs: LEASE_MS,
    renew: async () => {
      if (answer.now === "throw") throw new Error("Redis away");
      return [answer.now];
    },
  } as unknown as Ownership;
  const counter = { inc() {} };
  const metrics = { fencedWrites: counter, leaseRenewalFailures: counter } as unknown as NodeMetrics;
  const keeper = new LeaseKeeper({ ownership, metrics, lapses: new LeaseLapses(pino({ level: "silent" })), rooms: () => [entry] });
  keeper.track(entry);
  keeper.start();
  return keeper;
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe("a lease that cannot be proven", () => {
  it("pauses the room at the local deadline, and resumes it when a renewal under its epoch is granted", async () => {
    const { room, calls } = fakeRoom();
    const entry = new OwnedRoom(room, { roomId: "r1", epoch: 3 });
    const answer: { now: Renewal | "throw" } = { now: "throw" };
    const keeper = keeperOf(entry, answer);
    await vi.advanceTimersByTimeAsync(LEASE_MS - 500);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(entry.paused).toBe(true);
    expect(calls).toEqual(["pause"]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toEqual(["pause"]);
    answer.now = "renewed";
    await vi.advanceTimersByTimeAsync(LEASE_MS / 5);
    expect(entry.paused).toBe(false);
    expect(entry.fenced).toBe(false);
    expect(calls).toEqual(["pause", "unpause"]);
    keeper.stop();
  });

  it("fences a paused room once its renewal finds it claimed elsewhere", async () => {
    const { room, calls } = fakeRoom();
    const entry = new OwnedRoom(room, { roomId: "r1", epoch: 3 });
    const answer: { now: Renewal | "throw" } = { now: "unreached" };
    const keeper = keeperOf(entry, answer);
    await vi.advanceTimersByTimeAsync(LEASE_MS * 2);
    expect(calls).toEqual(["pause"]);
    answer.now = "fenced";
    await vi.advanceTimersByTimeAsync(LEASE_MS / 5);
    expect(entry.fenced).toBe(true);
    expect(calls).toEqual(["pause", "fence"]);
    keeper.stop();
  });

  it("fences a room paused longer than MAX_PAUSE_MS, which a renewal could no longer tell from an ended one", async () => {
    const { room, calls } = fakeRoom();
    const entry = new OwnedRoom(room, { roomId: "r1", epoch: 3 });
    const keeper = keeperOf(entry, { now: "throw" });
    await vi.advanceTimersByTimeAsync(LEASE_MS + MAX_PAUSE_MS - 1000);
    expect(calls).toEqual(["pause"]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toEqual(["pause", "fence"]);
    keeper.stop();
  });
});
