/**
 * The checkpoint format: what a room writes to Redis beside its loop and what another node
 * rebuilds it from. `format` is bumped on any incompatible change; a node reads every format it
 * lists in READABLE_FORMATS, so during a rolling deploy a newer node can take an older node's rooms.
 *
 * What comes back from Redis is untrusted: it is refused above MAX_CHECKPOINT_BYTES before it is
 * parsed, every field is checked, and the world is proven restorable before any room is built
 * from it.
 *
 * Format 2 stores each seat's reconnection token as a keyed hash (token-hash.ts); format 1 stored
 * the token itself and is still read, its tokens hashed on the way in.
 */
import { isColyseusId, parseWorldSnapshot, proveRestorable, type WorldSnapshot } from "../game/snapshot.ts";
import type { Bounded } from "./redis-scripts.ts";
import { TOKEN_HASH_PATTERN, type TokenHash } from "./token-hash.ts";

export const CHECKPOINT_FORMAT = 2;
const READABLE_FORMATS: ReadonlySet<number> = new Set([1, 2]);

/**
 * A full room of 64 players writes about 25 KB; ten times that is still a checkpoint, anything
 * beyond is not, and is refused before it is read out of Redis or parsed.
 */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

export interface SeatCheckpoint {
  readonly sessionId: string;
  /** The keyed hash of the token the player's SDK holds now; it presents the token on reconnect. */
  readonly tokenHash: string;
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
/** The schema's refIds are varints; a rebuilt room adds a margin, so this leaves room above. */
const MAX_REF_ID = 2 ** 30;

/**
 * Parses and checks a checkpoint read from Redis; throws CheckpointError saying what is wrong.
 * `hashToken` turns a format 1 seat's plain token into the hash format 2 keeps.
 */
export function parseCheckpoint(read: Bounded, expectedRoomId: string, hashToken: TokenHash): Checkpoint {
  if (read.status === "missing") throw new CheckpointError("no checkpoint was written");
  if (read.status === "wrong_type") throw new CheckpointError(`the checkpoint key holds a ${read.type}, not a string`);
  if (read.status === "too_large") throw new CheckpointError(`${read.bytes} bytes, over the ${MAX_CHECKPOINT_BYTES}-byte limit`);
  const raw = read.text;
  if (Buffer.byteLength(raw) > MAX_CHECKPOINT_BYTES) throw new CheckpointError(`over the ${MAX_CHECKPOINT_BYTES}-byte limit`);
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw new CheckpointError(`not JSON (${raw.length} bytes, truncated?)`);
  }
  if (!isObject(data)) throw new CheckpointError("not an object");
  if (!READABLE_FORMATS.has(data.format as number)) {
    throw new CheckpointError(`format ${JSON.stringify(data.format)?.slice(0, 40)} is not one this node reads (${[...READABLE_FORMATS].join(", ")})`);
  }
  if (data.roomId !== expectedRoomId) throw new CheckpointError(`room id ${JSON.stringify(data.roomId)?.slice(0, 80)} is not ${expectedRoomId}`);
  if (typeof data.nodeId !== "string" || data.nodeId.length > 64) throw new CheckpointError("nodeId is not a node id");
  for (const field of ["epoch", "takenAt", "tick", "nextRefId"] as const) {
    if (!isCount(data[field])) throw new CheckpointError(`${field} is not a whole number`);
  }
  if ((data.tick as number) > 0xffffffff) throw new CheckpointError("tick is beyond the schema's uint32");
  if ((data.nextRefId as number) > MAX_REF_ID) throw new CheckpointError(`nextRefId is beyond ${MAX_REF_ID}`);
  const world = parseWorldSnapshot(data.world, data.tick as number);
  if (!world.ok) throw new CheckpointError(world.error);
  const seats = parseSeats(data.seats, data.format === 1, world.value, hashToken);
  try {
    proveRestorable(world.value);
  } catch (err) {
    throw new CheckpointError(`the world does not restore: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ...(data as unknown as Checkpoint), format: CHECKPOINT_FORMAT, world: world.value, seats };
}

/** One seat per player, each naming a player of the world: a player without a seat would never leave. */
function parseSeats(raw: unknown, plainTokens: boolean, world: WorldSnapshot, hashToken: TokenHash): SeatCheckpoint[] {
  const players = world.state.players as Record<string, { name: string }>;
  if (!Array.isArray(raw)) throw new CheckpointError("seats is not a list");
  if (raw.length !== Object.keys(players).length) throw new CheckpointError(`${raw.length} seats for ${Object.keys(players).length} players`);
  const seen = new Set<string>();
  return raw.map((seat: unknown) => {
    if (!isObject(seat) || !isColyseusId(seat.sessionId) || !isCount(seat.inputsConsumed)) throw new CheckpointError("a seat is malformed");
    const token = plainTokens ? seat.reconnectionToken : seat.tokenHash;
    if (!(plainTokens ? isColyseusId(token) : typeof token === "string" && TOKEN_HASH_PATTERN.test(token))) {
      throw new CheckpointError(`seat ${seat.sessionId} has no valid ${plainTokens ? "reconnection token" : "token hash"}`);
    }
    if (!Object.hasOwn(players, seat.sessionId) || seen.has(seat.sessionId)) throw new CheckpointError(`seat ${seat.sessionId} has no player, or is listed twice`);
    if (seat.name !== players[seat.sessionId]!.name) throw new CheckpointError(`seat ${seat.sessionId} names another player`);
    seen.add(seat.sessionId);
    return { sessionId: seat.sessionId, tokenHash: plainTokens ? hashToken(token as string) : (token as string), name: seat.name, inputsConsumed: seat.inputsConsumed };
  });
}
