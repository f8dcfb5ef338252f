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
import { type HonestPlayers, joinHonestPlayers, residentMb, type Window, watch } from "./helpers/honest-players.ts";

const HONEST_PLAYERS = 4;
const BASELINE_MS = 3000;
/** Closes within this of the attack's start: the target. */
const CLOSED_WITHIN_MS = 2000;
/** A health check slower than this during an attack means the node's event loop was held. */
const PROMPT_HEALTH_MS = 1000;

/** The 10-byte frame: unreliable input with the TIMED flag, a uint32 LE stamp count of 1e8, four more bytes. */
const TEN_BYTE_FRAME = [0x94, 0xce, 0x00, 0xe1, 0xf5, 0x05, 1, 2, 3, 4];

interface Measured {
  readonly baseline: Window;
  readonly during: Window;
  readonly report: AttackReport;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
}

/** Watches the honest players for a baseline, then while `options` attack their room. */
async function measure(players: HonestPlayers, node: NodeProcess, options: Omit<AttackOptions, "roomId">, windowMs: number): Promise<Measured> {
  const healthUrl = `${node.url}/healthz`;
  const rssBeforeMb = residentMb(node.child.pid!);
  const baseline = await watch(players, healthUrl, BASELINE_MS);
  let report: AttackReport | undefined;
  const during = await watch(players, healthUrl, windowMs, async () => {
    report = await attack({ ...options, roomId: players.roomId }).report;
  });
  const rssAfterMb = residentMb(node.child.pid!);
  const measured = { baseline, during, report: report!, rssBeforeMb, rssAfterMb };
  console.log(JSON.stringify({
    attack: options.mode,
    through: options.url === node.url ? "node" : "gateway",
    updatesPerSecond: { baseline: +baseline.slowestUpdatesPerSecond.toFixed(1), during: +during.slowestUpdatesPerSecond.toFixed(1) },
    slowestHealthMs: Math.round(during.slowestHealthMs),
    rssMb: { before: Math.round(rssBeforeMb), after: Math.round(rssAfterMb) },
    attacker: report!.connections.map((c) => ({ code: c.closeCode, warnedAfterMs: c.warnedAfterMs && Math.round(c.warnedAfterMs), endedAfterMs: Math.round(c.endedAfterMs), kb: Math.round(c.bytesWritten / 1e3) })),
  }));
  return measured;
}

/** The targets for the honest side of every attack. */
function expectHonestPlayersUnharmed(m: Measured): void {
  expect(m.during.slowestUpdatesPerSecond).toBeGreaterThanOrEqual(0.9 * m.baseline.slowestUpdatesPerSecond);
  expect(m.during.kicked).toEqual([]);
  expect(m.during.warnings).toEqual([]);
  expect(m.during.slowestHealthMs).toBeLessThan(PROMPT_HEALTH_MS);
  expect(m.rssAfterMb - m.rssBeforeMb).toBeLessThan(100);
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
    players?.close();
    await node?.stop();
  });

  async function freshPlayers(): Promise<HonestPlayers> {
    players?.close();
    players = await joinHonestPlayers(node.url, HONEST_PLAYERS);
    return players;
  }

  it("refuses the 10-byte frame at once with 4415, before Colyseus reads its count", async () => {
    const m = await measure(await freshPlayers(), node, { url: node.url, mode: "frame", frame: TEN_BYTE_FRAME }, 4000);
    expectFrameRefused(m.report);
    expectHonestPlayersUnharmed(m);
  });

  it("warns a PING flood, closes it with 4430 within 2 s, every time it comes back", async () => {
    const m = await measure(await freshPlayers(), node, { url: node.url, mode: "ping", seconds: 5 }, 6000);
    expectFloodersClosed(m.report);
    expectHonestPlayersUnharmed(m);
  });

  it("answers websocket pings only within the budget, and closes a flood of them with 4430 within 2 s", async () => {
    const m = await measure(await freshPlayers(), node, { url: node.url, mode: "control-ping", seconds: 5 }, 6000);
    expectFloodersClosed(m.report);
    expectHonestPlayersUnharmed(m);
  });

  it("does not warn or kick honest players whose inputs piled up while the node was stalled", async () => {
    const honest = await freshPlayers();
    const healthUrl = `${node.url}/healthz`;
    const baseline = await watch(honest, healthUrl, BASELINE_MS);
    const stall = await watch(honest, healthUrl, 5000, async () => {
      node.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 2500));
      node.child.kill("SIGCONT");
    });
    const after = await watch(honest, healthUrl, BASELINE_MS);
    console.log(JSON.stringify({ attack: "stall", updatesPerSecond: { baseline: baseline.slowestUpdatesPerSecond, stall: stall.slowestUpdatesPerSecond, after: after.slowestUpdatesPerSecond } }));
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
    players?.close();
    redis?.disconnect();
    await cluster?.stop();
  });

  /** Honest players in a new room, and the node that owns it with its owner value ("{node} {epoch}"). */
  async function freshRoom(): Promise<{ players: HonestPlayers; owner: NodeProcess; lease: string }> {
    players?.close();
    players = await joinHonestPlayers(cluster.gateway.url, HONEST_PLAYERS);
    const lease = (await redis.get(keys.owner(players.roomId)))!;
    return { players, owner: cluster.node(lease.split(" ")[0]!), lease };
  }

  /** No lease lapsed: the room has the same owner and epoch, and no honest player had to reconnect. */
  async function expectRoomStayed(room: { players: HonestPlayers; lease: string }): Promise<void> {
    expect(await redis.get(keys.owner(room.players.roomId))).toBe(room.lease);
    expect(room.players.bots.map((b) => b.reconnects)).toEqual(room.players.bots.map(() => 0));
  }

  it("refuses the 10-byte frame at once with 4415; the room keeps its owner", async () => {
    const room = await freshRoom();
    const m = await measure(room.players, room.owner, { url: cluster.gateway.url, mode: "frame", frame: TEN_BYTE_FRAME }, 4000);
    expectFrameRefused(m.report);
    expectHonestPlayersUnharmed(m);
    await expectRoomStayed(room);
  });

  it("closes a PING flood with 4430 within 2 s, every time it comes back; the room keeps its owner", async () => {
    const room = await freshRoom();
    const m = await measure(room.players, room.owner, { url: cluster.gateway.url, mode: "ping", seconds: 5 }, 6000);
    expectFloodersClosed(m.report);
    expectHonestPlayersUnharmed(m);
    await expectRoomStayed(room);
  });
});
