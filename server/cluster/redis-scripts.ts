/**
 * The Lua scripts that make room ownership safe: each runs atomically inside Redis, so a check of
 * the owner and the write it guards can never be split by another node's claim.
 *
 * An owner value is `"{nodeId} {epoch}"`. The epoch only grows (INCR on every claim), so a node
 * that lost its room can be told apart from the new owner even when both say the same node id.
 */
import type { Redis } from "ioredis";

/**
 * claim(owner, epoch, rooms; roomId, nodeId, leaseMs, mode, nodeKeyPrefix, seenHeartbeat)
 *   -> new epoch, or 0 when refused.
 * mode "new": the room must not exist anywhere (no owner, not among the live rooms): creating a
 * room with a chosen id.
 * mode "orphan": the owner lease must have lapsed.
 * mode "dead": the owner lease may still run, but its node stopped beating and its port refused a
 * connection. Refused when the node has beaten since the claimer looked (its record's heartbeat
 * is no longer `seenHeartbeat`, 0 meaning the record was gone): then it is alive after all.
 */
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
local mode = ARGV[4]
if mode == 'new' then
  if owner or redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
elseif mode == 'orphan' then
  if owner then return 0 end
elseif mode == 'dead' then
  if owner then
    local ownerNode = string.match(owner, '^(%S+)')
    local record = redis.call('GET', ARGV[5] .. ownerNode)
    local beat = 0
    if record then beat = cjson.decode(record).heartbeatAt end
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
 * renew(owner, epoch, rooms; roomId, nodeId, epoch, leaseMs) -> 1 renewed, 0 fenced off.
 * A lapsed lease is taken back when nobody claimed since (the epoch counter is not past ours):
 * that is a short Redis outage or restart, not a takeover. A restarted, empty Redis has no
 * counter at all, so the owner writes its epoch back.
 */
const RENEW = `
local mine = ARGV[2] .. ' ' .. ARGV[3]
local owner = redis.call('GET', KEYS[1])
if owner == mine then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
if owner then return 0 end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], mine, 'PX', ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** writeCheckpoint(owner, checkpoint; nodeId, epoch, data) -> 1 written, 0 fenced off. */
const WRITE_CHECKPOINT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
return 1
`;

/**
 * yield(owner, epoch; nodeId, epoch) -> 1 when the lease was given up, 0 when not ours. Keeps the
 * checkpoint and the room's membership, so the next claim (mode "orphan") rebuilds the room from
 * exactly the checkpoint the owner wrote last: how a draining node hands a room on. The epoch
 * moves on, so a renewal of the given-up lease still in flight cannot take it back.
 */
const YIELD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return 1
`;

/**
 * release(owner, epoch, checkpoint, rooms; roomId, nodeId, epoch) -> 1 released, 0 not the owner.
 * The epoch outlives the room for a minute, one past the owner's, so a renewal still in flight
 * cannot bring the room back as a lease with no checkpoint.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[2] .. ' ' .. ARGV[3] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('SET', KEYS[2], tonumber(ARGV[3]) + 1, 'PX', 60000)
redis.call('SREM', KEYS[4], ARGV[1])
return 1
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
  ): Promise<number>;
  locusRenew(owner: string, epoch: string, rooms: string, roomId: string, nodeId: string, ownEpoch: number, leaseMs: number): Promise<number>;
  locusWriteCheckpoint(owner: string, checkpoint: string, nodeId: string, ownEpoch: number, data: string): Promise<number>;
  locusRelease(owner: string, epoch: string, checkpoint: string, rooms: string, roomId: string, nodeId: string, ownEpoch: number): Promise<number>;
  locusYield(owner: string, epoch: string, nodeId: string, ownEpoch: number): Promise<number>;
}

export type ScriptedRedis = Redis & LocusScripts;

/** Registers the scripts on a connection (EVALSHA, loaded on first use). */
export function withScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand("locusClaim", { numberOfKeys: 3, lua: CLAIM });
  redis.defineCommand("locusRenew", { numberOfKeys: 3, lua: RENEW });
  redis.defineCommand("locusWriteCheckpoint", { numberOfKeys: 2, lua: WRITE_CHECKPOINT });
  redis.defineCommand("locusRelease", { numberOfKeys: 4, lua: RELEASE });
  redis.defineCommand("locusYield", { numberOfKeys: 2, lua: YIELD });
  return redis as ScriptedRedis;
}
