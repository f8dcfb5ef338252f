import { describe, expect, it } from "vitest";
import { ARENA_HEIGHT, ARENA_WIDTH, MAX_SPEED, OBSTACLES, PLAYER_RADIUS } from "./constants.ts";
import { type Body, clampAxis, isClear, separatePlayers, stepPlayer } from "./physics.ts";

const DT = 1 / 30;

/** A scripted match: a fixed pseudo-random stick per player per tick, no Math.random. */
function simulate(ticks: number, players: number): Float64Array {
  const bodies: Body[] = [];
  for (let i = 0; i < players; i++) bodies.push({ x: 100 + i * 90, y: 100 + (i % 3) * 300, vx: 0, vy: 0 });
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    return ((seed >>> 8) & 0xffff) / 0x8000 - 1;
  };
  const stick = { x: 0, y: 0 };
  for (let t = 0; t < ticks; t++) {
    for (const b of bodies) {
      stick.x = rand();
      stick.y = rand();
      stepPlayer(b, stick, DT);
    }
    separatePlayers(bodies, bodies.length);
  }
  return Float64Array.from(bodies.flatMap((b) => [b.x, b.y, b.vx, b.vy]));
}

describe("physics step", () => {
  it("gives the same bits from the same inputs", () => {
    const a = simulate(3000, 16);
    const b = simulate(3000, 16);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(a.some((v) => v !== 0)).toBe(true);
  });

  it("moves right under x = 1 and never passes the top speed", () => {
    const body = { x: 200, y: 150, vx: 0, vy: 0 };
    let fastest = 0;
    for (let i = 0; i < 60; i++) {
      stepPlayer(body, { x: 1, y: 0 }, DT);
      fastest = Math.max(fastest, Math.hypot(body.vx, body.vy));
    }
    expect(body.x).toBeGreaterThan(400);
    expect(body.y).toBe(150);
    expect(fastest).toBeLessThanOrEqual(MAX_SPEED + 1e-9);
    expect(fastest).toBeGreaterThan(MAX_SPEED * 0.99);
  });

  it("is no faster on a diagonal", () => {
    const body = { x: 100, y: 100, vx: 0, vy: 0 };
    for (let i = 0; i < 10; i++) stepPlayer(body, { x: 1, y: 1 }, DT);
    const straight = { x: 100, y: 100, vx: 0, vy: 0 };
    for (let i = 0; i < 10; i++) stepPlayer(straight, { x: 1, y: 0 }, DT);
    expect(Math.hypot(body.vx, body.vy)).toBeCloseTo(straight.vx, 9);
  });

  it("glides to a stop when the stick is released", () => {
    const body = { x: 100, y: 900, vx: MAX_SPEED, vy: 0 };
    for (let i = 0; i < 60; i++) stepPlayer(body, { x: 0, y: 0 }, DT);
    expect(body.vx).toBe(0);
    const restingAt = body.x;
    stepPlayer(body, { x: 0, y: 0 }, DT);
    expect(body.x).toBe(restingAt);
  });

  it("treats NaN and infinite sticks as centred and clamps the rest", () => {
    expect(clampAxis(Number.NaN)).toBe(0);
    expect(clampAxis(Number.POSITIVE_INFINITY)).toBe(0);
    expect(clampAxis(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(clampAxis(7)).toBe(1);
    expect(clampAxis(-7)).toBe(-1);
    expect(clampAxis(0.25)).toBe(0.25);
    const body = { x: 100, y: 100, vx: 0, vy: 0 };
    stepPlayer(body, { x: Number.NaN, y: Number.POSITIVE_INFINITY }, DT);
    expect(body).toEqual({ x: 100, y: 100, vx: 0, vy: 0 });
  });

  it("keeps players inside the walls", () => {
    const body = { x: ARENA_WIDTH - 20, y: ARENA_HEIGHT - 20, vx: 0, vy: 0 };
    for (let i = 0; i < 90; i++) stepPlayer(body, { x: 1, y: 1 }, DT);
    expect(body.x).toBe(ARENA_WIDTH - PLAYER_RADIUS);
    expect(body.y).toBe(ARENA_HEIGHT - PLAYER_RADIUS);
    expect(body.vx).toBe(0);
    expect(body.vy).toBe(0);
  });

  it("keeps players out of the pillars", () => {
    const pillar = OBSTACLES[0]!;
    const body = { x: pillar.x - pillar.r - 100, y: pillar.y, vx: 0, vy: 0 };
    for (let i = 0; i < 90; i++) {
      stepPlayer(body, { x: 1, y: 0 }, DT);
      expect(Math.hypot(body.x - pillar.x, body.y - pillar.y)).toBeGreaterThanOrEqual(pillar.r + PLAYER_RADIUS - 1e-9);
    }
    expect(isClear(body.x, body.y, PLAYER_RADIUS - 1e-6)).toBe(true);
  });

  it("parts overlapping players, even exactly stacked ones", () => {
    const a = { x: 300, y: 120, vx: 50, vy: 0 };
    const b = { x: 310, y: 120, vx: -50, vy: 0 };
    const c = { x: 600, y: 120, vx: 0, vy: 0 };
    const d = { x: 600, y: 120, vx: 0, vy: 0 };
    separatePlayers([a, b, c, d], 4);
    expect(b.x - a.x).toBeCloseTo(PLAYER_RADIUS * 2, 9);
    expect(a.vx).toBeLessThanOrEqual(0 + 1e-9);
    expect(Math.hypot(d.x - c.x, d.y - c.y)).toBeCloseTo(PLAYER_RADIUS * 2, 9);
  });
});
