/**
 * docs/durable-rooms.md's example room, as the doc quotes it, on real node processes: players
 * count, the count is checkpointed, the node running the room is SIGKILLed, and the room comes
 * back on the other node into the players' same Room objects with every count they saw.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import "../client/lib/use-ws.ts";
import { Client, type Room } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconnectPromptly } from "../client/lib/reconnection.ts";
import { PAUSED, type TallySnapshot, type TallyState } from "../docs/examples/tally-room.ts";
import { waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { admin, startCluster, type TestCluster } from "./helpers/cluster.ts";

const TALLY_NODE = fileURLToPath(new URL("../docs/examples/tally-node.ts", import.meta.url));
const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8").trim();

it("is quoted whole by docs/durable-rooms.md, so the doc shows the code this test runs", () => {
  const doc = read("../docs/durable-rooms.md");
  for (const file of ["../docs/examples/tally-room.ts", "../docs/examples/tally-node.ts"]) expect(doc).toContain(`\`\`\`ts\n${read(file)}\n\`\`\``);
});

describe("the durable-rooms example", () => {
  let cluster: TestCluster;
  let redis: Redis;
  const rooms: Room<any, TallyState>[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, {}, TALLY_NODE);
    redis = new Redis(cluster.redis.redisUrl);
  });
  afterAll(async () => {
    for (const room of rooms) if (room.connection.isOpen) await room.leave().catch(() => undefined);
    redis?.disconnect();
    await cluster?.stop();
  });

  const killed = new Set<string>();

  async function ownerOf(roomId: string): Promise<string | undefined> {
    for (const [id, node] of cluster.nodes) {
      if (killed.has(id)) continue;
      const rooms = (await admin(node, "GET", "/status")).body.rooms as { roomId: string }[];
      if (rooms.some((r) => r.roomId === roomId)) return id;
    }
    return undefined;
  }

  it("keeps every count its players saw through a SIGKILL of its node", async () => {
    const client = new Client(cluster.gateway.url);
    const ada = await client.joinOrCreate<TallyState>("tally", {});
    const bob = await client.joinById<TallyState>(ada.roomId, {});
    rooms.push(ada, bob);
    for (const room of rooms) reconnectPromptly(room);
    for (let i = 0; i < 3; i++) ada.send("add");
    for (let i = 0; i < 2; i++) bob.send("add");
    await waitFor(() => ada.state.total === 5 && bob.state.total === 5, 5000, () => "both players see 5");

    // What they saw is in the room's checkpoint already, under the room's name.
    const checkpoint = JSON.parse((await redis.get(keys.checkpoint(ada.roomId)))!) as { name: string; game: { version: number; data: TallySnapshot } };
    expect(checkpoint.name).toBe("tally");
    expect(checkpoint.game).toEqual({ version: 2, data: { total: 5, counts: { [ada.sessionId]: 3, [bob.sessionId]: 2 } } });

    const owner = (await ownerOf(ada.roomId))!;
    const adaRoom = ada;
    const statesAfter = [0, 0];
    rooms.forEach((room, i) => room.onStateChange(() => statesAfter[i]!++));
    killed.add(owner);
    cluster.node(owner).child.kill("SIGKILL");
    await waitFor(async () => (await ownerOf(ada.roomId)) !== undefined, 15_000, () => `the room rebuilt\n${cluster.output()}`);
    // The rebuilt room goes on once both are back: an `add` before that is answered PAUSED.
    await waitFor(() => statesAfter.every((n) => n > 0), 10_000, () => "both players' state from the new node");

    expect(ada).toBe(adaRoom);
    expect(ada.state.total).toBe(5);
    // Sent while the room still waits for its players, it is answered PAUSED: a client tries again.
    ada.onError((code) => code === PAUSED && ada.send("add"));
    ada.send("add");
    await waitFor(() => ada.state.total === 6 && bob.state.total === 6, 10_000, () => `both players see 6\n${cluster.output()}`);
    expect(bob.state.counts.get(ada.sessionId)).toBe(4);
    expect(bob.state.counts.get(bob.sessionId)).toBe(2);
  });
});
