/**
 * The Lua scripts that make room ownership safe: each runs atomically inside Redis, so a check of
 * the owner and the write it guards can never be split by another node's claim.
 *
 * An owner value is `"{nodeId} {epoch}"`. The epoch only grows (INCR on every claim), so a node
 * that lost its room can be told apart from the new owner even when both say the same node id.
 *
 * On a Redis Cluster a script may touch the keys of one slot only, and each room's keys are a slot
 * of their own (redis-keys.ts). By what they touch:
 *
 * | scripts | keys | on a Cluster |
 * | --- | --- | --- |
 * | writeCheckpoint, writeCheckpointTrim, readJournal, yield | one room's | run |
 * | appendJournals, readBounded | any rooms' | run when called with one room's keys at a time, as ownership.ts and readBounded do on a Cluster |
 * | claim, renew, release, quarantine | one room's and `locus:rooms` (claim "dead" also reads a node record) | refused (CROSSSLOT): they stay on a plain Redis (docs/architecture.md, "Redis Cluster") |
 * | readNodes | `locus:nodes` and every node record | refused |
 */
import type { Cluster, Redis } from "ioredis";

/**
 * Prepended to every script that reads an owner lease. Redis content is untrusted: an owner value
 * that is not `"{nodeId} {epoch}"` (or a key of another type) is no valid owner, which is what
 * lets a room with a corrupted lease be claimed and rebuilt rather than stay stuck behind it.
 * The pattern is the one `parseOwner` (owner-value.ts) applies.
 */
const OWNER_OF = `
local function ownerOf(key)
  local v = redis.pcall('GET', key)
  if type(v) ~= 'string' then return false end
  local id, epoch = string.match(v, '^([%w%._%-]+) ([1-9]%d*)$')
  if id and #id <= 64 and #epoch <= 15 then return v end
  return false
end
`;

/**
 * claim(owner, epoch, rooms; roomId, nodeId, leaseMs, mode, nodeKeyPrefix, seenHeartbeat, maxRecordBytes)
 *   -> new epoch, or 0 when refused.
 * mode "new": the room must not exist anywhere (no owner, not among the live rooms): creating a
 * room with a chosen id.
 * mode "orphan": the owner lease must have lapsed.
 * mode "dead": the owner lease may still run, but its node stopped beating and its port refused a
 * connection. Refused when the node has beaten since the claimer looked (its record's heartbeat
 * is no longer `seenHeartbeat`, 0 meaning the record was gone): then it is alive after all.
 * Both take over a live room only: one released since the claimer listed the live rooms has
 * ended, and claiming it would bring it back without a checkpoint.
 */
const CLAIM = `${OWNER_OF}
local owner = ownerOf(KEYS[1])
local mode = ARGV[4]
local live = redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1
if mode == 'new' then
  if owner or live then return 0 end
elseif not live then
  return 0
elseif mode == 'orphan' then
  if owner then return 0 end
elseif mode == 'dead' then
  if owner then
    local ownerNode = string.match(owner, '^(%S+)')
    local beat = 0
    local record = redis.pcall('GET', ARGV[5] .. ownerNode)
    -- A record that is not one (junk, too large, another type) shows no heartbeat, as readNodes skips it.
    if type(record) == 'string' and #record <= tonumber(ARGV[7]) then
      local ok, decoded = pcall(cjson.decode, record)
      if ok and type(decoded) == 'table' and type(decoded.heartbeatAt) == 'number' then beat = decoded.heartbeatAt end
    end
    if beat ~= tonumber(ARGV[6]) then return 0 end
  end
else
  return redis.error_reply('unknown claim mode ' .. mode)
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. epoch, 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return epoch
`;

/**
 * renew(owner, epoch, rooms; roomId, nodeId, epoch, leaseMs) -> 1 renewed, 0 fenced off, or
 * RENEWED_OVER_BAD_VALUE when the lease held something that is no owner value (junk, or a key of
 * another type) and was taken back over it. A lapsed lease is taken back when nobody claimed
 * since (the epoch counter is not past ours): that is a short Redis outage or restart, not a
 * takeover. A restarted, empty Redis has no counter at all, so the owner writes its epoch back.
 */
const RENEW = `${OWNER_OF}
local mine = ARGV[2] .. ' ' .. ARGV[3]
local owner = ownerOf(KEYS[1])
if owner == mine then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
if owner then return 0 end
local bad = redis.call('EXISTS', KEYS[1]) == 1
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], mine, 'PX', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
if bad then return 2 end
return 1
`;

/** What `renew` answers when it took its lease back over a value that is no owner. */
export const RENEWED_OVER_BAD_VALUE = 2;

/** writeCheckpoint(owner, checkpoint; nodeId, epoch, data) -> 1 written, 0 fenced off. */
const WRITE_CHECKPOINT = `${OWNER_OF}
if ownerOf(KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
return 1
`;

/**
 * writeCheckpointTrim(owner, checkpoint, journal; nodeId, epoch, data, seq) -> 1 written, 0 not
 * the owner. A checkpoint write that also trims the room's journal (journal.ts) behind it: batches
 * whose last record (the list item's second number) the checkpoint's state holds are dropped from
 * the head. Batches are pushed in order, so the first one past `seq` ends the trim.
 */
const WRITE_CHECKPOINT_TRIM = `${OWNER_OF}
if ownerOf(KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
if redis.call('TYPE', KEYS[3]).ok ~= 'list' then return 1 end
local seq = tonumber(ARGV[4])
while true do
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head then break end
  local last = tonumber(string.match(head, '^%[%d+,(%d+),'))
  if last and last > seq then break end
  redis.call('LPOP', KEYS[3])
end
return 1
`;

/**
 * appendJournals(owner1, journal1, owner2, journal2, ...; nodeId, maxBatches, ttlMs, epoch1,
 * batch1, epoch2, batch2, ...) -> per room, 1 appended or 0 refused. One node's journal batches
 * for every room it recorded since its last write, in one call: each is appended only while the
 * node holds the room's lease under that epoch, so a zombie's records are refused. A journal is
 * capped at `maxBatches` (its oldest dropped, which a replay sees as a gap) and lapses `ttlMs`
 * after its last append.
 */
const APPEND_JOURNALS = `${OWNER_OF}
local out = {}
local max = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local journal = KEYS[2 * i]
  local t = redis.call('TYPE', journal).ok
  if ownerOf(KEYS[2 * i - 1]) == ARGV[1] .. ' ' .. ARGV[2 + 2 * i] and (t == 'none' or t == 'list') then
    if redis.call('RPUSH', journal, ARGV[3 + 2 * i]) > max then redis.call('LTRIM', journal, -max, -1) end
    redis.call('PEXPIRE', journal, ARGV[3])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

/**
 * readJournal(journal; maxBytes) -> {'ok', batch...}, {'none'}, {'type', type} or {'size', bytes}:
 * a room's journal, transferred only when its batches add up to at most `maxBytes`.
 */
const READ_JOURNAL = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {'none'} end
if t ~= 'list' then return {'type', t} end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local n = 0
for _, item in ipairs(items) do n = n + #item end
if n > tonumber(ARGV[1]) then return {'size', n} end
table.insert(items, 1, 'ok')
return items
`;

/**
 * yield(owner, epoch; nodeId, epoch) -> 1 when the lease was given up, 0 when not ours. Keeps the
 * checkpoint and the room's membership, so the next claim (mode "orphan") rebuilds the room from
 * exactly the checkpoint the owner wrote last: how a draining node hands a room on. The epoch
 * moves on, so a renewal of the given-up lease still in flight cannot take it back.
 */
const YIELD = `${OWNER_OF}
if ownerOf(KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return 1
`;

/**
 * release(owner, epoch, checkpoint, rooms; roomId, nodeId, epoch) -> 1 released, 0 not the owner.
 * The epoch outlives the room for a minute, one past the owner's, so a renewal still in flight
 * cannot bring the room back as a lease with no checkpoint.
 */
const RELEASE = `${OWNER_OF}
if ownerOf(KEYS[1]) ~= ARGV[2] .. ' ' .. ARGV[3] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('SET', KEYS[2], tonumber(ARGV[3]) + 1, 'PX', 60000)
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`;

/**
 * quarantine(owner, epoch, checkpoint, rooms, quarantine; roomId, nodeId, epoch, ttlMs) -> 1, or 0
 * when not the owner. A release that keeps the checkpoint nobody could rebuild the room from: it
 * is renamed to the quarantine key (whatever its type or size, without copying it) for an
 * operator to inspect until the TTL runs out, and the room leaves the live rooms, so no node
 * claims it again.
 */
const QUARANTINE = `${OWNER_OF}
if ownerOf(KEYS[1]) ~= ARGV[2] .. ' ' .. ARGV[3] then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[5])
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], tonumber(ARGV[3]) + 1, 'PX', 60000)
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`;

/**
 * What a bounded read answers for one key: `{'ok', value}`, `{'none'}`, `{'type', type}` for a
 * key that holds no string, `{'size', bytes}` for a value over the limit, which never leaves Redis.
 */
const BOUNDED = `
local function bounded(key, max)
  local t = redis.call('TYPE', key).ok
  if t == 'none' then return {'none'} end
  if t ~= 'string' then return {'type', t} end
  local n = redis.call('STRLEN', key)
  if n > max then return {'size', n} end
  return {'ok', redis.call('GET', key)}
end
`;

/** readBounded(keys...; maxBytes) -> one bounded answer per key. */
const READ_BOUNDED = `${BOUNDED}
local out = {}
for i, key in ipairs(KEYS) do out[i] = bounded(key, tonumber(ARGV[1])) end
return out
`;

/**
 * readNodes(nodes; nodeKeyPrefix, maxIdBytes, maxRecordBytes) -> {id, answer...} for every member
 * of the node set, each record read bounded; an id too long to be a node id comes back as
 * {prefix, 'id', length} without its record being read. Members whose record is gone (lapsed)
 * are dropped from the set.
 */
const READ_NODES = `${BOUNDED}
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if #id > tonumber(ARGV[2]) then
    out[#out + 1] = {string.sub(id, 1, tonumber(ARGV[2])), 'id', #id}
  else
    local answer = bounded(ARGV[1] .. id, tonumber(ARGV[3]))
    if answer[1] == 'none' then
      redis.call('SREM', KEYS[1], id)
    else
      out[#out + 1] = {id, answer[1], answer[2]}
    end
  end
end
return out
`;

export type ClaimMode = "new" | "orphan" | "dead";

export interface LocusScripts {
  locusClaim(
    owner: string,
    epoch: string,
    rooms: string,
    roomId: string,
    nodeId: string,
    leaseMs: number,
    mode: ClaimMode,
    nodeKeyPrefix: string,
    seenHeartbeat: number,
    maxRecordBytes: number,
  ): Promise<number>;
  locusRenew(owner: string, epoch: string, rooms: string, roomId: string, nodeId: string, ownEpoch: number, leaseMs: number): Promise<number>;
  locusWriteCheckpoint(owner: string, checkpoint: string, nodeId: string, ownEpoch: number, data: string): Promise<number>;
  locusWriteCheckpointTrim(owner: string, checkpoint: string, journal: string, nodeId: string, ownEpoch: number, data: string, seq: number): Promise<number>;
  locusAppendJournals(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
  locusReadJournal(journal: string, maxBytes: number): Promise<["ok", ...string[]] | ["none"] | ["type", string] | ["size", number]>;
  locusRelease(owner: string, epoch: string, checkpoint: string, rooms: string, roomId: string, nodeId: string, ownEpoch: number): Promise<number>;
  locusYield(owner: string, epoch: string, nodeId: string, ownEpoch: number): Promise<number>;
  locusQuarantine(
    owner: string,
    epoch: string,
    checkpoint: string,
    rooms: string,
    quarantine: string,
    roomId: string,
    nodeId: string,
    ownEpoch: number,
    ttlMs: number,
  ): Promise<number>;
  locusReadBounded(numberOfKeys: number, ...keysThenMaxBytes: (string | number)[]): Promise<RawBounded[]>;
  locusReadNodes(nodes: string, nodeKeyPrefix: string, maxIdBytes: number, maxRecordBytes: number): Promise<[string, ...RawBounded][]>;
}

type RawBounded = ["ok", string] | ["none"] | ["type", string] | ["size", number] | ["id", number];

/** A value read with a bound on its size: only an "ok" one was transferred. */
export type Bounded =
  | { readonly status: "ok"; readonly text: string }
  | { readonly status: "missing" }
  | { readonly status: "wrong_type"; readonly type: string }
  | { readonly status: "too_large"; readonly bytes: number };

function decodeBounded(raw: RawBounded): Bounded {
  switch (raw[0]) {
    case "ok":
      return { status: "ok", text: raw[1] };
    case "type":
      return { status: "wrong_type", type: raw[1] };
    case "none":
      return { status: "missing" };
    default:
      return { status: "too_large", bytes: raw[1] };
  }
}

/** Reads string keys, each only when it is at most `maxBytes` long: in one call, or on a Cluster one call a key. */
export async function readBounded(redis: ScriptedRedis, keys: readonly string[], maxBytes: number): Promise<Bounded[]> {
  if (keys.length === 0) return [];
  const raw = redis.isCluster
    ? (await Promise.all(keys.map((key) => redis.locusReadBounded(1, key, maxBytes)))).flat()
    : await redis.locusReadBounded(keys.length, ...keys, maxBytes);
  return raw.map(decodeBounded);
}

/** Every member of the node set with its record read bounded; an id longer than `maxIdBytes` comes back cut, as `bad_id`. */
export async function readNodeRecords(
  redis: ScriptedRedis,
  nodesKey: string,
  nodeKeyPrefix: string,
  maxIdBytes: number,
  maxRecordBytes: number,
): Promise<{ readonly id: string; readonly record: Bounded | { readonly status: "bad_id"; readonly bytes: number } }[]> {
  const rows = await redis.locusReadNodes(nodesKey, nodeKeyPrefix, maxIdBytes, maxRecordBytes);
  return rows.map(([id, ...answer]) => ({ id, record: answer[0] === "id" ? { status: "bad_id", bytes: answer[1] } : decodeBounded(answer as RawBounded) }));
}

/** A plain Redis, or a Redis Cluster for the scripts that run on one (the table above). */
export type ScriptedRedis = (Redis | Cluster) & LocusScripts;

/** Registers the scripts on a connection (EVALSHA, loaded on first use). */
export function withScripts<R extends Redis | Cluster>(redis: R): R & LocusScripts {
  redis.defineCommand("locusClaim", { numberOfKeys: 3, lua: CLAIM });
  redis.defineCommand("locusRenew", { numberOfKeys: 3, lua: RENEW });
  redis.defineCommand("locusWriteCheckpoint", { numberOfKeys: 2, lua: WRITE_CHECKPOINT });
  redis.defineCommand("locusWriteCheckpointTrim", { numberOfKeys: 3, lua: WRITE_CHECKPOINT_TRIM });
  redis.defineCommand("locusAppendJournals", { lua: APPEND_JOURNALS });
  redis.defineCommand("locusReadJournal", { numberOfKeys: 1, lua: READ_JOURNAL });
  redis.defineCommand("locusRelease", { numberOfKeys: 4, lua: RELEASE });
  redis.defineCommand("locusYield", { numberOfKeys: 2, lua: YIELD });
  redis.defineCommand("locusQuarantine", { numberOfKeys: 5, lua: QUARANTINE });
  redis.defineCommand("locusReadBounded", { lua: READ_BOUNDED });
  redis.defineCommand("locusReadNodes", { numberOfKeys: 1, lua: READ_NODES });
  return redis as R & LocusScripts;
}
