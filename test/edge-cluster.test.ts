/**
 * Attacks on a cluster's public edge, through its gateway, over real processes and sockets: a
 * create storm, websocket upgrades to made-up or ownerless rooms, and per-address limits that
 * must hold behind the gateway whatever `X-Forwarded-For` a client writes. Honest players keep
 * their state updates throughout.
 */
import "../client/lib/use-ws.ts";
import { Client, type Room } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { LeanBot } from "../loadtest/lean-bot.ts";
import { type RunningProcess, startGatewayProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { type Answer, keepAlive, matchmake, openIdleSockets, serverClosed, upgrade } from "./helpers/attacker.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { attackSuite } from "./helpers/attack-suite.ts";

const suite = attackSuite();

async function cluster(count: number, env: Record<string, string> = {}): Promise<{ c: TestCluster; redis: Redis }> {
  const c = await startCluster(count, env);
  const redis = new Redis(c.redis.redisUrl);
  suite.defer(() => c.stop());
  suite.defer(() => redis.disconnect());
  return { c, redis };
}

async function ownerOf(redis: Redis, roomId: string): Promise<string | undefined> {
  return (await redis.get(keys.owner(roomId)))?.split(" ")[0];
}

/** Counts the Redis commands the gateways send (clients named locus-gateway) while it runs. */
async function gatewayCommands(redis: Redis): Promise<{ commands: string[][]; stop(): void }> {
  const list = (await redis.client("LIST")) as string;
  const sources = new Set(list.split("\n").filter((l) => l.includes("name=locus-gateway ")).map((l) => /addr=(\S+)/.exec(l)![1]!));
  const monitor = await redis.monitor();
  const commands: string[][] = [];
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (sources.has(source)) commands.push(args);
  });
  return { commands, stop: () => monitor.disconnect() };
}

describe("a create storm", () => {
  it("is refused per address with 429, spreads rooms over the nodes by room count, and stops each node at MAX_ROOMS_PER_NODE", async () => {
    const cap = 12;
    const { c, redis } = await cluster(2, { MAX_ROOMS_PER_NODE: String(cap) });
    const players = await suite.honest(c.gateway.url);
    const home = c.node((await ownerOf(redis, players.roomId))!);
    const addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    const answers: Answer[][] = [];
    const most = new Map<string, number>();
    let stormSeconds = 0;
    await suite.underAttack("240 creates from 4 addresses through the gateway", home, players, async () => {
      let storming = true;
      const sampler = (async () => {
        while (storming) {
          for (const id of ["n1", "n2"]) {
            const record = await redis.get(`locus:node:${id}`);
            if (record) most.set(id, Math.max(most.get(id) ?? 0, (JSON.parse(record) as { rooms: number }).rooms));
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const started = performance.now();
      answers.push(
        ...(await Promise.all(
          addresses.map((from) => {
            const pool = keepAlive(from, 16);
            suite.defer(() => pool.destroy());
            return Promise.all(Array.from({ length: 60 }, () => matchmake(c.gateway.url, "create/arena", from, {}, pool)));
          }),
        )),
      );
      stormSeconds = (performance.now() - started) / 1000;
      storming = false;
      await sampler;
    });
    const all = answers.flat();
    const count = (status: number) => all.filter((a) => a.status === status).length;
    console.log(`measured: create storm in ${stormSeconds.toFixed(1)} s: ${[200, 429, 503].map((s) => `${count(s)} × ${s}`).join(", ")}; most rooms n1 ${most.get("n1")}, n2 ${most.get("n2")}`);
    expect(count(200) + count(429) + count(503), JSON.stringify(all.filter((a) => ![200, 429, 503].includes(a.status)).slice(0, 3))).toBe(240);
    // Each address gets its burst (30) and 10 a second as its bucket refills; the rest are told when to come back.
    for (const [i, mine] of answers.entries()) {
      expect(mine.filter((a) => a.status !== 429).length, addresses[i]).toBeLessThanOrEqual(30 + Math.ceil(10 * stormSeconds));
      expect(mine.filter((a) => a.status === 429).length, addresses[i]).toBeGreaterThan(0);
    }
    expect(all.filter((a) => a.status === 429).every((a) => Number(a.headers["retry-after"]) >= 1)).toBe(true);
    // More creates passed than both nodes hold: the rest were refused with the cap's message.
    expect(count(503)).toBeGreaterThan(0);
    expect(all.filter((a) => a.status === 503).every((a) => a.body.includes("MAX_ROOMS_PER_NODE"))).toBe(true);
    for (const id of ["n1", "n2"]) {
      expect(most.get(id), `node ${id}'s rooms`).toBeLessThanOrEqual(cap);
      // Placed by players, every empty room would have gone to the node without the honest ones.
      expect(most.get(id), `node ${id}'s rooms`).toBeGreaterThanOrEqual(cap - 3);
    }
    expect(c.gateway.output()).toMatch(/"event":"edge_refused","reason":"joins_per_ip","offender":"127\.0\.0\.2"/);
  });
});

describe("the gateway's holds", () => {
  it("refuses upgrades to made-up rooms at once, caps held upgrades, and looks a held room up once per ownership change", async () => {
    const { c, redis } = await cluster(2, { ROOM_LEASE_MS: "2000" });
    const gateway = await startGatewayProcess({ REDIS_URL: c.redis.redisUrl, GATEWAY_MAX_HELD: "20" });
    suite.defer(() => gateway.stop());
    const players = await suite.honest(gateway.url);
    const homeId = (await ownerOf(redis, players.roomId))!;
    // A room on the other node, with a player of its own: placement counts rooms, so it lands there.
    const stranger: Room = await new Client(gateway.url).create("arena", { name: "stranger" });
    // A socket its node dropped before the SDK would reconnect it (5 s of uptime) has left already.
    suite.defer(() => (stranger.connection.isOpen ? stranger.leave() : undefined));
    const strandedId = stranger.roomId;
    const strandedNode = (await ownerOf(redis, strandedId))!;
    expect(strandedNode).not.toBe(homeId);

    const madeUp: number[] = [];
    let madeUpCommands: string[][] = [];
    const held: { status: number; afterMs: number }[] = [];
    let heldCommands: string[][] = [];
    let heldWindowMs = 0;
    await suite.underAttack(
      "100 upgrades to made-up rooms, then 50 to a room whose node stalled",
      c.node(homeId),
      players,
      async () => {
        const counting = await gatewayCommands(redis);
        madeUp.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => upgrade(gateway.url, `/p/made-up-${i}?sessionId=x`, "127.0.0.2").then((u) => (u.socket.destroy(), u.status))))));
        madeUpCommands = counting.commands.splice(0);

        c.node(strandedNode).child.kill("SIGSTOP");
        suite.defer(() => c.node(strandedNode).child.kill("SIGCONT"));
        await waitFor(async () => (await redis.exists(`locus:node:${strandedNode}`)) === 0, 3000, () => "the stalled node's record lapsed");
        const started = performance.now();
        await Promise.all(
          Array.from({ length: 50 }, () =>
            upgrade(gateway.url, `/p/${strandedId}?sessionId=bogus`, "127.0.0.3").then((u) => {
              u.socket.destroy();
              held.push({ status: u.status, afterMs: performance.now() - started });
            }),
          ),
        );
        heldWindowMs = performance.now() - started;
        heldCommands = counting.commands.splice(0);
        counting.stop();
      },
      8000,
    );
    expect(madeUp).toEqual(Array(100).fill(404));
    // One round trip each (membership and owner), where a made-up room used to cost ~51 GETs and a publish.
    expect(madeUpCommands.length).toBeLessThanOrEqual(2 * 100);
    expect(madeUpCommands.filter(([cmd]) => cmd!.toLowerCase() === "publish")).toHaveLength(0);
    expect(gateway.output().match(/"event":"edge_refused","reason":"unknown_room","offender":"127\.0\.0\.2"/g)).toHaveLength(1);

    const busy = held.filter((h) => h.status === 503);
    const relayed = held.filter((h) => h.status === 101);
    expect(busy).toHaveLength(30);
    expect(Math.max(...busy.map((h) => h.afterMs))).toBeLessThan(1000);
    // The twenty held were let through together when another node took the room over.
    expect(relayed).toHaveLength(20);
    // An owner lookup is whatever command reads the room's owner key (a bounded read, in a script).
    const ownerLookups = heldCommands.filter((args) => args.includes(keys.owner(strandedId))).length;
    expect(ownerLookups).toBeGreaterThan(0);
    // One lookup when the hold began, one per half-second poll, one for the ownership change:
    // not one per held socket (the old gateway polled every 100 ms for each: ~20 × 10 a second).
    expect(ownerLookups).toBeLessThanOrEqual(Math.ceil(heldWindowMs / 500) + 3);
    expect(heldCommands.filter(([cmd, channel]) => cmd!.toLowerCase() === "publish" && channel === "locus:rehydrate")).toHaveLength(1);
    expect(gateway.output()).toMatch(/"event":"edge_refused","reason":"holds_full","offender":"127\.0\.0\.3"/);
    console.log(`measured: held upgrades: ${relayed.length} relayed after ${Math.round(heldWindowMs)} ms with ${ownerLookups} owner lookups; ${busy.length} refused at once`);
  });
});

describe("client addresses behind the gateway", () => {
  it("hold the nodes' per-address limits to the forwarded address, and ignore an X-Forwarded-For from an untrusted peer", async () => {
    const { c, redis } = await cluster(2, { JOIN_BURST_PER_IP: "6", JOINS_PER_IP_PER_SECOND: "1" });
    const players = await suite.honest(c.gateway.url);
    const home = c.node((await ownerOf(redis, players.roomId))!);
    const results: Record<string, number[]> = {};
    let squatted: number[] = [];
    let gatewayFlood: { cut: number; held: number } = { cut: 0, held: 0 };
    await suite.underAttack("creates and seats through the gateway, spoofed X-Forwarded-For, 300 sockets at the gateway", home, players, async () => {
      const storm = async (name: string, url: string, from: string, n: number, spoof: boolean) => {
        const answers = await Promise.all(Array.from({ length: n }, (_, i) => matchmake(url, "create/arena", from, spoof ? { "x-forwarded-for": `10.${from.slice(-1)}.0.${i}` } : {})));
        results[name] = answers.map((a) => a.status);
      };
      await storm("via gateway", c.gateway.url, "127.0.0.2", 20, false);
      await storm("via gateway, spoofed", c.gateway.url, "127.0.0.3", 20, true);
      await storm("at a node, spoofed", c.node("n1").url, "127.0.0.4", 10, true);
      squatted = await Promise.all(Array.from({ length: 8 }, () => matchmake(c.gateway.url, `joinById/${players.roomId}`, "127.0.0.5").then((a) => a.status)));
      const latecomer = await LeanBot.join({ url: c.gateway.url, name: "latecomer", tickHz: 30, roomId: players.roomId });
      suite.defer(() => latecomer.close());
      const sockets = await openIdleSockets(c.gateway.url, 300, "127.0.0.6");
      suite.defer(() => sockets.forEach((s) => s.destroy()));
      await waitFor(() => sockets.filter(serverClosed).length >= 300 - 256, 2000, () => "the gateway cut the sockets past its cap");
      gatewayFlood = { cut: sockets.filter(serverClosed).length, held: sockets.filter((s) => !serverClosed(s)).length };
    });
    const nodesOutput = [...c.nodes.values()].map((n) => n.output()).join("\n");
    // Each node lets an address have its burst of 6: at most 12 creates of 20 over two nodes, the rest 429.
    for (const name of ["via gateway", "via gateway, spoofed"]) {
      expect(results[name]!.filter((s) => s === 200).length, name).toBeLessThanOrEqual(12);
      expect(results[name]!.filter((s) => s === 429).length, name).toBeGreaterThanOrEqual(8);
    }
    expect(results["at a node, spoofed"]!.filter((s) => s === 200)).toHaveLength(6);
    for (const attacker of ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) expect(nodesOutput).toMatch(new RegExp(`"reason":"joins_per_ip","offender":"${attacker.replaceAll(".", "\\.")}"`));
    // Neither the gateway's own address nor a spoofed one was ever blamed.
    expect(nodesOutput).not.toMatch(/"offender":"(127\.0\.0\.1|10\.\d+\.0\.\d+)"/);
    // Pending seats are counted per forwarded address too, and the honest latecomer still got in.
    expect(squatted.filter((s) => s === 200)).toHaveLength(4);
    expect(nodesOutput).toMatch(/"reason":"pending_seats","offender":"127\.0\.0\.5"/);
    expect(gatewayFlood).toEqual({ cut: 300 - 256, held: 256 });
  });
});
