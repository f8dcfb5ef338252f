/**
 * Which websocket frames a room type's clients may send, decided from the frame's first byte
 * (the Colyseus protocol code and its modifier bits) and, where Colyseus would read counts or
 * lengths from the rest, from the shape of those bytes, before Colyseus decodes anything. A frame
 * outside the policy is one an honest SDK never sends: the gate closes its socket.
 */
import { Protocol, ProtocolModifier } from "@colyseus/core";
import { schemaFieldTypes } from "../colyseus-internals.ts";

export interface FramePolicy {
  /**
   * The room's input schema (`defineInput`): the room takes reliable input frames whose body
   * writes only this schema's fields. Timed inputs (the TIMED bit, a lag-compensation stamp for
   * rooms with rewind) are refused: no Locus room keeps a timeline.
   */
  readonly input?: abstract new (...args: any[]) => object;
  /** The room takes ROOM_DATA messages (`room.send(type, payload)`, handled with `onMessage`). */
  readonly data?: boolean;
  /**
   * A tighter frame budget for this room type's connections than the node's own
   * (MAX_FRAMES_PER_SECOND): a room whose players send a few frames a second need not take more.
   */
  readonly framesPerSecond?: number;
}

/** Why a frame was refused; the label of `locus_frames_refused_total`. */
export type Refusal =
  | "empty_frame"
  | "text_frame"
  | "unknown_type"
  | "unused_type"
  | "unreliable_input"
  | "timed_input"
  | "malformed_input"
  | "malformed_data";

/** A policy turned into a verdict per first byte, so that checking a frame is a table lookup. */
export interface CompiledFramePolicy {
  /** Per first byte: ACCEPT, CHECK_INPUT, CHECK_DATA, or a refusal's index in REFUSALS plus REFUSED. */
  readonly verdicts: Uint8Array;
  /** Per field index of the input schema: the bytes its value takes on the wire; 0 for no such field. */
  readonly inputFieldBytes: Uint8Array;
  readonly inputFieldCount: number;
  /** The policy's own frame budget, when it has one. */
  readonly framesPerSecond: number | undefined;
}

const ACCEPT = 0;
const CHECK_INPUT = 1;
const CHECK_DATA = 2;
const REFUSED = 3;
const REFUSALS: readonly Refusal[] = ["empty_frame", "text_frame", "unknown_type", "unused_type", "unreliable_input", "timed_input", "malformed_input", "malformed_data"];

/** Wire size of each fixed-size primitive an input field may have (@colyseus/schema 5 encodes them little-endian, at full width). */
const PRIMITIVE_BYTES: Readonly<Record<string, number>> = {
  boolean: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};
/** A schema field write: the low six bits name the field, the top two the operation. */
const FIELD_INDEX_MASK = 0x3f;
/** Of the operations, only ADD (0x80) and REPLACE (0x00) set a primitive; DELETE has bit 0x40. */
const DELETE_BIT = 0x40;
/** ROOM_DATA's message type: a short ASCII name (msgpack fixstr) or a small number (positive fixint). */
const FIXSTR = 0xa0;
const FIXSTR_MAX_LENGTH = 31;
const POSITIVE_FIXINT_MAX = 0x7f;

/** The protocol codes a Colyseus 0.18 client sends; every other code only travels to clients. */
const CLIENT_CODES: ReadonlySet<number> = new Set([
  Protocol.JOIN_ROOM,
  Protocol.LEAVE_ROOM,
  Protocol.ROOM_DATA,
  Protocol.ROOM_DATA_BYTES,
  Protocol.PING,
  Protocol.ROOM_INPUT_RELIABLE,
  Protocol.ROOM_INPUT_UNRELIABLE,
  Protocol.ROOM_REQUEST,
]);

/** The policy of a socket that has not joined a room: the latency probe's PINGs, nothing else. */
export const PROBE_POLICY: CompiledFramePolicy = compile(new Set([Protocol.PING]), undefined, undefined);

export function compileFramePolicy(policy: FramePolicy): CompiledFramePolicy {
  const accepted = new Set<number>([Protocol.JOIN_ROOM, Protocol.LEAVE_ROOM, Protocol.PING]);
  if (policy.input) accepted.add(Protocol.ROOM_INPUT_RELIABLE);
  if (policy.data) accepted.add(Protocol.ROOM_DATA);
  return compile(accepted, policy.input, policy.framesPerSecond);
}

/** Checks one binary frame; undefined when it may pass to Colyseus. Reads at most the input schema's field count of bytes. */
export function checkFrame(policy: CompiledFramePolicy, frame: Uint8Array): Refusal | undefined {
  if (frame.length === 0) return "empty_frame";
  const verdict = policy.verdicts[frame[0]!]!;
  if (verdict === ACCEPT) return undefined;
  if (verdict === CHECK_INPUT) return inputBodyFits(policy, frame) ? undefined : "malformed_input";
  if (verdict === CHECK_DATA) return dataTypeFits(frame) ? undefined : "malformed_data";
  return REFUSALS[verdict - REFUSED];
}

function compile(accepted: ReadonlySet<number>, input: FramePolicy["input"], framesPerSecond: number | undefined): CompiledFramePolicy {
  const verdicts = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) verdicts[byte] = verdictFor(byte, accepted);
  const inputFieldBytes = new Uint8Array(FIELD_INDEX_MASK + 1);
  let inputFieldCount = 0;
  if (input) {
    for (const [index, type] of schemaFieldTypes(input)) {
      const bytes = typeof type === "string" ? PRIMITIVE_BYTES[type] : undefined;
      if (bytes === undefined) throw new Error(`input field ${index} is of type ${JSON.stringify(type)}: the frame gate bounds fixed-size primitive input fields only`);
      inputFieldBytes[index] = bytes;
      inputFieldCount++;
    }
  }
  return { verdicts, inputFieldBytes, inputFieldCount, framesPerSecond };
}

function verdictFor(byte: number, accepted: ReadonlySet<number>): number {
  const code = byte & 0x1f;
  const modifiers = byte & 0xe0;
  const refuse = (why: Refusal) => REFUSED + REFUSALS.indexOf(why);
  // Over websockets an unreliable input is never honest: the transport has no unreliable channel,
  // and its TIMED stamp block makes Colyseus 0.18.17 loop over a count read from the wire.
  if (code === Protocol.ROOM_INPUT_UNRELIABLE) return refuse("unreliable_input");
  if (code === Protocol.ROOM_INPUT_RELIABLE && modifiers === ProtocolModifier.TIMED) {
    return accepted.has(code) ? refuse("timed_input") : refuse("unused_type");
  }
  if (!CLIENT_CODES.has(code) || modifiers !== 0) return refuse("unknown_type");
  if (!accepted.has(code)) return refuse("unused_type");
  if (code === Protocol.ROOM_INPUT_RELIABLE) return CHECK_INPUT;
  if (code === Protocol.ROOM_DATA) return CHECK_DATA;
  return ACCEPT;
}

/**
 * An input body is a run of field writes, `[op | index][value]`, each to a field of the input
 * schema, as the SDK's InputEncoder writes it (empty when nothing changed). Anything else would
 * send Colyseus's schema decoder down its mismatch paths, which log for every frame.
 */
function inputBodyFits(policy: CompiledFramePolicy, frame: Uint8Array): boolean {
  let offset = 1;
  for (let writes = 0; offset < frame.length; writes++) {
    if (writes === policy.inputFieldCount) return false;
    const head = frame[offset]!;
    const bytes = policy.inputFieldBytes[head & FIELD_INDEX_MASK]!;
    if (head & DELETE_BIT || bytes === 0) return false;
    offset += 1 + bytes;
  }
  return offset === frame.length;
}

/** The message type must be a short printable ASCII name or a small number; the payload is msgpack, whose decoder is bounded by the frame. */
function dataTypeFits(frame: Uint8Array): boolean {
  const head = frame[1];
  if (head === undefined) return false;
  if (head <= POSITIVE_FIXINT_MAX) return true;
  const length = head - FIXSTR;
  if (length < 1 || length > FIXSTR_MAX_LENGTH || frame.length < 2 + length) return false;
  for (let i = 2; i < 2 + length; i++) {
    const c = frame[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
