/**
 * The checkpoint envelope: what the durable-room layer writes to Redis beside a room's loop and
 * what another node rebuilds the room from, for any game. The layer owns the envelope (which room
 * type, its seats, the encoder's ref-id counter); the game owns only `game.data`, stamped with its
 * own snapshot version and checked by the game itself when the room is rebuilt.
 *
 * `format` is bumped on any incompatible change to the envelope; a node reads every format in
 * READABLE_FORMATS, so during a rolling deploy a newer node can take an older node's rooms.
 * Formats 1 and 2 were written by the arena alone, with its world at the top level: they are read
 * as arena checkpoints whose game section is the world at its own version. Format 1 stored each
 * seat's reconnection token itself and is still read, its tokens hashed on the way in.
 *
 * What comes back from Redis is untrusted: it is refused above MAX_CHECKPOINT_BYTES before it is
 * parsed and every envelope field is checked here; the game section is checked by the room's
 * parseSnapshot before any state is built from it.
 */
import type { Bounded } from "../cluster/redis-scripts.ts";
import { TOKEN_HASH_PATTERN, type TokenHash } from "./token-hash.ts";
import { isColyseusId } from "./colyseus-id.ts";
import { type JournalPosition, parseJournalPosition } from "./journal.ts";

export const CHECKPOINT_FORMAT = 3;
const READABLE_FORMATS: ReadonlySet<number> = new Set([1, 2, 3]);

/** The only room type formats 1 and 2 were written for. */
const LEGACY_ROOM_NAME = "arena";

/**
 * A full arena room of 64 players writes about 25 KB; ten times that is still a checkpoint,
 * anything beyond is not, and is refused before it is read out of Redis or parsed.
 */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

/** More seats than any room holds: a list past it is not a room's. */
const MAX_SEATS = 1024;

export interface SeatCheckpoint {
  readonly sessionId: string;
  /** The keyed hash of the token the player's SDK holds now; it presents the token on reconnect. */
  readonly tokenHash: string;
}

/** The game's own part of a checkpoint: what its room's snapshot() returned, and that snapshot's version. */
export interface GameSection {
  readonly version: number;
  readonly data: unknown;
}

export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly roomId: string;
  /** The room type it was defined under (`server.define`): the room is rebuilt as one of these. */
  readonly name: string;
  readonly nodeId: string;
  readonly epoch: number;
  /** Wall-clock milliseconds when it was taken. */
  readonly takenAt: number;
  /** How far the game had got (the arena's tick, a turn-based game's move count): what operators and hand-offs report. */
  readonly tick: number;
  /** The schema encoder's next refId; a rehydrated room numbers above it so clients never see an id reused. */
  readonly nextRefId: number;
  readonly seats: readonly SeatCheckpoint[];
  readonly game: GameSection;
  /**
   * Where the room's input journal stands (journal.ts), when it keeps one: a new owner replays
   * the records after this one. Absent from a room frozen for a hand-off, which records nothing
   * after its checkpoint. Optional within format 3: a node that does not know it ignores it.
   */
  readonly journal?: JournalPosition;
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
/** The schema's refIds are varints; a rebuilt room adds a margin, so this leaves room above. */
const MAX_REF_ID = 2 ** 30;
/** Room names as `server.define` is given them. */
const ROOM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Parses and checks a checkpoint envelope read from Redis; throws CheckpointError saying what is
 * wrong. `hashToken` turns a format 1 seat's plain token into the hash later formats keep.
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
  const legacy = data.format !== CHECKPOINT_FORMAT;
  if (data.roomId !== expectedRoomId) throw new CheckpointError(`room id ${JSON.stringify(data.roomId)?.slice(0, 80)} is not ${expectedRoomId}`);
  const name = legacy ? LEGACY_ROOM_NAME : data.name;
  if (typeof name !== "string" || !ROOM_NAME_PATTERN.test(name)) throw new CheckpointError("name is not a room name");
  if (typeof data.nodeId !== "string" || data.nodeId.length > 64) throw new CheckpointError("nodeId is not a node id");
  for (const field of ["epoch", "takenAt", "tick", "nextRefId"] as const) {
    if (!isCount(data[field])) throw new CheckpointError(`${field} is not a whole number`);
  }
  if ((data.nextRefId as number) > MAX_REF_ID) throw new CheckpointError(`nextRefId is beyond ${MAX_REF_ID}`);
  const game = legacy ? legacyGameSection(data.world) : data.game;
  if (!isObject(game) || !isCount(game.version) || !Object.hasOwn(game, "data")) throw new CheckpointError("game is not { version, data }");
  return {
    format: CHECKPOINT_FORMAT,
    roomId: expectedRoomId,
    name,
    nodeId: data.nodeId,
    epoch: data.epoch as number,
    takenAt: data.takenAt as number,
    tick: data.tick as number,
    nextRefId: data.nextRefId as number,
    seats: parseSeats(data.seats, data.format === 1, hashToken),
    game: { version: game.version, data: game.data },
    ...journalOf(data.journal),
  };
}

/** A journal position that is not one is left out: the room is rebuilt from the checkpoint alone. */
function journalOf(raw: unknown): { journal?: JournalPosition } {
  const journal = parseJournalPosition(raw);
  return journal ? { journal } : {};
}

/** Formats 1 and 2 kept the arena's world, stamped with its own version, where the game section is now. */
function legacyGameSection(world: unknown): unknown {
  return isObject(world) ? { version: world.version, data: world } : undefined;
}

/** Each seat once, with the hash of its token (format 1: the token itself, hashed here). */
function parseSeats(raw: unknown, plainTokens: boolean, hashToken: TokenHash): SeatCheckpoint[] {
  if (!Array.isArray(raw)) throw new CheckpointError("seats is not a list");
  if (raw.length > MAX_SEATS) throw new CheckpointError(`${raw.length} seats, more than ${MAX_SEATS}`);
  const seen = new Set<string>();
  return raw.map((seat: unknown) => {
    if (!isObject(seat)) throw new CheckpointError("a seat is not an object");
    if (!isColyseusId(seat.sessionId)) throw new CheckpointError(`seat ${JSON.stringify(String(seat.sessionId).slice(0, 70))} is not a session id`);
    const token = plainTokens ? seat.reconnectionToken : seat.tokenHash;
    if (!(plainTokens ? isColyseusId(token) : typeof token === "string" && TOKEN_HASH_PATTERN.test(token))) {
      throw new CheckpointError(`seat ${seat.sessionId} has no valid ${plainTokens ? "reconnection token" : "token hash"}`);
    }
    if (seen.has(seat.sessionId)) throw new CheckpointError(`seat ${seat.sessionId} is listed twice`);
    seen.add(seat.sessionId);
    return { sessionId: seat.sessionId, tokenHash: plainTokens ? hashToken(token as string) : (token as string) };
  });
}
