/**
 * The one-buffer patch path sends each client the very bytes Colyseus's own path would: the same
 * message through ws's framing, with the client's own input ack.
 */
import { type Client, ClientState, SchemaSerializer } from "@colyseus/core";
import { schema, t } from "@colyseus/schema";
import { describe, expect, it } from "vitest";
import { routeTimedPatches } from "../colyseus-internals.ts";
import { sendTimedPatch } from "./patch-frames.ts";

const Dot = schema({ x: t.float32().default(0), label: t.string().default("") }, "PatchFramesDot");
const World = schema({ dots: t.map(Dot), tick: t.uint32().default(0) }, "PatchFramesWorld");

/** A joined client whose websocket is idle: frames written to its socket, messages sent through ws. */
function client(ack: number, wsIdle = true) {
  const written: Buffer[] = [];
  const sent: Buffer[] = [];
  const ref = {
    readyState: 1,
    _socket: { write: (b: Uint8Array) => written.push(Buffer.from(b)) },
    _extensions: {},
    _sender: { _state: wsIdle ? 0 : 1, _queue: [], _firstFragment: true },
  };
  const c = { state: ClientState.JOINED, _inputBuffer: { ackSeq: ack }, ref, raw: (b: Uint8Array) => sent.push(Buffer.from(b)) };
  return { client: c as unknown as Client, written, sent };
}

/** Two rooms' serializers fed the same changes: one patches the Colyseus way, one through routeTimedPatches. */
function twins() {
  const make = () => {
    const state = new World();
    const serializer = new SchemaSerializer() as unknown as { reset(s: object): void; applyPatches(c: Client[], s: object, timing?: { sNow: number }): boolean };
    serializer.reset(state);
    return { state, serializer };
  };
  const colyseus = make();
  const locus = make();
  routeTimedPatches({ _serializer: locus.serializer } as never, (clients, body, sNow) => sendTimedPatch(clients, body, sNow));
  return { colyseus, locus, both: (change: (s: InstanceType<typeof World>) => void) => [colyseus, locus].forEach((r) => change(r.state)) };
}

/** The websocket message inside one unmasked server frame. */
function message(frame: Buffer): Buffer {
  expect(frame[0]).toBe(0x82);
  const length = frame[1]!;
  if (length === 126) {
    expect(frame.readUInt16BE(2)).toBe(frame.length - 4);
    return frame.subarray(4);
  }
  expect(length).toBe(frame.length - 2);
  return frame.subarray(2);
}

describe("a TIMED patch sent from one buffer", () => {
  it("gives each client the message Colyseus would, with its own ack, for changes and for a heartbeat", () => {
    const { colyseus, locus, both } = twins();
    both((s) => {
      for (let i = 0; i < 3; i++) s.dots.set(`d${i}`, Object.assign(new Dot(), { x: i * 1.5, label: `dot ${i}` }));
      s.tick = 7;
    });
    const acks = [0, 41, 2 ** 32 - 1];
    for (const sNow of [1234.5, 99_000]) {
      const expected = acks.map((ack) => client(ack));
      const actual = acks.map((ack) => client(ack));
      expect(colyseus.serializer.applyPatches(expected.map((c) => c.client), colyseus.state, { sNow })).toBe(sNow === 1234.5);
      expect(locus.serializer.applyPatches(actual.map((c) => c.client), locus.state, { sNow })).toBe(sNow === 1234.5);
      for (let i = 0; i < acks.length; i++) {
        expect(expected[i]!.sent).toHaveLength(1);
        expect(actual[i]!.sent).toHaveLength(0);
        expect(actual[i]!.written).toHaveLength(1);
        expect(message(actual[i]!.written[0]!)).toEqual(expected[i]!.sent[0]);
      }
    }
  });

  it("frames a message past 125 bytes with a 16-bit length, and sends through ws where ws is busy", () => {
    const { colyseus, locus, both } = twins();
    both((s) => {
      for (let i = 0; i < 20; i++) s.dots.set(`dot-${i}`, Object.assign(new Dot(), { x: i, label: `a longer label ${i}` }));
    });
    const expected = [client(5), client(6)];
    const actual = [client(5), client(6, false)];
    colyseus.serializer.applyPatches(expected.map((c) => c.client), colyseus.state, { sNow: 10 });
    locus.serializer.applyPatches(actual.map((c) => c.client), locus.state, { sNow: 10 });
    expect(expected[0]!.sent[0]!.length).toBeGreaterThan(125);
    expect(message(actual[0]!.written[0]!)).toEqual(expected[0]!.sent[0]);
    expect(actual[1]!.written).toHaveLength(0);
    expect(actual[1]!.sent).toEqual(expected[1]!.sent);
  });

  it("sends nothing to clients not joined yet, as Colyseus does not", () => {
    const { locus, both } = twins();
    both((s) => (s.tick = 1));
    const joining = client(0);
    (joining.client as { state: number }).state = ClientState.JOINING;
    locus.serializer.applyPatches([joining.client], locus.state, { sNow: 1 });
    expect(joining.written).toHaveLength(0);
    expect(joining.sent).toHaveLength(0);
  });
});
