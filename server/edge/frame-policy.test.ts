import { ClientState, Protocol, Room } from "@colyseus/core";
import { decode, schema, t } from "@colyseus/schema";
import { InputEncoder } from "@colyseus/schema/input";
import { pack } from "msgpackr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MoveInput } from "../../shared/schema.ts";
import { ARENA_FRAMES } from "../rooms/arena-room.ts";
import { checkFrame, compileFramePolicy, PROBE_POLICY } from "./frame-policy.ts";

const arena = compileFramePolicy(ARENA_FRAMES);
const withData = compileFramePolicy({ data: true });

/** The 10-byte frame of the issue: unreliable input with the TIMED bit, then a uint32 count k and 4 more bytes. */
function timedUnreliable(k: number): Uint8Array {
  const frame = new Uint8Array(10);
  frame[0] = 0x94;
  frame[1] = 0xce;
  new DataView(frame.buffer).setUint32(2, k, true);
  frame.set([1, 2, 3, 4], 6);
  return frame;
}

function honestInputs(): Uint8Array[] {
  const input = new MoveInput();
  const encoder = new InputEncoder(input, { mode: "reliable" });
  const frames: Uint8Array[] = [];
  const frame = (body: Uint8Array) => Uint8Array.of(Protocol.ROOM_INPUT_RELIABLE, ...body);
  frames.push(frame(encoder.encode()));
  input.x = 0.5;
  frames.push(frame(encoder.encode()));
  frames.push(frame(encoder.encode()));
  input.x = Number.NaN;
  input.y = -1e30;
  frames.push(frame(encoder.encode()));
  return frames;
}

describe("the arena's frame policy", () => {
  it("accepts what the SDK sends: the join ack, leave, ping and reliable inputs of MoveInput", () => {
    for (const frame of [[Protocol.JOIN_ROOM], [Protocol.LEAVE_ROOM], [Protocol.PING], [Protocol.ROOM_INPUT_RELIABLE]]) {
      expect(checkFrame(arena, Uint8Array.from(frame))).toBeUndefined();
    }
    for (const frame of honestInputs()) expect(checkFrame(arena, frame)).toBeUndefined();
  });

  it("refuses the 10-byte frame and every other unreliable input", () => {
    expect(checkFrame(arena, timedUnreliable(1e8))).toBe("unreliable_input");
    expect(checkFrame(arena, Uint8Array.of(Protocol.ROOM_INPUT_UNRELIABLE, 0, 0))).toBe("unreliable_input");
  });

  it("refuses timed inputs: the arena keeps no timeline", () => {
    expect(checkFrame(arena, Uint8Array.of(Protocol.ROOM_INPUT_RELIABLE | 0x80, 0xce, 0xff, 0xff, 0xff, 0xff))).toBe("timed_input");
  });

  it("refuses room messages, requests and raw bytes, which the arena does not use", () => {
    expect(checkFrame(arena, Uint8Array.of(Protocol.ROOM_DATA, 0xa4, 0x6d, 0x6f, 0x76, 0x65))).toBe("unused_type");
    expect(checkFrame(arena, Uint8Array.of(Protocol.ROOM_REQUEST, 1, 0xa1, 0x61))).toBe("unused_type");
    expect(checkFrame(arena, Uint8Array.of(Protocol.ROOM_DATA_BYTES, 0xa1, 0x61))).toBe("unused_type");
  });

  it("refuses protocol bytes clients never send, modifiers on codes that take none, and empty frames", () => {
    for (const byte of [0, 9, Protocol.ERROR, Protocol.ROOM_STATE, Protocol.ROOM_STATE_PATCH, Protocol.ROOM_RESPONSE, 23, 31, 200, 255, Protocol.PING | 0x80, Protocol.JOIN_ROOM | 0x40, Protocol.ROOM_INPUT_RELIABLE | 0x20]) {
      expect(checkFrame(arena, Uint8Array.of(byte)), `byte ${byte}`).toBe("unknown_type");
    }
    expect(checkFrame(arena, new Uint8Array(0))).toBe("empty_frame");
  });

  it("refuses input bodies that are not writes of MoveInput's two float32 fields", () => {
    const input = (...body: number[]) => Uint8Array.of(Protocol.ROOM_INPUT_RELIABLE, ...body);
    const f32 = [0, 0, 0x80, 0x3f];
    const cases = {
      "an unknown field": input(0x82, ...f32),
      "a truncated value": input(0x80, 0, 0),
      "a trailing byte": input(0x80, ...f32, 0),
      "more writes than fields": input(0x80, ...f32, 0x81, ...f32, 0x80, ...f32),
      "a delete": input(0x40, ...f32),
      "a switch to another structure": input(0xff, 0x05),
      "a type id": input(0xd5, 0x01),
    };
    for (const [what, frame] of Object.entries(cases)) expect(checkFrame(arena, frame), what).toBe("malformed_input");
  });
});

describe("other policies", () => {
  it("lets a socket without a room send PINGs only", () => {
    expect(checkFrame(PROBE_POLICY, Uint8Array.of(Protocol.PING))).toBeUndefined();
    expect(checkFrame(PROBE_POLICY, Uint8Array.of(Protocol.JOIN_ROOM))).toBe("unused_type");
    expect(checkFrame(PROBE_POLICY, Uint8Array.of(Protocol.ROOM_INPUT_RELIABLE))).toBe("unused_type");
  });

  it("lets a room that takes messages have them when their type is a short ASCII name or a small number", () => {
    expect(checkFrame(withData, Uint8Array.of(Protocol.ROOM_DATA, 0xa4, 0x6d, 0x6f, 0x76, 0x65, ...pack({ x: 3, y: 4 })))).toBeUndefined();
    expect(checkFrame(withData, Uint8Array.of(Protocol.ROOM_DATA, 7))).toBeUndefined();
    expect(checkFrame(withData, Uint8Array.of(Protocol.ROOM_INPUT_RELIABLE))).toBe("unused_type");
    for (const frame of [[Protocol.ROOM_DATA], [Protocol.ROOM_DATA, 0xa0], [Protocol.ROOM_DATA, 0xa4, 0x6d], [Protocol.ROOM_DATA, 0xa1, 0xff], [Protocol.ROOM_DATA, 0xdb, 0xff, 0xff, 0xff, 0xff], [Protocol.ROOM_DATA, 0xce, 0, 0, 0, 1]]) {
      expect(checkFrame(withData, Uint8Array.from(frame)), JSON.stringify(frame)).toBe("malformed_data");
    }
  });

  it("will not bound an input schema with variable-size fields, rather than let them through unchecked", () => {
    const Chat = schema({ text: t.string() }, "Chat");
    expect(() => compileFramePolicy({ input: Chat })).toThrow(/fixed-size primitive/);
  });
});

/**
 * What an accepted frame costs Colyseus, counted as the primitive reads its decoders make
 * (`decode.*` of @colyseus/schema, which Room._onMessage, RoomInput and RoomMessages call through
 * the exported object). Reaches Colyseus 0.18.17 internals (`_onMessage`, `_inputController`),
 * as only a unit test may.
 */
describe("what an accepted frame can cost Colyseus", () => {
  afterEach(() => vi.restoreAllMocks());

  function colyseusRoom() {
    class Probe extends Room {
      override inputs = this.defineInput(MoveInput, { bufferMaxSize: 32 });
      override onCreate() {
        this.onMessage("*", () => undefined);
      }
    }
    const room = new Probe() as unknown as { onCreate(): void; _onMessage(client: unknown, frame: Buffer): void; _inputController: { allocate(client: unknown): void } };
    room.onCreate();
    const client = { sessionId: "s", state: ClientState.JOINED, raw: () => undefined, enqueueRaw: () => undefined, error: () => undefined, leave: () => undefined, ref: { removeAllListeners: () => undefined, removeListener: () => undefined } };
    room._inputController.allocate(client);
    let reads = 0;
    for (const name of Object.keys(decode) as (keyof typeof decode)[]) {
      const original = decode[name] as (...args: unknown[]) => unknown;
      vi.spyOn(decode, name).mockImplementation(((...args: unknown[]) => {
        reads++;
        return original(...args);
      }) as never);
    }
    return {
      /** Primitive reads Colyseus makes to handle `frame`. */
      cost(frame: Uint8Array): number {
        // A LEAVE_ROOM frame marks the client as leaving, after which Colyseus reads nothing more of it.
        client.state = ClientState.JOINED;
        reads = 0;
        room._onMessage(client, Buffer.from(frame));
        return reads;
      },
    };
  }

  it("without the gate, the 10-byte frame makes Colyseus read k stamps: the cost is k, not the frame's size", () => {
    const colyseus = colyseusRoom();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(colyseus.cost(timedUnreliable(100_000))).toBeGreaterThanOrEqual(100_000);
  });

  /** Random frames of every length up to the size limit, each opened by one of `openers`, and some by `prefix` after it. */
  function* randomFrames(openers: readonly number[], prefix: readonly number[]): Generator<Uint8Array> {
    let seed = 11;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 16) & 0xff;
    for (let n = 0; n < 20_000; n++) {
      const length = n % 3 === 0 ? 1 + (random() % 16) : 1 + ((random() << 3) % 2048);
      const frame = Uint8Array.from({ length }, random);
      frame[0] = openers[n % openers.length]!;
      if (n % 2 === 0) frame.set(prefix.slice(0, length - 1), 1);
      yield frame;
    }
  }

  it("every frame the arena's policy accepts costs at most one read per byte, and logs nothing", () => {
    const colyseus = colyseusRoom();
    const logged = [vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(console, "log")];
    const openers = [Protocol.JOIN_ROOM, Protocol.LEAVE_ROOM, Protocol.PING, Protocol.ROOM_INPUT_RELIABLE, Protocol.ROOM_INPUT_RELIABLE];
    const accepted = new Map<number, number>();
    for (const frame of randomFrames(openers, [0x80, 0, 0, 0, 0x3f, 0x81, 0, 0, 0x80, 0xbf])) {
      if (checkFrame(arena, frame) !== undefined) continue;
      accepted.set(frame[0]!, (accepted.get(frame[0]!) ?? 0) + 1);
      expect(colyseus.cost(frame)).toBeLessThanOrEqual(frame.length);
    }
    for (const opener of openers) expect(accepted.get(opener)).toBeGreaterThan(100);
    for (const spy of logged) expect(spy).not.toHaveBeenCalled();
  });

  it("every message frame a message-taking room's policy accepts costs at most one read per byte", () => {
    const colyseus = colyseusRoom();
    // A payload that is not msgpack closes its sender with 4002, logged once: silence that here.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    let accepted = 0;
    for (const frame of randomFrames([Protocol.ROOM_DATA], [0xa4, 0x6d, 0x6f, 0x76, 0x65])) {
      if (checkFrame(withData, frame) !== undefined) continue;
      accepted++;
      expect(colyseus.cost(frame)).toBeLessThanOrEqual(frame.length);
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it("a message payload's declared lengths are bounded by the frame: msgpack stops at its end", () => {
    const colyseus = colyseusRoom();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const huge = [0xff, 0xff, 0xff, 0xff];
    // array32, map32, str32, bin32 and ext32 each declaring 2^32 - 1 items or bytes, and deep nesting.
    const payloads = [[0xdd, ...huge, 1], [0xdf, ...huge, 1], [0xdb, ...huge, 0x41], [0xc6, ...huge, 0x41], [0xc9, ...huge, 1, 0x41], new Array(2000).fill(0x91)];
    const started = performance.now();
    for (let round = 0; round < 100; round++) {
      for (const payload of payloads) {
        const frame = Uint8Array.of(Protocol.ROOM_DATA, 0xa1, 0x61, ...payload);
        expect(checkFrame(withData, frame)).toBeUndefined();
        expect(colyseus.cost(frame)).toBeLessThanOrEqual(frame.length);
      }
    }
    // 600 such frames in well under a second, where one unbounded count costs a minute.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
