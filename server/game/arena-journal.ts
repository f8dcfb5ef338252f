/**
 * What the arena's step consumed, as journal records, and their replay. A world's future is fully
 * determined by its snapshot and these records: the stick every player's body ran each tick (or
 * that it sat the tick out), and each seat change between ticks, in the order they happened.
 *
 * Records are plain JSON arrays, short because one goes to Redis per room per tick:
 * - `["t", dt, sticks]`: one step of `dt` seconds; `sticks` is base64 of two little-endian float32
 *   per player in the world's visit order, its stick's x and y, or two NaN when that body sat the
 *   step out. Sticks arrive as float32 on the wire, so this keeps every bit of them (-0 included)
 *   in 8 bytes a player, a quarter of their JSON;
 * - `["t", dt, sticks, again]`: the same, in a step where some player caught up (moved twice,
 *   ArenaWorld.step): `again` holds the second sticks alike, two NaN for every other player;
 * - `["j", sessionId, name]`: a player joined (its colour and spot are drawn from the world's RNG);
 * - `["l", sessionId]`: a player's seat was freed;
 * - `["c", sessionId, 0 | 1]`: a player's connection dropped (0) or came back (1).
 *
 * Replayed records come from Redis (untrusted): parseArenaRecord checks each before it is applied.
 */
import type { Stick } from "../../shared/physics.ts";
import { parseJoinOptions } from "../../shared/protocol.ts";
import { MAX_PLAYERS_LIMIT } from "../../shared/constants.ts";
import { isColyseusId } from "../durable/colyseus-id.ts";
import type { ArenaWorld } from "./arena-world.ts";

export type ArenaRecord =
  | readonly ["t", number, string]
  | readonly ["t", number, string, string]
  | readonly ["j", string, string]
  | readonly ["l", string]
  | readonly ["c", string, 0 | 1];

const STICK_BYTES = 8;

/**
 * Notes the sticks one step consumes, in visit order, and hands the step the very values it
 * notes: each axis as the float32 it is recorded as (sticks come off the wire as float32, so this
 * changes nothing in a room), so a replayed step runs the same bits.
 */
export class StepRecorder {
  private readonly sticks = Buffer.alloc(MAX_PLAYERS_LIMIT * STICK_BYTES);
  private readonly again = Buffer.alloc(MAX_PLAYERS_LIMIT * STICK_BYTES);
  private count = 0;
  private caughtUp = false;
  private readonly stick = { x: 0, y: 0 };

  /** Wraps a step's stick source. */
  note(stick: Stick | undefined): Stick | undefined {
    const at = this.count++ * STICK_BYTES;
    writeStick(this.again, at, undefined);
    return writeStick(this.sticks, at, stick, this.stick);
  }

  /** Wraps a step's catch-up source, asked right after `note` for the same player. */
  noteAgain(stick: Stick | undefined): Stick | undefined {
    if (!stick) return undefined;
    this.caughtUp = true;
    return writeStick(this.again, (this.count - 1) * STICK_BYTES, stick, this.stick);
  }

  /** The record of the step just taken; the recorder starts afresh for the next. */
  take(dt: number): ArenaRecord {
    const end = this.count * STICK_BYTES;
    const sticks = this.sticks.toString("base64", 0, end);
    const record: ArenaRecord = this.caughtUp ? ["t", dt, sticks, this.again.toString("base64", 0, end)] : ["t", dt, sticks];
    this.count = 0;
    this.caughtUp = false;
    return record;
  }
}

/** Writes a stick as two float32 (NaN for none) and returns it as written, in `out`. */
function writeStick(buffer: Buffer, at: number, stick: Stick | undefined, out?: { x: number; y: number }): Stick | undefined {
  if (!stick || !out) {
    buffer.writeFloatLE(Number.NaN, at);
    buffer.writeFloatLE(Number.NaN, at + 4);
    return undefined;
  }
  out.x = Math.fround(stick.x);
  out.y = Math.fround(stick.y);
  buffer.writeFloatLE(out.x, at);
  buffer.writeFloatLE(out.y, at + 4);
  return out;
}

/** Applies one record to the world, as the room applied what it records. Throws when the record does not fit the world (it was not this world's). */
export function replayArenaRecord(world: ArenaWorld, record: ArenaRecord): void {
  switch (record[0]) {
    case "t": {
      const sticks = Buffer.from(record[2], "base64");
      const count = sticks.length / STICK_BYTES;
      if (count !== world.playerCount) throw new Error(`a step of ${count} sticks for ${world.playerCount} players`);
      const again = record.length === 4 ? Buffer.from(record[3], "base64") : undefined;
      let i = 0;
      const stick = { x: 0, y: 0 };
      world.step(
        record[1],
        () => readStick(sticks, i++ * STICK_BYTES, stick),
        again && (() => readStick(again, (i - 1) * STICK_BYTES, stick)),
      );
      return;
    }
    case "j":
      if (world.state.players.has(record[1])) throw new Error(`${record[1]} joined twice`);
      world.addPlayer(record[1], record[2]);
      return;
    case "l":
      world.removePlayer(record[1]);
      return;
    case "c": {
      const player = world.state.players.get(record[1]);
      if (!player) throw new Error(`${record[1]} is not in the world`);
      player.connected = record[2] === 1;
      return;
    }
  }
}

/**
 * Replays a rebuilt room's journal (untrusted records) on its world, up to the first seat taken or
 * freed: the node checkpoints on every seat change, so a crash between one and its checkpoint is
 * rare, and replaying past it would leave a player without a seat or a seat without a player. The
 * players are thus the same throughout, so every record is checked against them before any is
 * applied: a journal that does not fit throws with the world unchanged. Returns how many records
 * were applied.
 */
export function replayArenaJournal(world: ArenaWorld, records: readonly unknown[]): number {
  const parsed = records.map(parseArenaRecord);
  const seatChange = parsed.findIndex((r) => r[0] === "j" || r[0] === "l");
  const replayable = seatChange < 0 ? parsed : parsed.slice(0, seatChange);
  for (const record of replayable) {
    if (record[0] === "t" && stickCount(record[2]) !== world.playerCount) throw new Error(`a step of ${stickCount(record[2])} sticks for ${world.playerCount} players`);
    if (record[0] === "c" && !world.state.players.has(record[1])) throw new Error(`${record[1]} is not in the world`);
  }
  for (const record of replayable) replayArenaRecord(world, record);
  return replayable.length;
}

function readStick(sticks: Buffer, at: number, out: { x: number; y: number }): Stick | undefined {
  out.x = sticks.readFloatLE(at);
  if (Number.isNaN(out.x)) return undefined;
  out.y = sticks.readFloatLE(at + 4);
  return out;
}

const stickCount = (sticks: string) => Buffer.byteLength(sticks, "base64") / STICK_BYTES;
const isAxis = (v: number) => v >= -1 && v <= 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether a step's sticks are whole pairs of float32, each within [-1, 1] or both NaN (sat out). */
function validSticks(sticks: unknown): boolean {
  if (typeof sticks !== "string" || sticks.length > Math.ceil((MAX_PLAYERS_LIMIT * STICK_BYTES) / 3) * 4 || !BASE64.test(sticks)) return false;
  const bytes = Buffer.from(sticks, "base64");
  if (bytes.length % STICK_BYTES !== 0 || bytes.toString("base64") !== sticks) return false;
  for (let at = 0; at < bytes.length; at += STICK_BYTES) {
    const x = bytes.readFloatLE(at);
    const y = bytes.readFloatLE(at + 4);
    if (!(Number.isNaN(x) && Number.isNaN(y)) && !(isAxis(x) && isAxis(y))) return false;
  }
  return true;
}
const MAX_DT = 1;

/** Checks a record read back from Redis; throws saying what is wrong. */
export function parseArenaRecord(data: unknown): ArenaRecord {
  if (!Array.isArray(data)) throw new Error("a record is not a list");
  switch (data[0]) {
    case "t": {
      const [, dt, sticks, again] = data as unknown[];
      if (!(typeof dt === "number" && dt > 0 && dt <= MAX_DT)) throw new Error("a step's dt is out of range");
      if (!validSticks(sticks)) throw new Error("a step's sticks are not float32 pairs within [-1, 1] or NaN");
      if (data.length > 4 || (data.length === 4 && !(validSticks(again) && (again as string).length === (sticks as string).length))) {
        throw new Error("a step's second sticks are not float32 pairs within [-1, 1] or NaN, one for each of its first");
      }
      return data as unknown as ArenaRecord;
    }
    case "j": {
      const name = typeof data[2] === "string" ? parseJoinOptions({ name: data[2] }) : undefined;
      if (!isColyseusId(data[1]) || !name?.ok || name.value.name !== data[2]) throw new Error("a join has no session id or no valid name");
      return data as unknown as ArenaRecord;
    }
    case "l":
      if (!isColyseusId(data[1])) throw new Error("a leave has no session id");
      return data as unknown as ArenaRecord;
    case "c":
      if (!isColyseusId(data[1]) || (data[2] !== 0 && data[2] !== 1)) throw new Error("a connection change has no session id or state");
      return data as unknown as ArenaRecord;
    default:
      throw new Error(`unknown record kind ${JSON.stringify(data[0])?.slice(0, 20)}`);
  }
}
