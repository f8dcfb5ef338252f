/**
 * The checkpoint format: what a room writes to Redis beside its loop and what another node
 * rebuilds it from. `format` is bumped on any incompatible change; a node reads every format it
 * lists in READABLE_FORMATS, so during a rolling deploy a newer node can take an older node's rooms.
 */
import { WORLD_SNAPSHOT_VERSION, type WorldSnapshot } from "../game/snapshot.ts";

export const CHECKPOINT_FORMAT = 1;
const READABLE_FORMATS: ReadonlySet<number> = new Set([1]);

export interface SeatCheckpoint {
  readonly sessionId: string;
  /** The token the player's SDK holds now; it presents it on reconnect. */
  readonly reconnectionToken: string;
  readonly name: string;
  /** Inputs the server had simulated for this seat: the reconcile ack the client last saw. */
  readonly inputsConsumed: number;
}

export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly roomId: string;
  readonly nodeId: string;
  readonly epoch: number;
  /** Wall-clock milliseconds when it was taken. */
  readonly takenAt: number;
  readonly tick: number;
  readonly world: WorldSnapshot;
  /** The schema encoder's next refId; a rehydrated room numbers above it so clients never see an id reused. */
  readonly nextRefId: number;
  readonly seats: readonly SeatCheckpoint[];
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isId = (v: unknown): v is string => typeof v === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(v);

/** Parses and checks a checkpoint read from Redis; throws CheckpointError saying what is wrong. */
export function parseCheckpoint(raw: string, expectedRoomId: string): Checkpoint {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw new CheckpointError(`not JSON (${raw.length} bytes, truncated?)`);
  }
  if (!isObject(data)) throw new CheckpointError("not an object");
  if (!READABLE_FORMATS.has(data.format as number)) {
    throw new CheckpointError(`format ${JSON.stringify(data.format)} is not one this node reads (${[...READABLE_FORMATS].join(", ")})`);
  }
  if (data.roomId !== expectedRoomId) throw new CheckpointError(`room id ${JSON.stringify(data.roomId)} is not ${expectedRoomId}`);
  for (const field of ["epoch", "takenAt", "tick", "nextRefId"] as const) {
    if (!isCount(data[field])) throw new CheckpointError(`${field} is not a whole number`);
  }
  const world = data.world;
  if (!isObject(world) || world.version !== WORLD_SNAPSHOT_VERSION || !isObject(world.state) || !(typeof world.rng === "number" && Number.isInteger(world.rng)) || !isCount(world.nextCoinId)) {
    throw new CheckpointError("world snapshot is missing or of an unknown version");
  }
  if (!isObject(world.state.players) || !isObject(world.state.coins)) throw new CheckpointError("world state lacks players or coins");
  if (!Array.isArray(data.seats)) throw new CheckpointError("seats is not a list");
  for (const seat of data.seats as unknown[]) {
    if (!isObject(seat) || !isId(seat.sessionId) || !isId(seat.reconnectionToken) || typeof seat.name !== "string" || !isCount(seat.inputsConsumed)) {
      throw new CheckpointError("a seat is malformed");
    }
    if (!isObject(world.state.players[seat.sessionId])) throw new CheckpointError(`seat ${seat.sessionId} has no player`);
  }
  return data as unknown as Checkpoint;
}
