/**
 * Hostile websocket frames against real nodes, alone and behind a cluster's gateway: the 10-byte
 * frame whose count Colyseus trusted, floods of Colyseus PINGs and of websocket pings, and a
 * node's stall with honest players sending through it. Each time the honest players in the room
 * keep their state updates, nobody honest is warned or kicked, the node answers its health check
 * promptly, its memory stays bounded, and (in a cluster) the room keeps its owner. The attacker
 * runs in a process of its own, from 127.0.0.2.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../server/cluster/redis-keys.ts";
import { CloseCode, ErrorCode } from "../shared/protocol.ts";
import { type NodeProcess, startNodeProcess } from "../loadtest/processes.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { type AttackOptions, type AttackReport, attack } from "./helpers/frame-attacker.ts";
import { type HonestPlayers, joinHonestPlayers, underAttack } from "./helpers/honest-players.ts";

const HONEST_PLAYERS = 4;
const BASELINE_MS = 3000;
/** Closes within this of the attack's start: the target. */
const CLOSED_WITHIN_MS = 2000;

/** The 10-byte frame: unreliable input with the TIMED flag, a uint32 LE stamp count of 1e8, four more bytes. */
const TEN_BYTE_FRAME = [0x94, 0xce, 0x00, 0xe1, 0xf5, 0x05, 1, 2, 3, 4];

/**
 * Runs the attack `options` describe on the honest players' room, from its own process, while
 * `underAttack` checks the honest side; resolves with what the attacker saw.
 */
async function attackRoom(players: HonestPlayers, node: NodeProcess, options: Omit<AttackOptions, "roomId">, windowMs: number): Promise<AttackReport> {
  let report: AttackReport | undefined;
  const through = options.url === node.url ? "a lone node" : "the gateway";
  await underAttack(`${options.mode} through ${through}`, players, { healthUrl: `${node.url}/healthz`, nodes: [node], ms: windowMs }, async () => {
    report = await attack({ ...options, roomId: players.roomId }).report;
  });
  const connections = report!.connections.map((c) => ({ code: c.closeCode, warnedAfterMs: c.warnedAfterMs && Math.round(c.warnedAfterMs), endedAfterMs: Math.round(c.endedAfterMs), kb: Math.round(c.bytesWritten / 1e3) }));
  console.log(`measured: ${options.mode} through ${through}: the attacker's connections ${JSON.stringify(connections)}`);
  return report!;
}

/**
 * Every connection of a flood was warned, then closed with 4430 within 2 s of its start; the last
 * one may instead have been cut short by the attack's own end.
 */
function expectFloodersClosed(report: AttackReport): void {
  const closed = report.connections.filter((c) => c.closeCode !== undefined);
  expect(closed.length).toBeGreaterThanOrEqual(2);
  for (const c of closed) {
    expect(c.closeCode).toBe(CloseCode.FRAME_FLOOD);
    expect(c.warnedAfterMs).toBeDefined();
    expect(c.closedAfterMs).toBeLessThan(CLOSED_WITHIN_MS);
  }
  for (const c of report.connections) expect(c.endedAfterMs).toBeLessThan(CLOSED_WITHIN_MS);
}

function expectFrameRefused(report: AttackReport): void {
  expect(report.connections).toHaveLength(1);
  expect(report.connections[0]!.closeCode).toBe(CloseCode.PROTOCOL_VIOLATION);
  expect(report.connections[0]!.closedAfterMs).toBeLessThan(CLOSED_WITHIN_MS);
}

describe("a lone node", () => {
  let node: NodeProcess;
  let players: HonestPlayers | undefined;

  beforeAll(async () => {
    node = await startNodeProcess();
  });
  afterAll(async () => {
    await players?.close();
    await node?.stop();
  });

  async function freshPlayers(): Promise<HonestPlayers> {
    await players?.close();
    players = await joinHonestPlayers(node.url, HONEST_PLAYERS);
    return players;
  }

  it("refuses the 10-byte frame at once with 4415, before Colyseus reads its count", async () => {
    expectFrameRefused(await attackRoom(await freshPlayers(), node, { url: node.url, mode: "frame", frame: TEN_BYTE_FRAME }, 4000));
  });

  it("warns a PING flood, closes it with 4430 within 2 s, every time it comes back", async () => {
    expectFloodersClosed(await attackRoom(await freshPlayers(), node, { url: node.url, mode: "ping", seconds: 5 }, 6000));
  });

  it("answers websocket pings only within the budget, and closes a flood of them with 4430 within 2 s", async () => {
    expectFloodersClosed(await attackRoom(await freshPlayers(), node, { url: node.url, mode: "control-ping", seconds: 5 }, 6000));
  });

  it("does not warn or kick honest players whose inputs piled up while the node was stalled", async () => {
    const honest = await freshPlayers();
    const healthUrl = `${node.url}/healthz`;
    const baseline = await honest.watch(healthUrl, BASELINE_MS);
    const stall = await honest.watch(healthUrl, 5000, async () => {
      node.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 2500));
      node.child.kill("SIGCONT");
    });
    const after = await honest.watch(healthUrl, BASELINE_MS);
    console.log(`measured: a 2.5 s stall: honest updates/s ${baseline.slowestUpdatesPerSecond.toFixed(1)} before, ${stall.slowestUpdatesPerSecond.toFixed(1)} during, ${after.slowestUpdatesPerSecond.toFixed(1)} after`);
    expect(stall.warnings.filter((code) => code === ErrorCode.INPUT_FLOOD || code === ErrorCode.FRAME_FLOOD)).toEqual([]);
    expect(stall.kicked).toEqual([]);
    expect(after.warnings).toEqual([]);
    expect(after.kicked).toEqual([]);
    expect(after.slowestUpdatesPerSecond).toBeGreaterThanOrEqual(0.9 * baseline.slowestUpdatesPerSecond);
  });
});

describe("through the gateway of a two-node cluster", () => {
  let cluster: TestCluster;
  let redis: Redis;
  let players: HonestPlayers | undefined;

  beforeAll(async () => {
    cluster = await startCluster(2);
    redis = new Redis(cluster.redis.redisUrl);
  });
  afterAll(async () => {
    await players?.close();
    redis?.disconnect();
    await cluster?.stop();
  });

  /** Honest players in a new room, and the node that owns it with its owner value ("{node} {epoch}"). */
  async function freshRoom(): Promise<{ players: HonestPlayers; owner: NodeProcess; lease: string }> {
    await players?.close();
    players = await joinHonestPlayers(cluster.gateway.url, HONEST_PLAYERS);
    const lease = (await redis.get(keys.owner(players.roomId)))!;
    return { players, owner: cluster.node(lease.split(" ")[0]!), lease };
  }

  /** No lease lapsed: the room has the same owner and epoch, and no honest player had to reconnect. */
  async function expectRoomStayed(room: { players: HonestPlayers; lease: string }): Promise<void> {
    expect(await redis.get(keys.owner(room.players.roomId))).toBe(room.lease);
    expect((await room.players.bots()).map((b) => b.reconnects)).toEqual([0, 0, 0, 0]);
  }

  it("refuses the 10-byte frame at once with 4415; the room keeps its owner", async () => {
    const room = await freshRoom();
    expectFrameRefused(await attackRoom(room.players, room.owner, { url: cluster.gateway.url, mode: "frame", frame: TEN_BYTE_FRAME }, 4000));
    await expectRoomStayed(room);
  });

  it("closes a PING flood with 4430 within 2 s, every time it comes back; the room keeps its owner", async () => {
    const room = await freshRoom();
    expectFloodersClosed(await attackRoom(room.players, room.owner, { url: cluster.gateway.url, mode: "ping", seconds: 5 }, 6000));
    await expectRoomStayed(room);
  });
});
