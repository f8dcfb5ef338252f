import { Decoder, Encoder } from "@colyseus/schema";
import { Predict, type RoomClockLike } from "@colyseus/sdk";
import { describe, expect, it } from "vitest";
import { ArenaState, Player } from "../../shared/schema.ts";
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
/** What the room's input handle advertised at join: 30 ticks a second, one patch each. */
const TICKS = { tickRate: 30 };

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
    const clock = new DrawClock(room, DELAY, TICKS);
    patches(clock, t, 300, () => -50);
    for (let f = 0; f < 600; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
    expect(clock.serverNow()).toBe(t.server);
  });

  it("covers the latest patch of the last twenty seconds, not a share of them, raising the delay gradually", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
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
    const clock = new DrawClock(room, DELAY, TICKS);
    // Each arrives as the drawn instant reaches its own stamp: the interpolation had run dry for 33 ms.
    patches(clock, t, 300, () => 33);
    for (let f = 0; f < 200; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(43);
  });

  it("covers a jittery link within its first patches", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
    patches(clock, t, 5, (i) => (i === 3 ? 40 : -50));
    for (let f = 0; f < 60; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(50);
  });

  it("never adds more than its cap, and lowers the delay again when patches are on time", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
    patches(clock, t, 600, () => 1000);
    for (let f = 0; f < 300; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(150);
    patches(clock, t, 660, () => -50);
    for (let f = 300; f < 900; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBeLessThan(150);
    for (let f = 900; f < 2000; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
  });

  it("follows the room clock's round trip gradually, so that a sample never moves the drawn instant by more than a few percent of a frame", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
    clock.advance(0);
    let before = clock.smoothedRtt();
    expect(before).toBe(100);
    // One sample moves the estimate by 20 ms at once (a tenth of a 200 ms difference).
    t.rtt = 120;
    for (let f = 1; f <= 20; f++) {
      clock.advance(f * 16);
      expect(Math.abs(clock.smoothedRtt() - before)).toBeLessThanOrEqual(1.6 + 1e-9);
      before = clock.smoothedRtt();
    }
    expect(clock.smoothedRtt()).toBe(120);
  });

  it("tells how far the drawn instant ran past the newest patch, up to 100 ms, and 0 before it or without a patch", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
    t.server = t.last + DELAY + t.rtt / 2 - 5;
    expect(clock.aheadOfNewestMs()).toBe(0);
    t.server += 35;
    expect(clock.aheadOfNewestMs()).toBe(30);
    t.server += 500;
    expect(clock.aheadOfNewestMs()).toBe(100);
    t.last = 0;
    expect(clock.aheadOfNewestMs()).toBe(0);
  });

  it("forgets what patches needed once the socket is back after a drop", () => {
    const { t, room } = fakeRoom();
    const clock = new DrawClock(room, DELAY, TICKS);
    patches(clock, t, 300, () => 1000);
    clock.forget();
    patches(clock, t, 30, () => -50);
    for (let f = 0; f < 300; f++) clock.advance(f * 16);
    expect(clock.extraMs).toBe(0);
  });

  it("resets the room clock when the socket is back, and takes its first round trip after that as it is", () => {
    const { t, room } = fakeRoom();
    let resets = 0;
    const clock = new DrawClock({ clock: { ...room.clock, reset: () => void resets++ } }, DELAY, TICKS);
    clock.advance(0);
    expect(clock.smoothedRtt()).toBe(100);
    clock.forget();
    expect(resets).toBe(1);
    // A reset clock has no round trip until it measures one; the first it measures is used at once.
    t.rtt = 0;
    clock.advance(16);
    t.rtt = 180;
    clock.advance(32);
    expect(clock.smoothedRtt()).toBe(180);
  });
});

describe("DrawClock under Predict's interpolation", () => {
  /**
   * A player moving 10 units a tick, as a Locus room sends it: one patch per tick stamped 33 or 34 ms
   * after the last, except one tick that ran early and was stamped on the room clock `shortMs` after
   * the one before (TickClock under CPU contention). The watcher draws at 60 frames a second.
   * Returns the drawn displacement of each frame, from when the drawn instant has passed that stamp.
   */
  function drawAfterShortStamp(ticks: { readonly tickRate?: number }, shortMs: number): number[] {
    const serverState = new ArenaState();
    const mover = new Player();
    serverState.players.set("mover", mover);
    const encoder = new Encoder(serverState);
    const decoder = new Decoder(new ArenaState());
    const { t, room } = fakeRoom();
    t.rtt = 0;
    // The full state's stamp, a tick before the first patch (Predict stamps with the local clock while it is 0).
    t.last = 967;
    decoder.decode(encoder.encodeAll());
    encoder.discardChanges();
    const clock = new DrawClock(room, DELAY, ticks);
    const predict = Predict.get(decoder, { mode: "lerp", delay: DELAY, clock });
    predict.attachAll("players", { mode: "lerp", fields: ["x", "y"] });
    const seen = decoder.state.players.get("mover")!;

    const stamps: number[] = [];
    for (let at = 1000, i = 0; i < 120; i++) {
      stamps.push(Math.floor(at));
      at += i === 40 ? shortMs : 1000 / 30;
    }
    const shortAt = stamps[41]!;
    const moved: number[] = [];
    let next = 0;
    let lastX = Number.NaN;
    for (let now = 1000; now < stamps[stamps.length - 1]!; now += 1000 / 60) {
      while (next < stamps.length && stamps[next]! <= now) {
        mover.x += 10;
        t.last = stamps[next++]!;
        decoder.decode(encoder.encode());
        encoder.discardChanges();
        clock.patched();
      }
      t.server = now;
      clock.advance(now);
      predict.tick(now);
      const x = predict.value(seen, "x");
      if (now - DELAY > shortAt + 1000 / 30) moved.push(x - lastX);
      lastX = x;
    }
    return moved;
  }

  /** Frames drawn at under a quarter of the true speed, or over 1.75 times it (the feel benchmark's freezes and jumps). */
  function uneven(moved: number[]): number {
    const perFrame = 10 / 2;
    return moved.filter((px) => px < 0.25 * perFrame || px > 1.75 * perFrame).length;
  }

  it("draws a moving player evenly again after a stamp that came a few milliseconds after the last", () => {
    const moved = drawAfterShortStamp(TICKS, 5);
    expect(moved.length).toBeGreaterThan(100);
    expect(uneven(moved)).toBe(0);
  });

  it("needs the cadence: without it Predict draws the same stream in steps for as long as the player moves", () => {
    const moved = drawAfterShortStamp({}, 5);
    expect(uneven(moved)).toBeGreaterThan(moved.length / 2);
  });
});
