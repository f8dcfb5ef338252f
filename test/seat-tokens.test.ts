/**
 * Reconnection tokens are bearer credentials for a seat. Checkpoints keep only their keyed hash,
 * and a room rebuilt elsewhere still takes its players back by the token their SDK holds (also
 * from a checkpoint an older node wrote with plain tokens). A token that leaked can never push a
 * playing player out: presented over HTTP or the websocket while its seat's connection is live,
 * it is refused, and the player's own SDK still reconnects after a real drop.
 */
import { request } from "node:http";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { TOKEN_HASH_PATTERN } from "../server/durable/token-hash.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { joinHonestPlayers, underAttack } from "./helpers/honest-players.ts";

const sessions: ArenaSession[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

async function join(url: string, name: string, roomId?: string): Promise<ArenaSession> {
  const session = await joinArena({ url, name, ...(roomId ? { roomId } : {}) });
  sessions.push(session);
  await waitFor(() => session.state?.players?.has(session.sessionId) === true, 5000, () => `${name} in its state`);
  return session;
}

/** The token a session's SDK holds now and presents on its next reconnect. */
const tokenOf = (s: ArenaSession) => s.room.reconnectionToken.split(":")[1]!;

describe("hashed seat tokens in a cluster", () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startCluster(2);
    redis = new Redis(cluster.redis.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it("keeps no token in a checkpoint, and a crash still brings the players back into the same rooms", async () => {
    const ada = await join(cluster.gateway.url, "Ada");
    const bob = await join(cluster.gateway.url, "Bob", ada.room.roomId);
    const roomId = ada.room.roomId;
    const adaRoom = ada.room;
    let raw = "";
    await waitFor(async () => (raw = (await redis.get(keys.checkpoint(roomId))) ?? "").includes(bob.sessionId), 5000, () => "a checkpoint with both seats");
    const checkpoint = JSON.parse(raw) as { format: number; seats: Record<string, unknown>[] };
    expect(checkpoint.format).toBe(3);
    expect(checkpoint.seats).toHaveLength(2);
    for (const seat of checkpoint.seats) {
      expect(seat.tokenHash).toMatch(TOKEN_HASH_PATTERN);
      expect(seat).not.toHaveProperty("reconnectionToken");
    }
    for (const s of [ada, bob]) expect(raw).not.toContain(tokenOf(s));

    const owner = ada.state.nodeId;
    cluster.node(owner).child.kill("SIGKILL");
    await waitFor(() => ada.state.nodeId !== owner && bob.state.nodeId !== owner, 10_000, () => `both players on the other node\n${cluster.output()}`);
    await waitFor(() => ada.state.players.size === 2 && bob.state.players.size === 2, 5000, () => "both seats back");
    expect(ada.room).toBe(adaRoom);
    expect(ada.room.roomId).toBe(roomId);

    // The rebuilt room's own checkpoints hash the tokens it issued on the reconnects.
    await waitFor(async () => {
      const cp = JSON.parse((await redis.get(keys.checkpoint(roomId)))!) as { nodeId: string };
      return cp.nodeId !== owner;
    }, 5000, () => "a checkpoint from the new owner");
    raw = (await redis.get(keys.checkpoint(roomId)))!;
    for (const s of [ada, bob]) expect(raw).not.toContain(tokenOf(s));
  });

  it("takes its players back from a format 1 checkpoint, which an older node wrote with plain tokens", async () => {
    await cluster.addNode("n3");
    const cyd = await join(cluster.gateway.url, "Cyd");
    const roomId = cyd.room.roomId;
    const cydRoom = cyd.room;
    const owner = cluster.node(cyd.state.nodeId);
    await waitFor(async () => ((await redis.get(keys.checkpoint(roomId))) ?? "").includes(cyd.sessionId), 5000, () => "Cyd's seat checkpointed");
    owner.child.kill("SIGSTOP");
    const cp = JSON.parse((await redis.get(keys.checkpoint(roomId)))!);
    // Format 1 kept the arena's world where format 3 keeps the game section, and no room name.
    cp.format = 1;
    cp.world = cp.game.data;
    delete cp.game;
    delete cp.name;
    cp.seats = cp.seats.map(({ tokenHash: _, ...seat }: Record<string, unknown>) => ({ ...seat, reconnectionToken: tokenOf(cyd) }));
    await redis.set(keys.checkpoint(roomId), JSON.stringify(cp));
    const stalled = cyd.state.nodeId;
    owner.child.kill("SIGKILL");
    await waitFor(() => cyd.state.nodeId !== stalled && cyd.state.players.has(cyd.sessionId), 15_000, () => `Cyd back on another node\n${cluster.output()}`);
    expect(cyd.room).toBe(cydRoom);
    const rebuilt = JSON.parse((await redis.get(keys.checkpoint(roomId)))!) as { format: number };
    expect(rebuilt.format).toBe(3);
  });
});

/** One HTTP reconnect call from the attacker's address. */
function reconnectOverHttp(url: string, roomId: string, token: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: "POST", path: `/matchmake/reconnect/${roomId}`, localAddress: "127.0.0.2", headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ reconnectionToken: token }));
  });
}

/** One websocket reconnect, as an SDK's auto-reconnect makes it, from the attacker's address: what the server answered. */
function reconnectOverWebSocket(url: string, roomId: string, sessionId: string, token: string): Promise<string> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/any/${roomId}?sessionId=${sessionId}&reconnectionToken=${token}&skipHandshake=true`, { localAddress: "127.0.0.2" });
  return new Promise((resolve) => {
    ws.on("unexpected-response", (_req, res) => {
      resolve(`refused ${res.statusCode}`);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve("opened");
      ws.terminate();
    });
    ws.on("error", (err) => resolve(`error ${err.message}`));
  });
}

describe("a leaked reconnection token", () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess();
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("cannot push a playing player out, and the player's own SDK still reconnects after a real drop", async () => {
    const honest = await joinHonestPlayers(node.url, 3);
    try {
      const victim = await join(node.url, "Victim", honest.roomId);
      victim.run();
      const heard = { drops: 0, leaves: 0, reconnects: 0 };
      victim.room.onDrop(() => heard.drops++);
      victim.room.onLeave(() => heard.leaves++);
      victim.room.onReconnect(() => heard.reconnects++);
      const token = tokenOf(victim);
      let tickBefore = 0;
      const answers: string[] = [];
      await underAttack("a leaked live token, presented over HTTP and the websocket", honest, { healthUrl: `${node.url}/healthz`, nodes: [node], ms: 4000 }, async () => {
        tickBefore = victim.state.tick;
        const until = Date.now() + 3500;
        while (Date.now() < until) {
          const http = await reconnectOverHttp(node.url, honest.roomId, token);
          answers.push(`http ${http.status}`, await reconnectOverWebSocket(node.url, honest.roomId, victim.sessionId, token));
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      console.log(`measured: a leaked live token: ${answers.length} attempts, answered ${[...new Set(answers)].join(", ")}`);
      expect(answers.length).toBeGreaterThan(10);
      expect(new Set(answers)).toEqual(new Set(["http 524", "refused 409"]));
      expect(heard).toEqual({ drops: 0, leaves: 0, reconnects: 0 });
      expect(victim.state.tick).toBeGreaterThan(tickBefore + 90);
      expect(victim.state.players.get(victim.sessionId)?.connected).toBe(true);
      expect(node.output().split('"event":"reconnect_refused_seat_in_use"').length - 1).toBe(1);

      // A real drop: the victim's own SDK comes back with its own token, into its own seat.
      const sessionId = victim.sessionId;
      (victim.room.connection.transport as unknown as { ws: WebSocket }).ws.terminate();
      await waitFor(() => heard.reconnects === 1, 10_000, () => `the victim reconnected\n${node.output().slice(-2000)}`);
      expect(victim.sessionId).toBe(sessionId);
      expect(heard.leaves).toBe(0);
      await waitFor(() => victim.state.players.get(sessionId)?.connected === true, 5000, () => "the victim's seat connected again");
    } finally {
      await honest.close();
    }
  });
});
