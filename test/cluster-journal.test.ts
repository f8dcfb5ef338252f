/**
 * The input journal on real processes: a node is SIGKILLed under a player who holds her stick
 * right up to the kill, with checkpoints a minute apart; the room comes back on another node
 * replayed to where the dead node stopped, not to its last checkpoint.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { DEFAULT_TICK_HZ, MAX_SPEED } from "../shared/constants.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";

/** How far a body moves in one tick at full speed. */
const ONE_TICK = MAX_SPEED / DEFAULT_TICK_HZ;

describe("crash with the journal on: at most a tick lost", () => {
  let cluster: TestCluster;
  let session: ArenaSession | undefined;
  beforeAll(async () => {
    // A checkpoint a minute: without the journal, the room would come back as of the last seat change.
    cluster = await startCluster(3, { JOURNAL: "on", CHECKPOINT_MS: "60000" });
  });
  afterAll(async () => {
    await session?.leave().catch(() => undefined);
    await cluster?.stop();
  });

  it("resumes a moving player within one tick's travel of the last position her client saw", async () => {
    const eve = (session = await joinArena({ url: cluster.gateway.url, name: "Eve" }));
    await waitFor(() => eve.state?.players?.has(eve.sessionId) === true, 5000, () => "Eve in her state");
    const owner = eve.state.nodeId;
    let lastSeen = { x: 0, y: 0, tick: 0 };
    let firstAfter: { x: number; y: number; tick: number } | undefined;
    eve.room.onStateChange((state) => {
      const me = state.players.get(eve.sessionId);
      if (!me) return;
      if (state.nodeId === owner) lastSeen = { x: me.x, y: me.y, tick: state.tick };
      else firstAfter ??= { x: me.x, y: me.y, tick: state.tick };
    });
    // Diagonally, from wherever she spawned: she is still moving, far from a wall, when the node dies.
    const start = { x: eve.me!.x, y: eve.me!.y };
    eve.stick.x = start.x < 800 ? 1 : -1;
    eve.stick.y = start.y < 500 ? 1 : -1;
    eve.run();
    await waitFor(() => Math.hypot(eve.me!.vx, eve.me!.vy) > MAX_SPEED * 0.6, 5000, () => "Eve moving");
    const redis = new Redis(cluster.redis.redisUrl);
    const checkpointTick = (JSON.parse((await redis.get(keys.checkpoint(eve.room.roomId)))!) as { tick: number }).tick;
    redis.disconnect();

    cluster.node(owner).child.kill("SIGKILL");
    await waitFor(() => firstAfter !== undefined, 10_000, () => `state from a new node\n${cluster.output()}`);
    const resumed = firstAfter!;

    // The checkpoint is from her join; the journal carried everything since.
    expect(lastSeen.tick - checkpointTick).toBeGreaterThan(3);
    expect(resumed.tick).toBeGreaterThanOrEqual(lastSeen.tick - 1);
    expect(Math.hypot(resumed.x - lastSeen.x, resumed.y - lastSeen.y)).toBeLessThanOrEqual(ONE_TICK + 1e-3);
    const successor = [...cluster.nodes.values()].find((n) => n.output().includes('"event":"journal_replayed"'));
    expect(successor?.output()).toMatch(/"event":"journal_replayed".*"ticksLost":[01][,}]/);
  });
});
