/**
 * Direct connections over real processes: nodes started with PUBLIC_URL, a player on the game's
 * client library that follows its room, a lean bot that does the same, and a stock SDK player in
 * the same room. The followers' sockets go straight to the room's owner and follow the room
 * through a drain and a SIGKILL; the stock player's goes through the gateway's HAProxy throughout. Who holds which connection is
 * read from /proc.
 */
// First: it gives the SDK the ws package's WebSocket, on which its reconnects do not stall.
import { type ArenaSession, joinArena } from "../client/lib/node.ts";
import { Client, type Room } from "@colyseus/sdk";
import { type AddressInfo, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeanBot } from "../loadtest/lean-bot.ts";
import { startGatewayProcess, waitFor } from "../loadtest/processes.ts";
import { freePort } from "../loadtest/ports.ts";
import { ARENA_WIDTH } from "../shared/constants.ts";
import { JoinErrorCode } from "../shared/protocol.ts";
import { admin, startCluster, type TestCluster } from "./helpers/cluster.ts";
import { connectionsTo, haproxyOf, portOf } from "./helpers/proc-sockets.ts";

describe("clients that follow their room, beside a stock SDK client", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(0);
    for (const nodeId of ["n1", "n2", "n3"]) {
      const port = await freePort();
      await cluster.addNode(nodeId, { PUBLIC_URL: `ws://127.0.0.1:${port}` }, { port });
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("refuses a malformed room id, an unknown room, and lookups past the address's matchmaking rate", async () => {
    const bad = await fetch(`${cluster.gateway.url}/rooms/${"x".repeat(65)}/address`);
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${cluster.gateway.url}/rooms/nosuchroom/address`);
    expect(unknown.status).toBe(JoinErrorCode.ROOM_NOT_FOUND);
    const strict = await startGatewayProcess({ REDIS_URL: cluster.redis.redisUrl, JOINS_PER_IP_PER_SECOND: "1", JOIN_BURST_PER_IP: "2" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${strict.url}/rooms/nosuchroom/address`)).status);
      expect(statuses).toEqual([JoinErrorCode.ROOM_NOT_FOUND, JoinErrorCode.ROOM_NOT_FOUND, JoinErrorCode.TOO_MANY_REQUESTS]);
    } finally {
      await strict.stop();
    }
  });

  it("connects straight to the owner, follows its room through a drain and a SIGKILL, and loses nothing", async () => {
    const haproxy = haproxyOf(cluster.gateway.child.pid!)!;
    expect(haproxy, "the gateway runs HAProxy").toBeDefined();
    const follower: ArenaSession = await joinArena({ url: cluster.gateway.url, name: "follower", followRoom: true });
    const stock: Room = await new Client(cluster.gateway.url).joinById(follower.room.roomId, { name: "stock" });
    stock.reconnection.minUptime = 0;
    const bot = await LeanBot.join({ url: cluster.gateway.url, name: "bot", tickHz: 30, roomId: follower.room.roomId, followRoom: true });
    let left = false;
    follower.room.onLeave(() => (left = true));
    stock.onLeave(() => (left = true));
    try {
      await waitFor(() => follower.state?.players?.size === 3, 5000, () => "all three players in the follower's state");
      const answer = (await (await fetch(`${cluster.gateway.url}/rooms/${follower.room.roomId}/address`)).json()) as { url: string };
      expect(answer.url).toBe(`ws://127.0.0.1:${portOf(cluster.node(follower.state.nodeId).url)}`);

      const connectedTo = async (nodeId: string) => {
        const port = portOf(cluster.node(nodeId).url);
        await waitFor(() => connectionsTo(process.pid, port) === 2 && connectionsTo(haproxy, port) === 1, 10_000, () => `the follower and the bot straight to ${nodeId}, the stock client through HAProxy\n${cluster.output()}`);
        const metrics = await (await fetch(`${cluster.gateway.adminUrl}/metrics`)).text();
        expect(Number(/^locus_gateway_relays_open (\S+)$/m.exec(metrics)?.[1]), "the gateway carries the stock client's socket only").toBe(1);
      };
      const first = follower.state.nodeId;
      await connectedTo(first);

      // Toward the middle, where there is room to move whatever the spawn: a player at a wall stays still.
      const inward = follower.me!.x < ARENA_WIDTH / 2 ? 1 : -1;
      follower.stick.x = inward;
      follower.run();
      await waitFor(() => follower.me!.vx * inward > 100, 5000, () => "the follower moving");
      follower.stick.x = 0;
      await waitFor(() => follower.me!.vx === 0, 5000, () => "the follower at rest");
      const room = follower.room;
      const before = { x: follower.me!.x, y: follower.me!.y, score: follower.me!.score };
      const same = () => {
        expect(follower.room).toBe(room);
        expect(follower.state.players.size).toBe(3);
        const me = follower.state.players.get(follower.sessionId)!;
        expect(me.x).toBeCloseTo(before.x, 3);
        expect(me.y).toBeCloseTo(before.y, 3);
        expect(me.score).toBe(before.score);
        expect(stock.state.players.get(follower.sessionId)!.x).toBeCloseTo(before.x, 3);
        expect(left).toBe(false);
        expect(bot.leftWith).toBeUndefined();
      };

      expect((await admin(cluster.node(first), "POST", "/drain")).status).toBe(202);
      await waitFor(() => follower.state.nodeId !== first && follower.state.nodeId !== "" && stock.state.nodeId === follower.state.nodeId, 10_000, () => `the room moved\n${cluster.output()}`);
      const second = follower.state.nodeId;
      await connectedTo(second);
      expect(connectionsTo(process.pid, portOf(cluster.node(first).url))).toBe(0);
      same();

      // Every checkpoint since the follower came to rest, the hand-off's first, has it where it stopped.
      cluster.node(second).child.kill("SIGKILL");
      await waitFor(() => follower.state.nodeId !== second && follower.state.nodeId !== first && stock.state.nodeId === follower.state.nodeId, 15_000, () => `the room rebuilt\n${cluster.output()}`);
      await waitFor(() => follower.state.players.size === 3, 5000, () => "every seat back");
      await connectedTo(follower.state.nodeId);
      same();

      // The moved room takes the follower's input.
      follower.stick.x = inward;
      await waitFor(() => (stock.state.players.get(follower.sessionId)!.x - before.x) * inward > 40, 5000, () => "the follower moving on the new node");
      expect(bot.reconnects).toBeGreaterThanOrEqual(2);
    } finally {
      bot.close();
      await follower.leave().catch(() => undefined);
      await stock.leave().catch(() => undefined);
    }
  });
});

describe("a follower whose room's owner names an address it cannot reach", () => {
  let cluster: TestCluster;
  // Takes connections and never answers their upgrade, as a dial a firewall drops hangs.
  const silent = createServer(() => undefined);
  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cluster = await startCluster(0);
    // One node names a port nothing listens on (tcpmux's): refused at once. The other names the silent one.
    await cluster.addNode("m1", { PUBLIC_URL: "ws://127.0.0.1:1" });
    await cluster.addNode("m2", { PUBLIC_URL: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await cluster?.stop();
    silent.close();
  });

  it("joins through the gateway, and after a SIGKILL follows its room back through the gateway, whether the dial is refused or hangs", async () => {
    const haproxy = haproxyOf(cluster.gateway.child.pid!)!;
    const follower: ArenaSession = await joinArena({ url: cluster.gateway.url, name: "follower", followRoom: true });
    const bot = await LeanBot.join({ url: cluster.gateway.url, name: "bot", tickHz: 30, roomId: follower.room.roomId, followRoom: true });
    let left = false;
    follower.room.onLeave(() => (left = true));
    try {
      const throughGateway = async (nodeId: string) => {
        const port = portOf(cluster.node(nodeId).url);
        // The test's own keep-alive from probing the node's readiness lingers a few seconds.
        await waitFor(() => connectionsTo(haproxy, port) === 2 && connectionsTo(process.pid, port) === 0, 10_000, () => `the follower and the bot through HAProxy to ${nodeId}, none straight to it\n${cluster.output()}`);
      };
      await waitFor(() => follower.me !== undefined, 5000, () => "the follower's own player in its state");
      const first = follower.state.nodeId;
      await throughGateway(first);
      const room = follower.room;
      const score = follower.me!.score;

      cluster.node(first).child.kill("SIGKILL");
      await waitFor(() => follower.state.nodeId !== first && follower.state.nodeId !== "", 20_000, () => `the room rebuilt\n${cluster.output()}`);
      await throughGateway(follower.state.nodeId);
      expect(follower.room).toBe(room);
      expect(follower.me!.score).toBe(score);
      expect(left).toBe(false);
      expect(bot.reconnects).toBeGreaterThanOrEqual(1);
      expect(bot.leftWith).toBeUndefined();
    } finally {
      bot.close();
      await follower.leave().catch(() => undefined);
    }
  });
});
