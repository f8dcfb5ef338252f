/**
 * A room's owner lease holds `"{nodeId} {epoch}"`. Every reader splits it here, and the Lua
 * scripts (redis-scripts.ts, OWNER_OF) read it by the same pattern: a value that does not match
 * is no valid owner.
 */
import type { BadRecordSink } from "./bad-records.ts";
import { keys } from "./redis-keys.ts";
import { readBounded, type ScriptedRedis } from "./redis-scripts.ts";

export interface Owner {
  readonly nodeId: string;
  readonly epoch: number;
}

/** Longest valid owner value: a 64-character node id, a space and a 15-digit epoch. */
export const MAX_OWNER_BYTES = 80;
const OWNER = /^([A-Za-z0-9._-]{1,64}) ([1-9][0-9]{0,14})$/;

/** The owner a lease names, or undefined for a value that is no valid owner. */
export function parseOwner(value: string): Owner | undefined {
  const m = OWNER.exec(value);
  return m ? { nodeId: m[1]!, epoch: Number(m[2]) } : undefined;
}

/**
 * The owners of these rooms: undefined for a room without one, and for one whose lease is not a
 * valid owner value (reported to `bad`), which every caller may treat as no owner: the claim
 * scripts do too, so such a room is taken over and rebuilt from its checkpoint.
 */
export async function readOwners(redis: ScriptedRedis, roomIds: readonly string[], bad: BadRecordSink): Promise<(Owner | undefined)[]> {
  const values = await readBounded(redis, roomIds.map(keys.owner), MAX_OWNER_BYTES);
  return values.map((value, i) => {
    if (value.status === "missing") return undefined;
    const key = keys.owner(roomIds[i]!);
    if (value.status === "ok") {
      const owner = parseOwner(value.text);
      if (!owner) bad.report("owner", key, value.text, 'not "{nodeId} {epoch}"');
      return owner;
    }
    bad.report("owner", key, undefined, value.status === "wrong_type" ? `a ${value.type}, not a string` : `${value.bytes} bytes, over ${MAX_OWNER_BYTES}`);
    return undefined;
  });
}
