/**
 * Every Redis key and channel Locus uses, in one place. Colyseus's RedisPresence and RedisDriver
 * keep their own keys beside these (`roomcaches`, `roomcount`, `ch:*`, `swept:*`, `p:*`, `$*`).
 *
 * A room's keys carry its id as a Redis Cluster hash tag (`{roomId}`, braces included in the
 * name), so all of them sit in one slot and a script may touch them together on a Cluster.
 * `locus:rooms`, `locus:nodes` and the node records are global: a script that touches one of them
 * with a room's keys runs on a plain Redis only (redis-scripts.ts says which do). Room ids are
 * `[A-Za-z0-9_-]` (the transport routes no other), so the tag is always the whole id. Below, the
 * braces of a room key are literal and `<...>` stands for an id.
 *
 * | key | type | holds | lifetime |
 * | --- | --- | --- | --- |
 * | `locus:node:<nodeId>` | string (JSON NodeRecord) | a node's address, state and load | PX = node TTL, refreshed by its heartbeat |
 * | `locus:nodes` | set | ids of nodes that have registered | members dropped when their record is gone |
 * | `locus:rooms` | set | ids of rooms that live somewhere in the cluster | member removed when a room is disposed |
 * | `locus:room:{<roomId>}:owner` | string `"{nodeId} {epoch}"` | the room's owner lease | PX = room lease, renewed by the owner |
 * | `locus:room:{<roomId>}:epoch` | string (integer) | the fencing epoch, +1 on every claim and hand-off | while the room lives, and a minute after |
 * | `locus:room:{<roomId>}:checkpoint` | string (JSON Checkpoint) | the room's last checkpoint | while the room lives |
 * | `locus:room:{<roomId>}:journal:<journalId>` | list (JSON batches, journal.ts) | what the room's step consumed since its last checkpoint, one batch per room per node write | trimmed by each checkpoint; PX = JOURNAL_TTL_MS after the last append |
 * | `locus:quarantine:{<roomId>}` | whatever the checkpoint key held | a checkpoint no node could rebuild the room from, kept for inspection | PX = QUARANTINE_TTL_MS (a day) |
 *
 * | channel | message |
 * | --- | --- |
 * | `locus:ownership` | JSON `{ roomId, nodeId, epoch }` when a room gets a new owner; gateways wake the players they hold for it and cut sockets that still lead to the old one; a draining node learns its room arrived |
 * | `locus:rehydrate` | JSON `{ roomId }` from a gateway holding a player for a room no node owns; every node scans for orphans at once |
 * | `locus:adopt` | JSON `{ roomId, nodeId }` from a draining node that just gave up the room's lease: that node rebuilds it |
 */

const PREFIX = "locus:";

export const keys = {
  node: (nodeId: string) => `${PREFIX}node:${nodeId}`,
  nodes: `${PREFIX}nodes`,
  rooms: `${PREFIX}rooms`,
  owner: (roomId: string) => `${PREFIX}room:{${roomId}}:owner`,
  epoch: (roomId: string) => `${PREFIX}room:{${roomId}}:epoch`,
  checkpoint: (roomId: string) => `${PREFIX}room:{${roomId}}:checkpoint`,
  journal: (roomId: string, journalId: string) => `${PREFIX}room:{${roomId}}:journal:${journalId}`,
  quarantine: (roomId: string) => `${PREFIX}quarantine:{${roomId}}`,
} as const;

/**
 * A room's owner lease as releases before the hash tags named it. Only ever read, when a node
 * starts: a live one means nodes of such a release run on this Redis, and the two cannot share
 * rooms (each would take the other's for orphans), so the node refuses to start (docs/deploy.md).
 */
export const olderOwnerKey = (roomId: string) => `${PREFIX}room:${roomId}:owner`;

/** How long a quarantined checkpoint is kept for an operator to look at. */
export const QUARANTINE_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A journal outlives its last append this long: past any rehydration, which claims an orphan
 * within seconds, and short enough that one left by an ended room goes soon.
 */
export const JOURNAL_TTL_MS = 10 * 60 * 1000;

export const channels = {
  ownership: `${PREFIX}ownership`,
  rehydrate: `${PREFIX}rehydrate`,
  adopt: `${PREFIX}adopt`,
} as const;

/** What `locus:ownership` carries. */
export interface OwnershipChange {
  readonly roomId: string;
  readonly nodeId: string;
  readonly epoch: number;
}

/** What `locus:rehydrate` carries: a gateway holding a socket for a room that no node owns. */
export interface RehydrateRequest {
  readonly roomId: string;
}

/** What `locus:adopt` carries: the room a draining node handed on, and the node chosen to take it. */
export interface AdoptRequest {
  readonly roomId: string;
  readonly nodeId: string;
}

/**
 * The distributed load tester's keys (`npm run loadtest -- agent`), in whatever Redis its
 * coordinator names (best one of its own, or another database: its traffic is not the cluster's).
 *
 * | key | type | holds | lifetime |
 * | --- | --- | --- | --- |
 * | `locus-loadtest:agents` | set | ids of agents waiting for work | an agent adds itself while idle; a coordinator claims one by removing it |
 * | `locus-loadtest:agent:{agentId}` | string (JSON) | a live agent's host and worker count | PX 5 s, refreshed every second |
 * | `locus-loadtest:agent:{agentId}:inbox` | list (JSON) | the agent's orders, then its coordinator's requests | expires 10 min after the last push |
 * | `locus-loadtest:run:{runId}:outbox` | list (JSON) | every agent's answers to its coordinator | expires 10 min after the last push |
 */
const LOADTEST_PREFIX = "locus-loadtest:";

export const loadtestKeys = {
  agents: `${LOADTEST_PREFIX}agents`,
  agent: (agentId: string) => `${LOADTEST_PREFIX}agent:${agentId}`,
  inbox: (agentId: string) => `${LOADTEST_PREFIX}agent:${agentId}:inbox`,
  outbox: (runId: string) => `${LOADTEST_PREFIX}run:${runId}:outbox`,
} as const;
