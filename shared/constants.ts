/**
 * The arena's fixed world: what the server simulates and the client predicts must agree on these
 * numbers to the bit, so they live here and nowhere else.
 */

export const ROOM_NAME = "arena";

export const DEFAULT_TICK_HZ = 30;
export const DEFAULT_MAX_PLAYERS = 16;
/** The most players a room may be configured for (MAX_PLAYERS), and so the most a checkpoint can carry. */
export const MAX_PLAYERS_LIMIT = 64;

export const ARENA_WIDTH = 1600;
export const ARENA_HEIGHT = 1000;

export const PLAYER_RADIUS = 18;
/** Units per second squared at full stick. */
export const ACCELERATION = 2400;
/** Fraction of velocity lost per second, so a released stick glides to a stop in about half a second. */
export const DRAG = 6;
/** Units per second; the acceleration alone would settle at ACCELERATION / DRAG. */
export const MAX_SPEED = 320;
/** Below this speed (units per second) a player with a centred stick stops dead. */
export const REST_SPEED = 2;

export interface Circle {
  readonly x: number;
  readonly y: number;
  readonly r: number;
}

/** Static pillars: circles keep the collision maths exact and cheap on both sides. */
export const OBSTACLES: readonly Circle[] = [
  { x: 400, y: 300, r: 60 },
  { x: 1200, y: 300, r: 60 },
  { x: 800, y: 500, r: 90 },
  { x: 400, y: 700, r: 60 },
  { x: 1200, y: 700, r: 60 },
];

export const COIN_RADIUS = 10;
export const MAX_COINS = 12;
export const COIN_VALUE = 1;
/** A coin is added every this many ticks until MAX_COINS lie on the floor. */
export const COIN_SPAWN_INTERVAL_TICKS = 15;

export const NAME_MAX_LENGTH = 16;
