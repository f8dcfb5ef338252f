/**
 * Reads a reliable input frame's fields straight into a client's decoded input, for
 * `readInputFrames`: what Colyseus's schema decoder does with such a frame, without a decoder
 * pass, a `subarray` and its offset objects per input. It takes exactly the frames the frame
 * gate lets through for the input schema (checked here again, so a frame that reached the room
 * another way is no different) and writes each field through its setter with the schema's own
 * primitive decoder, as @colyseus/schema 5.0.34 `decodeSchemaOperation` does; per frame it
 * allocates nothing.
 */
import { Protocol } from "@colyseus/core";
import { decode } from "@colyseus/schema";
import { schemaFields } from "../colyseus-internals.ts";
import { checkFrame, compileFramePolicy } from "../edge/frame-policy.ts";

/** A field write opens with `[op | index]`; the policy lets through ADD and REPLACE, whose low six bits are the index. */
const FIELD_INDEX_MASK = 0x3f;

type PrimitiveDecoder = (bytes: Uint8Array, it: { offset: number }) => unknown;

export type InputFrameReader = (frame: Uint8Array, input: object) => boolean;

export function inputFrameReader(input: abstract new (...args: any[]) => object): InputFrameReader {
  const policy = compileFramePolicy({ input });
  const names: string[] = [];
  const decoders: PrimitiveDecoder[] = [];
  for (const [index, { name, type }] of schemaFields(input)) {
    names[index] = name;
    decoders[index] = (decode as unknown as Record<string, PrimitiveDecoder>)[type as string]!;
  }
  const it = { offset: 0 };
  return (frame, target) => {
    if (frame[0] !== Protocol.ROOM_INPUT_RELIABLE || checkFrame(policy, frame) !== undefined) return false;
    const fields = target as Record<string, unknown>;
    it.offset = 1;
    while (it.offset < frame.length) {
      const index = frame[it.offset++]! & FIELD_INDEX_MASK;
      fields[names[index]!] = decoders[index]!(frame, it);
    }
    return true;
  };
}
