/**
 * The deterministic step that the server simulates and the client predicts with. It uses only
 * IEEE-754 basic operations and Math.sqrt (correctly rounded by the spec), never sin/cos/pow, so
 * every JavaScript engine computes the same bits from the same inputs.
 *
 * Bodies are read into locals and written back once, so a schema instance sees one change per
 * field per tick and the hot path allocates nothing.
 */
import {
  ACCELERATION,
  ARENA_HEIGHT,
  ARENA_WIDTH,
  DRAG,
  MAX_SPEED,
  OBSTACLES,
  REST_SPEED,
  PLAYER_RADIUS,
} from "./constants.ts";

export interface Body {
  x: number;
  y: number;
  vx: number;
  vy: number;
}

/** A stick direction; anything outside [-1, 1] or non-finite is treated as centred. */
export interface Stick {
  readonly x: number;
  readonly y: number;
}

const MAX_SPEED_SQ = MAX_SPEED * MAX_SPEED;
const REST_SPEED_SQ = REST_SPEED * REST_SPEED;
const MIN_X = PLAYER_RADIUS;
const MAX_X = ARENA_WIDTH - PLAYER_RADIUS;
const MIN_Y = PLAYER_RADIUS;
const MAX_Y = ARENA_HEIGHT - PLAYER_RADIUS;
const PLAYER_DIAMETER = PLAYER_RADIUS * 2;
const PLAYER_DIAMETER_SQ = PLAYER_DIAMETER * PLAYER_DIAMETER;

/** Clamps one stick axis; NaN and infinities mean "no input" rather than a full push. */
export function clampAxis(v: number): number {
  if (!Number.isFinite(v)) return 0;
  return v < -1 ? -1 : v > 1 ? 1 : v;
}

/**
 * Advances one player by dt seconds under its stick: acceleration, drag, top speed, then the
 * pillars and the walls. This is the whole of what a client can predict about itself.
 */
export function stepPlayer(body: Body, stick: Stick, dt: number): void {
  let ix = clampAxis(stick.x);
  let iy = clampAxis(stick.y);
  const len2 = ix * ix + iy * iy;
  if (len2 > 1) {
    const len = Math.sqrt(len2);
    ix /= len;
    iy /= len;
  }

  let vx = body.vx + ix * ACCELERATION * dt;
  let vy = body.vy + iy * ACCELERATION * dt;
  const keep = 1 - DRAG * dt;
  vx *= keep;
  vy *= keep;
  const speed2 = vx * vx + vy * vy;
  if (len2 === 0 && speed2 < REST_SPEED_SQ) {
    // Drag alone never reaches zero; a body that has all but stopped stops, and stops costing patches.
    vx = 0;
    vy = 0;
  } else if (speed2 > MAX_SPEED_SQ) {
    const scale = MAX_SPEED / Math.sqrt(speed2);
    vx *= scale;
    vy *= scale;
  }

  scratch.x = body.x + vx * dt;
  scratch.y = body.y + vy * dt;
  scratch.vx = vx;
  scratch.vy = vy;
  confine(scratch);
  body.x = scratch.x;
  body.y = scratch.y;
  body.vx = scratch.vx;
  body.vy = scratch.vy;
}

const scratch: Body = { x: 0, y: 0, vx: 0, vy: 0 };

/**
 * Pushes overlapping players apart, half the overlap each, and removes the velocity with which
 * they approach. Pairs are visited in array order, so the same order gives the same result.
 * Only the server runs this: a client cannot know other players' inputs, and its reconciler
 * absorbs the difference.
 */
export function separatePlayers(bodies: readonly Body[], count: number): void {
  for (let i = 0; i < count; i++) {
    const a = bodies[i]!;
    for (let j = i + 1; j < count; j++) {
      const b = bodies[j]!;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const d2 = dx * dx + dy * dy;
      if (d2 >= PLAYER_DIAMETER_SQ) continue;
      const d = Math.sqrt(d2);
      // Exactly stacked bodies (two spawns on one spot) part along x, deterministically.
      const nx = d === 0 ? 1 : dx / d;
      const ny = d === 0 ? 0 : dy / d;
      const push = (PLAYER_DIAMETER - d) / 2;
      a.x -= nx * push;
      a.y -= ny * push;
      b.x += nx * push;
      b.y += ny * push;
      const approach = (b.vx - a.vx) * nx + (b.vy - a.vy) * ny;
      if (approach < 0) {
        const half = approach / 2;
        a.vx += nx * half;
        a.vy += ny * half;
        b.vx -= nx * half;
        b.vy -= ny * half;
      }
    }
  }
  for (let i = 0; i < count; i++) {
    const b = bodies[i]!;
    scratch.x = b.x;
    scratch.y = b.y;
    scratch.vx = b.vx;
    scratch.vy = b.vy;
    if (confine(scratch)) {
      b.x = scratch.x;
      b.y = scratch.y;
      b.vx = scratch.vx;
      b.vy = scratch.vy;
    }
  }
}

/** Moves a body out of the pillars and inside the walls, sliding along what it hit. */
function confine(b: Body): boolean {
  let moved = false;
  for (let k = 0; k < OBSTACLES.length; k++) {
    const o = OBSTACLES[k]!;
    const dx = b.x - o.x;
    const dy = b.y - o.y;
    const min = o.r + PLAYER_RADIUS;
    const d2 = dx * dx + dy * dy;
    if (d2 >= min * min) continue;
    const d = Math.sqrt(d2);
    const nx = d === 0 ? 1 : dx / d;
    const ny = d === 0 ? 0 : dy / d;
    b.x = o.x + nx * min;
    b.y = o.y + ny * min;
    const into = b.vx * nx + b.vy * ny;
    if (into < 0) {
      b.vx -= into * nx;
      b.vy -= into * ny;
    }
    moved = true;
  }
  if (b.x < MIN_X) {
    b.x = MIN_X;
    if (b.vx < 0) b.vx = 0;
    moved = true;
  } else if (b.x > MAX_X) {
    b.x = MAX_X;
    if (b.vx > 0) b.vx = 0;
    moved = true;
  }
  if (b.y < MIN_Y) {
    b.y = MIN_Y;
    if (b.vy < 0) b.vy = 0;
    moved = true;
  } else if (b.y > MAX_Y) {
    b.y = MAX_Y;
    if (b.vy > 0) b.vy = 0;
    moved = true;
  }
  return moved;
}

/** True when a point lies clear of every pillar by at least `margin`; used to place spawns and coins. */
export function isClear(x: number, y: number, margin: number): boolean {
  for (let k = 0; k < OBSTACLES.length; k++) {
    const o = OBSTACLES[k]!;
    const dx = x - o.x;
    const dy = y - o.y;
    const min = o.r + margin;
    if (dx * dx + dy * dy < min * min) return false;
  }
  return true;
}
