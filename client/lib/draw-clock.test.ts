import type { RoomClockLike } from "@colyseus/sdk";
import { describe, expect, it } from "vitest";
import { DrawClock } from "./draw-clock.ts";

/** A room clock that reads whatever the test sets. */
function fakeRoom() {
  const t = { server: 1000, last: 1000, rtt: 100 };
  const clock: RoomClockLike = {
    now: () => 0,
    serverNow: () => t.server,
    renderNow: () => t.server,
    rtt: () => t.rtt,
    smoothedRtt: () => t.rtt,
    jitter: () => 0,
    lastServerTime: () => t.last,
    sample: () => undefined,
  };
  return { t, room: { clock } };
}

const DELAY = 100;

/** Feeds `n` patches 33 ms apart, each arriving when the instant drawn without extra delay is `lateBy` ms past the patch before it. */
function patches(clock: DrawClock, t: { server: number; last: number; rtt: number }, n: number, lateBy: (i: number) => number) {
  for (let i = 0; i < n; i++) {
    const held = t.last;
    t.last = held + 33;
    t.server = held + lateBy(i) + DELAY + t.rtt / 2;
    clock.patched();
  }
}

describe("DrawClock", () => {
  it("adds no delay while patches come in time", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    patches(clock, t, 300, () => -50);
    for (let f = 0; f < 600; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
    expect(clock.serverNow()).toBe(t.server);
  });

  it("covers the latest patch of the last twenty seconds, not a share of them, raising the delay gradually", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    // One patch in three hundred comes 60 ms late, the next ones in a burst behind it.
    patches(clock, t, 300, (i) => (i === 100 ? 60 : -50));
    clock.advance(0);
    clock.advance(16);
    expect(clock.extraMs).toBeGreaterThan(0);
    expect(clock.extraMs).toBeLessThanOrEqual(16 * 0.1 + 1e-9);
    for (let f = 2; f < 200; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(70);
    expect(clock.serverNow()).toBe(t.server - 70);
  });

  it("counts a patch as late once the instant drawn has passed the patch before it, though not yet its own", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    // Each arrives as the drawn instant reaches its own stamp: the interpolation had run dry for 33 ms.
    patches(clock, t, 300, () => 33);
    for (let f = 0; f < 200; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(43);
  });

  it("covers a jittery link within its first patches", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    patches(clock, t, 5, (i) => (i === 3 ? 40 : -50));
    for (let f = 0; f < 60; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(50);
  });

  it("never adds more than its cap, and lowers the delay again when patches are on time", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    patches(clock, t, 600, () => 1000);
    for (let f = 0; f < 300; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(150);
    patches(clock, t, 660, () => -50);
    for (let f = 300; f < 900; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBeLessThan(150);
    for (let f = 900; f < 2000; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
  });

  it("forgets what patches needed once the socket is back after a drop", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY);
    patches(clock, t, 300, () => 1000);
    clock.forget();
    patches(clock, t, 30, () => -50);
    for (let f = 0; f < 300; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
  });
});
