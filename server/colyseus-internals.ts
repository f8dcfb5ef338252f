/**
 * Every Colyseus internal Locus relies on (a private field or undocumented behaviour), one small
 * function each, so that an upgrade of Colyseus breaks here and nowhere else.
 */
import type { Room } from "@colyseus/core";

/** What `room.inputs.get(sessionId)` returns; only its private link to the client's buffer is used here. */
interface InputAccessorInternals {
  readonly _client: { readonly _inputBuffer?: { consumedCount: number } };
}

/**
 * Moves the input acknowledgement a client's patches carry by `by` inputs, without consuming or
 * simulating anything. Read from @colyseus/core 0.18.17: on the reliable channel the TIMED patch
 * header's ack is `client._inputBuffer.consumedCount` (SchemaSerializer `clientProcessedInputSeq`
 * → InputBuffer `ackSeq`), a field the public accessor (`inputs.get(id).consumedCount`) only reads,
 * and which `next()` raises by one per input it hands out.
 */
export function shiftInputAck(inputs: unknown, by: number): void {
  const buffer = (inputs as InputAccessorInternals)._client._inputBuffer;
  if (buffer) buffer.consumedCount += by;
}

/**
 * Sends the room's patch stamped with `serverMs` as its server time. Read from @colyseus/core
 * 0.18.17: `Room.broadcastPatch` stamps every TIMED frame with `room.clock.elapsedTime` read as it
 * starts (the stamp the SDK's clock and interpolation are built on), and nothing else it does in
 * that call reads the clock; the clock is put back at once.
 */
export function broadcastPatchStampedAt(room: Room, serverMs: number): void {
  const clock = room.clock;
  const real = clock.elapsedTime;
  clock.elapsedTime = serverMs;
  try {
    room.broadcastPatch();
  } finally {
    clock.elapsedTime = real;
  }
}
