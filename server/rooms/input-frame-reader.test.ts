/**
 * The input fast path leaves a room exactly as Colyseus's own input path does: two rooms fed the
 * same frames, one the Colyseus way and one through readInputFrames, end every step with the same
 * decoded input, buffer, acknowledgement and message bookkeeping.
 */
import { type Client, ClientState, Protocol, Room } from "@colyseus/core";
import { schema, t } from "@colyseus/schema";
import { InputDecoder } from "@colyseus/schema/input";
import { describe, expect, it, vi } from "vitest";
import { clampAxis } from "../../shared/physics.ts";
import { MoveInput } from "../../shared/schema.ts";
import { inputAckOf, readInputFrames, recycleInputCopies } from "../colyseus-internals.ts";
import { inputFrameReader } from "./input-frame-reader.ts";

const I = Protocol.ROOM_INPUT_RELIABLE;
const ADD = 0x80;
const f32 = (v: number) => [...new Uint8Array(Float32Array.of(v).buffer)];
const frame = (...bytes: number[]) => Buffer.from([I, ...bytes]);

interface RoomInternals {
  _onMessage(client: Client, buffer: Buffer): void;
  _inputController: { allocate(client: Client): void; register(sessionId: string, client: Client): void };
  clock: { currentTime: number };
}

/** A room with the arena's input setup (a 4-deep buffer here, so that overflow is reached), and one joined client. */
function arenaLike(fast: boolean) {
  let sanitized = 0;
  const room = new (class extends Room {
    override inputs = this.defineInput(MoveInput, {
      bufferMaxSize: 4,
      sanitize: (input) => {
        sanitized++;
        input.x = clampAxis(input.x);
        input.y = clampAxis(input.y);
      },
    });
  })();
  const r = room as unknown as RoomInternals;
  if (fast) readInputFrames(room, inputFrameReader(MoveInput));
  const client = { sessionId: "s1", state: ClientState.JOINED, ref: {}, raw: () => undefined } as unknown as Client;
  r._inputController.allocate(client);
  r._inputController.register(client.sessionId, client);
  const latest = room.inputs.get(client.sessionId).latest!;
  recycleInputCopies(latest, Array.from({ length: 6 }, () => ({ x: 0, y: 0 }) as MoveInput), (from, to) => {
    to.x = from.x;
    to.y = from.y;
  });
  const decoder = (client as unknown as { _inputDecoder: { decode(bytes: Uint8Array): unknown } })._inputDecoder;
  const decodes = vi.spyOn(decoder, "decode");
  const onMessage = r._onMessage.bind(room, client);
  return {
    room,
    client,
    at: (ms: number) => (r.clock.currentTime = ms),
    send: (buffer: Buffer) => onMessage(buffer),
    decodes: () => decodes.mock.calls.length,
    /** Everything of the room and client that a frame or a step may change. */
    effect: () => {
      const c = client as unknown as Record<string, unknown>;
      const inputs = room.inputs.get(client.sessionId);
      return {
        latest: { x: inputs.latest!.x, y: inputs.latest!.y },
        buffered: inputs.peek().map((i) => ({ x: i.x, y: i.y })),
        size: inputs.size,
        consumed: inputs.consumedCount,
        ack: inputAckOf(client),
        sanitized,
        received: c._receivedInputCount,
        inputHeard: c._lastInputReceivedAt !== undefined,
        lastMessageTime: c._lastMessageTime,
        messagesThisSecond: c._numMessagesLastSecond,
        countResetsAt: c._messageCountResetsAt,
      };
    },
  };
}

/** Frames of every kind the room can be handed: honest inputs, inputs out of range, and what the frame gate refuses. */
const SEQUENCE: readonly (Buffer | "step" | number)[] = [
  0,
  frame(ADD | 0, ...f32(0.5), ADD | 1, ...f32(-0.25)),
  frame(1, ...f32(0.75)),
  frame(),
  "step",
  frame(0, ...f32(3), 1, ...f32(Number.NaN)),
  frame(ADD | 1, ...f32(-1), ADD | 1, ...f32(0.125)),
  400,
  frame(0, ...f32(Number.POSITIVE_INFINITY)),
  frame(0, ...f32(-0.5)),
  frame(1, ...f32(1e-30)),
  frame(),
  frame(0, ...f32(0.1)),
  "step",
  "step",
  // Refused by the gate; reaching the room, they take Colyseus's way in both.
  frame(0, ...f32(0.2), 1, ...f32(0.2), 0, ...f32(0.2)),
  frame(2, ...f32(0.9)),
  frame(0x40 | 0, ...f32(0.9)),
  frame(0, 1, 2),
  Buffer.from([I | 0x80, 1, 0, 0, 0]),
  Buffer.from([Protocol.PING]),
  1200,
  frame(ADD | 0, ...f32(-0.3)),
  "step",
  frame(1, ...f32(0.4)),
];

describe("reading an input frame without Colyseus's decoder", () => {
  it("leaves the room as Colyseus's own path does, frame by frame, the acknowledgement included", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const colyseus = arenaLike(false);
      const locus = arenaLike(true);
      for (const step of SEQUENCE) {
        for (const room of [colyseus, locus]) {
          if (step === "step") room.room.inputs.get("s1").next();
          else if (typeof step === "number") room.at(step);
          else room.send(step);
        }
        expect(locus.effect()).toEqual(colyseus.effect());
      }
      expect(colyseus.effect().received).toBe(17);
      expect(colyseus.effect().consumed).toBeGreaterThan(4);
      // Every well-formed input skipped the decoder; the frames the gate refuses did not.
      expect(colyseus.decodes()).toBe(17);
      expect(locus.decodes()).toBe(5);
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });

  it("leaves a leaving client's frames, and a room with a message limit, to Colyseus", () => {
    const leaving = arenaLike(true);
    (leaving.client as unknown as { state: ClientState }).state = ClientState.LEAVING;
    leaving.send(frame(0, ...f32(0.5)));
    expect(leaving.effect().received).toBeUndefined();
    expect(leaving.effect().lastMessageTime).toBeUndefined();

    const limited = arenaLike(true);
    limited.room.maxMessagesPerSecond = 100;
    limited.send(frame(0, ...f32(0.5)));
    expect(limited.decodes()).toBe(1);
    expect(limited.effect().latest).toEqual({ x: 0.5, y: 0 });
  });

  it("reads every fixed-size primitive as the schema decoder does", () => {
    const Wide = schema(
      { a: t.int8(), b: t.uint16(), c: t.int32(), d: t.float64(), e: t.boolean(), f: t.uint8(), g: t.float32(), h: t.uint32() },
      "InputFrameReaderWide",
    );
    const read = inputFrameReader(Wide);
    const body = Buffer.alloc(33);
    let o = 0;
    body[o++] = ADD | 0;
    body.writeInt8(-7, o++);
    body[o++] = 1;
    body.writeUInt16LE(65_000, o);
    o += 2;
    body[o++] = 2;
    body.writeInt32LE(-2_000_000_000, o);
    o += 4;
    body[o++] = 3;
    body.writeDoubleLE(Math.PI, o);
    o += 8;
    body[o++] = 4;
    body[o++] = 1;
    body[o++] = 5;
    body[o++] = 200;
    body[o++] = 6;
    body.writeFloatLE(1.1, o);
    o += 4;
    body[o++] = ADD | 7;
    body.writeUInt32LE(4_000_000_000, o);
    const mine = new Wide();
    expect(read(Buffer.concat([Buffer.from([I]), body]), mine)).toBe(true);
    const theirs = new Wide();
    new InputDecoder(theirs).decode(body);
    expect(mine.toJSON()).toEqual(theirs.toJSON());
    expect(mine.toJSON()).toMatchObject({ a: -7, b: 65_000, c: -2_000_000_000, d: Math.PI, e: true, f: 200, h: 4_000_000_000 });
    expect(read(Buffer.from([Protocol.ROOM_DATA, 1]), mine)).toBe(false);
  });
});
