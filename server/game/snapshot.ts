/**
 * A world as plain data: everything needed to rebuild a room's simulation exactly where it was,
 * the schema state plus what lives beside it (the random state and the coin counter). Plain
 * JSON because a decoded schema instance cannot be re-encoded, while a restored one can.
 */
import { Encoder } from "@colyseus/schema";
import { MAX_COINS, MAX_PLAYERS_LIMIT, NAME_MAX_LENGTH } from "../../shared/constants.ts";
import { parseJoinOptions } from "../../shared/protocol.ts";
import { ArenaState } from "../../shared/schema.ts";
import { isColyseusId } from "../durable/colyseus-id.ts";
import { ArenaWorld, PALETTE_SIZE } from "./arena-world.ts";
import { Rng } from "./rng.ts";

export const WORLD_SNAPSHOT_VERSION = 1;

export interface WorldSnapshot {
  readonly version: typeof WORLD_SNAPSHOT_VERSION;
  readonly state: ReturnType<ArenaState["toJSON"]>;
  readonly rng: number;
  readonly nextCoinId: number;
  /**
   * The players in the order the step visits them (join order). The state's own players object
   * cannot keep it: JSON puts an all-digit key first, and a session id can be all digits. Absent
   * from checkpoints written before it was kept, whose key order is taken.
   */
  readonly order?: readonly string[];
}

export function snapshotWorld(world: ArenaWorld): WorldSnapshot {
  return {
    version: WORLD_SNAPSHOT_VERSION,
    state: world.state.toJSON(),
    rng: world.rng.state,
    nextCoinId: world.nextCoinId,
    order: [...world.visitOrder],
  };
}

/** Rebuilds a world into `state` (a fresh one by default; a room passes the state it already serves). */
export function restoreWorld(snapshot: WorldSnapshot, state: ArenaState = new ArenaState()): ArenaWorld {
  return new ArenaWorld(state.restore(snapshot.state), new Rng(snapshot.rng), snapshot.nextCoinId, snapshot.order);
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isUint32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isInt32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** Coin keys as `spawnCoin` makes them: "c" and a counter below the world's next coin id. */
const COIN_KEY = /^c(0|[1-9][0-9]{0,9})$/;

/**
 * Checks a world snapshot read back from outside the process (a checkpoint in Redis) field by
 * field: player keys, names within the join rules, finite positions and velocities, counts
 * within what a room can hold. Fields it does not know are ignored, as `restore` ignores them.
 */
export function parseWorldSnapshot(data: unknown, tick: number): Parsed<WorldSnapshot> {
  if (!isObject(data) || data.version !== WORLD_SNAPSHOT_VERSION) return { ok: false, error: "world snapshot is missing or of an unknown version" };
  if (!isInt32(data.rng)) return { ok: false, error: "rng is not a 32-bit integer" };
  if (!isUint32(data.nextCoinId)) return { ok: false, error: "nextCoinId is not a whole number" };
  const state = data.state;
  if (!isObject(state) || !isObject(state.players) || !isObject(state.coins)) return { ok: false, error: "world state lacks players or coins" };
  if (state.tick !== tick) return { ok: false, error: "world tick is not the checkpoint's tick" };
  if (state.nodeId !== undefined && !(typeof state.nodeId === "string" && state.nodeId.length <= 64)) return { ok: false, error: "world nodeId is not a node id" };
  const playerIds = Object.keys(state.players);
  if (playerIds.length > MAX_PLAYERS_LIMIT) return { ok: false, error: `${playerIds.length} players, more than a room holds (${MAX_PLAYERS_LIMIT})` };
  for (const id of playerIds) {
    const shown = JSON.stringify(id.slice(0, 70));
    if (!isColyseusId(id)) return { ok: false, error: `player key ${shown} is not a session id` };
    const problem = playerProblem(state.players[id]);
    if (problem) return { ok: false, error: `player ${id}: ${problem}` };
  }
  if (data.order !== undefined && !isVisitOrder(data.order, state.players)) return { ok: false, error: "order does not list each player once" };
  const coinKeys = Object.keys(state.coins);
  if (coinKeys.length > MAX_COINS) return { ok: false, error: `${coinKeys.length} coins, more than ${MAX_COINS}` };
  for (const key of coinKeys) {
    const coin = state.coins[key];
    const index = COIN_KEY.exec(key)?.[1];
    if (index === undefined || Number(index) >= data.nextCoinId) return { ok: false, error: `coin key ${JSON.stringify(key.slice(0, 70))} is not one this world made` };
    if (!isObject(coin) || !isFiniteNumber(coin.x) || !isFiniteNumber(coin.y)) return { ok: false, error: `coin ${key} has no finite position` };
  }
  return { ok: true, value: data as unknown as WorldSnapshot };
}

function isVisitOrder(order: unknown, players: Record<string, unknown>): boolean {
  if (!Array.isArray(order) || order.length !== Object.keys(players).length) return false;
  const seen = new Set<string>();
  for (const id of order) {
    if (typeof id !== "string" || !Object.hasOwn(players, id) || seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}

function playerProblem(p: unknown): string | undefined {
  if (!isObject(p)) return "not an object";
  // A code point is at most two UTF-16 units: a longer string is refused before it is scanned.
  const name = typeof p.name === "string" && p.name.length <= 2 * NAME_MAX_LENGTH ? parseJoinOptions({ name: p.name }) : undefined;
  if (!name?.ok || name.value.name !== p.name) return "name is not within the join rules";
  for (const field of ["x", "y", "vx", "vy"] as const) {
    if (!isFiniteNumber(p[field])) return `${field} is not a finite number`;
  }
  if (!isUint32(p.score)) return "score is not a whole number";
  if (!(Number.isInteger(p.color) && (p.color as number) >= 0 && (p.color as number) < PALETTE_SIZE)) return "color is not a palette index";
  if (typeof p.connected !== "boolean") return "connected is not a boolean";
  return undefined;
}

/**
 * The world an arena checkpoint holds, checked for a room to be rebuilt from: a snapshot
 * parseWorldSnapshot accepts, at the checkpoint's tick, with one player for each of its seats (a
 * player without a seat would never leave), and one the schema encoder can serve. Throws saying
 * what is wrong.
 */
export function parseCheckpointWorld(data: unknown, tick: number, seats: readonly string[]): WorldSnapshot {
  if (!isUint32(tick)) throw new Error("tick is beyond the schema's uint32");
  const world = parseWorldSnapshot(data, tick);
  if (!world.ok) throw new Error(world.error);
  const players = world.value.state.players as Record<string, unknown>;
  const playerCount = Object.keys(players).length;
  if (seats.length !== playerCount) throw new Error(`${seats.length} seats for ${playerCount} players`);
  for (const seat of seats) {
    if (!Object.hasOwn(players, seat)) throw new Error(`seat ${seat} has no player`);
  }
  try {
    proveRestorable(world.value);
  } catch (err) {
    throw new Error(`the world does not restore: ${err instanceof Error ? err.message : String(err)}`);
  }
  return world.value;
}

/**
 * Restores a checked snapshot into a scratch state and encodes it as a room would, so that a
 * world the room could not serve is refused before a room is built from it. Throws what the
 * restore or the encoder throws.
 */
export function proveRestorable(snapshot: WorldSnapshot): void {
  const state = new ArenaState();
  const encoder = new Encoder(state);
  restoreWorld(snapshot, state);
  encoder.encodeAll();
  encoder.encode();
}
