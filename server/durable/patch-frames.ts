/**
 * Sends a room's TIMED patch to every client from one buffer. Colyseus builds each client's frame
 * in a buffer of its own and hands it to ws, which allocates a header and its options per send
 * and writes header and payload as two chunks; here the patch is framed once per tick, whole
 * websocket frames included, each client's copy differing only in its 4-byte input ack, and each
 * copy goes to its socket in one write. The bytes on the wire are the same as Colyseus's and ws's.
 */
import { type Client, ClientState } from "@colyseus/core";
import { frameSocketOf, inputAckOf } from "../colyseus-internals.ts";

/** ws frame: FIN and the binary opcode. */
const FIN_BINARY = 0x82;
/** The Colyseus TIMED bit, set on the frame's code byte. */
const TIMED = 0x80;
/** `[code | TIMED][uint32 sNow][uint32 ack]` before the schema bytes. */
const TIMED_PREFIX = 9;

function headerBytes(messageBytes: number): number {
  return messageBytes <= 125 ? 2 : messageBytes <= 0xffff ? 4 : 10;
}

/**
 * Writes `body` (`[code][changes]`, see routeTimedPatches) to every joined client as its TIMED
 * frame; returns the message bytes written past ws (a client's `raw` counts its own).
 */
export function sendTimedPatch(clients: readonly Client[], body: Uint8Array, sNow: number): number {
  const messageBytes = body.length - 1 + TIMED_PREFIX;
  const header = headerBytes(messageBytes);
  const frameBytes = header + messageBytes;
  let joined = 0;
  for (let i = 0; i < clients.length; i++) if (clients[i]!.state === ClientState.JOINED) joined++;
  if (joined === 0) return 0;
  const frames = Buffer.allocUnsafe(frameBytes * joined);
  // The first frame is written whole; the others are copies of it with their own ack.
  frames[0] = FIN_BINARY;
  if (header === 2) {
    frames[1] = messageBytes;
  } else if (header === 4) {
    frames[1] = 126;
    frames.writeUInt16BE(messageBytes, 2);
  } else {
    frames[1] = 127;
    frames.writeUInt32BE(0, 2);
    frames.writeUInt32BE(messageBytes, 6);
  }
  frames[header] = body[0]! | TIMED;
  frames.writeUInt32LE(sNow >>> 0, header + 1);
  frames.set(body.subarray(1), header + TIMED_PREFIX);
  for (let n = 1; n < joined; n++) frames.copyWithin(n * frameBytes, 0, frameBytes);
  let at = 0;
  let written = 0;
  for (let i = 0; i < clients.length; i++) {
    const client = clients[i]!;
    if (client.state !== ClientState.JOINED) continue;
    frames.writeUInt32LE(inputAckOf(client) >>> 0, at + header + 5);
    const socket = frameSocketOf(client);
    const frame = frames.subarray(at, at + frameBytes);
    if (socket) {
      socket.write(frame);
      written += messageBytes;
    } else {
      // A socket ws is not idle on (closing, or a queued send) takes the message through ws.
      client.raw(frame.subarray(header));
    }
    at += frameBytes;
  }
  return written;
}
