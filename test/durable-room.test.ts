/**
 * A durable room that is not the arena, on the real cluster host over a real Redis: rebuilt by the
 * room name in its checkpoint, its older snapshot upgraded, and its changes committed before they
 * are revealed.
 *
 * Commit before reveal: a durable room with the every-change policy shows a change to no client
 * before the checkpoint holding it is stored. A tiny counting room runs in this process on the
 * real cluster host over a real Redis; the Redis is frozen (SIGSTOP) while a player counts, and
 * the other player must not see the count until Redis is back and the checkpoint written. The
 * same room with the periodic policy shows the count at once, frozen Redis or not. The host's
 * Redis commands time out while it is frozen, so the failed writes are seen counted and logged
 * (once, by the host) and retried. A rebuilt room, with no loop of its own, sends its returning
 * player the restored state once, takes that player's first action, and resumes without a player
 * who is not back.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, matchMaker, Server } from "@colyseus/core";
import { schema, t } from "@colyseus/schema";
import { Callbacks, Client as SdkClient, type Room as SdkRoom } from "@colyseus/sdk";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisProcess, waitFor } from "../loadtest/processes.ts";
import { ClusterRoomHost } from "../server/cluster/cluster-host.ts";
import { Ownership } from "../server/cluster/ownership.ts";
import { RecoveryFailures } from "../server/cluster/recovery-failures.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { withScripts } from "../server/cluster/redis-scripts.ts";
import { tokenHasher } from "../server/durable/token-hash.ts";
import { createDurableCounters } from "../server/durable/durable-metrics.ts";
import { type CheckpointPolicy, type DurableDeps, DurableRoom } from "../server/durable/durable-room.ts";
import { RefusalLog } from "../server/edge/refusal-log.ts";
import { RoomCap } from "../server/edge/room-cap.ts";
import { createNodeMetrics } from "../server/metrics.ts";
import { RepeatLog } from "../server/repeat-log.ts";

const TallyState = schema({ count: t.number().default(0) }, "TallyState");
type TallySnapshot = { count: number };

/**
 * A room whose whole game is a counter: "add" counts one. Its snapshot is the schema state's own
 * (the layer's default); version 1 of it called the count `n`.
 */
function tallyRoom(deps: DurableDeps, policy: CheckpointPolicy) {
  return class TallyRoom extends DurableRoom<{ state: InstanceType<typeof TallyState> }, TallySnapshot> {
    override readonly checkpointPolicy = policy;
    readonly snapshotVersion = 2;
    protected readonly durable = deps;
    override state = new TallyState();

    get playerCount(): number {
      return this.clients.length;
    }

    protected parseSnapshot(data: unknown, version: number): TallySnapshot {
      if (version !== 1 && version !== 2) throw new Error(`snapshot version ${version} is not 1 or 2`);
      const count = version === 1 ? (data as { n?: unknown } | null)?.n : (data as { count?: unknown } | null)?.count;
      if (!Number.isSafeInteger(count)) throw new Error("count is not a whole number");
      return { count: count as number };
    }

    protected onCreateGame(): void {
      this.patchRate = null;
      this.onMessage("add", () => {
        this.state.count++;
        void this.changed();
        this.broadcastPatch();
      });
    }

    protected onSeatTaken(_client: Client): void {}
    protected onSeatFreed(): void {}
  };
}

const LedgerState = schema({ entries: t.array("number") }, "LedgerState");
type LedgerSnapshot = { entries: number[] };

/** The error a ledger sends for an entry while it waits for its players. */
const LEDGER_PAUSED = 4409;

/**
 * A room whose whole game is a list: "append" adds the next number; an array, which a patch
 * applied twice would grow. No loop of its own; its patches go out as changes are stored
 * (`patchRate` null) or on Colyseus's patch timer too.
 */
function ledgerRoom(deps: DurableDeps, patchRate: number | null) {
  return class LedgerRoom extends DurableRoom<{ state: InstanceType<typeof LedgerState> }, LedgerSnapshot> {
    override readonly checkpointPolicy = "every-change";
    readonly snapshotVersion = 1;
    protected readonly durable = deps;
    override state = new LedgerState();

    get playerCount(): number {
      return this.clients.length;
    }

    /** A new ledger opens with a 0, so a restore (below) replaces a list: it clears it and fills it again. */
    constructor() {
      super();
      this.state.entries.push(0);
    }

    protected parseSnapshot(data: unknown): LedgerSnapshot {
      const entries = (data as { entries?: unknown } | null)?.entries;
      if (!Array.isArray(entries) || !entries.every((n) => Number.isSafeInteger(n))) throw new Error("entries is not a list of whole numbers");
      return { entries: entries as number[] };
    }

    protected override restore(snapshot: LedgerSnapshot): void {
      this.state.entries.clear();
      this.state.entries.push(...snapshot.entries);
    }

    protected onCreateGame(): void {
      this.patchRate = patchRate;
      this.onMessage("append", (client) => {
        if (!this.running()) return client.error(LEDGER_PAUSED, "waiting for players");
        this.state.entries.push(this.state.entries.length + 1);
        void this.changed();
      });
    }

    protected onSeatTaken(_client: Client): void {}
    protected onSeatFreed(): void {}
  };
}

describe("every-change policy: commit before reveal", () => {
  let redisProcess: RedisProcess;
  let redis: Redis;
  let host: ClusterRoomHost;
  let server: Server;
  let url: string;
  let repeats: RepeatLog;
  const tokenHash = tokenHasher("admin-token-for-tests-0123");
  const logged: Record<string, unknown>[] = [];
  let writeFailures: () => Promise<number>;
  const rooms: SdkRoom[] = [];

  beforeAll(async () => {
    redisProcess = await startRedis();
    redis = new Redis(redisProcess.redisUrl);
    const log = pino({ level: "warn" }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const metrics = createNodeMetrics({ node: "t1" });
    writeFailures = async () => (await metrics.recoveryFailures.get()).values.find((v) => v.labels.kind === "checkpoint_write")?.value ?? 0;
    repeats = new RepeatLog({ log });
    host = new ClusterRoomHost({
      ownership: new Ownership({
        // A write to the frozen Redis fails, as one to a Redis that is away does.
        redis: withScripts(new Redis(redisProcess.redisUrl, { commandTimeout: 300 })),
        nodeId: "t1",
        // Longer than Redis is frozen for, so the room is never fenced meanwhile.
        leaseMs: 10_000,
        bad: { report() {} },
      }),
      // Rarely: the periodic schedule is not what is under test.
      checkpointMs: 60_000,
      journalFlushMs: undefined,
      roomCap: new RoomCap(10, new RefusalLog(repeats, metrics.edgeRefusals), "t1"),
      metrics,
      log,
      failures: new RecoveryFailures(log, (kind) => metrics.recoveryFailures.inc({ kind })),
      tokenHash,
      redisReady: () => true,
      draining: () => false,
      onLoadChange() {},
    });
    host.start();
    const deps: DurableDeps = { host, tokenHash, seatHoldSeconds: 5, log, metrics: { ...metrics, ...createDurableCounters(metrics.registry) } };
    const httpServer = createServer();
    server = new Server({ transport: new WebSocketTransport({ server: httpServer }), greet: false, gracefullyShutdown: false, logger: log });
    server.define("tally", tallyRoom(deps, "every-change"));
    server.define("tally-periodic", tallyRoom(deps, "periodic"));
    server.define("ledger", ledgerRoom(deps, null));
    server.define("ledger-timed", ledgerRoom(deps, 50));
    await server.listen(0, "127.0.0.1");
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const room of rooms) await room.leave().catch(() => undefined);
    redisProcess?.child.kill("SIGCONT");
    host?.stop();
    await server?.gracefullyShutdown(false);
    repeats?.stop();
    redis?.disconnect();
    await redisProcess?.stop();
  });

  /** Two players in a new room of `roomName`, both synced, with the room's first checkpoint stored. */
  async function twoPlayers(roomName: string): Promise<[SdkRoom, SdkRoom]> {
    const client = new SdkClient(url);
    const ada = await client.create(roomName, {});
    const bob = await client.joinById(ada.roomId, {});
    rooms.push(ada, bob);
    await waitFor(() => (bob.state as { count?: number }).count === 0, 5000, () => "Bob synced");
    await waitFor(async () => (await redis.get(keys.checkpoint(ada.roomId))) !== null, 5000, () => "a first checkpoint");
    return [ada, bob];
  }

  const countOf = (room: SdkRoom) => (room.state as { count: number }).count;
  const storedCount = async (roomId: string) => (JSON.parse((await redis.get(keys.checkpoint(roomId)))!) as { game: { data: TallySnapshot } }).game.data.count;

  it("shows a count to nobody, the counting player included, until its checkpoint is stored", async () => {
    const [ada, bob] = await twoPlayers("tally");
    redisProcess.child.kill("SIGSTOP");
    let seenWhileFrozen: number | undefined;
    try {
      ada.send("add");
      // Time for the patch to arrive, were it sent: the periodic room below shows it well within this.
      await new Promise((r) => setTimeout(r, 1000));
      seenWhileFrozen = Math.max(countOf(ada), countOf(bob));
    } finally {
      redisProcess.child.kill("SIGCONT");
    }
    expect(seenWhileFrozen).toBe(0);
    expect(await writeFailures()).toBeGreaterThan(0);
    // Reported once, by the host that made the writes: one line for the outage, no second count of the room's own.
    const reported = logged.filter((l) => l.room === ada.roomId && String(l.event).startsWith("checkpoint_"));
    expect(reported.map((l) => l.event)).toEqual(["checkpoint_write_failed"]);
    let storedWhenSeen: number | undefined;
    await waitFor(async () => {
      if (countOf(bob) !== 1) return false;
      storedWhenSeen ??= await storedCount(bob.roomId);
      return true;
    }, 5000, () => "Bob sees the count once Redis is back");
    expect(storedWhenSeen).toBe(1);
    expect(countOf(ada)).toBe(1);
  });

  it("shows a periodic room's count at once, Redis frozen or not", async () => {
    const [ada, bob] = await twoPlayers("tally-periodic");
    redisProcess.child.kill("SIGSTOP");
    try {
      ada.send("add");
      await waitFor(() => countOf(bob) === 1, 5000, () => "Bob sees the count while Redis is frozen");
    } finally {
      redisProcess.child.kill("SIGCONT");
    }
    expect(await storedCount(bob.roomId)).toBe(0);
  });

  /** A checkpoint an older node left of a `name` room (seated by `tokens`), its snapshot at `version`, written as an orphan for this node to claim. */
  async function orphaned(roomId: string, game: { version: number; data: unknown }, name = "tally", tokens = ["tokenAAAA"]): Promise<void> {
    const checkpoint = {
      format: 3, roomId, name, nodeId: "gone", epoch: 1, takenAt: Date.now(), tick: 0, nextRefId: 5,
      seats: tokens.map((token) => ({ sessionId: `sess${token}`, tokenHash: tokenHash(token) })),
      game,
    };
    await redis.multi().set(keys.checkpoint(roomId), JSON.stringify(checkpoint)).set(keys.epoch(roomId), "1").sadd(keys.rooms, roomId).exec();
  }

  it("rebuilds a room by the name its checkpoint gives, upgrading its older snapshot, its seat held", async () => {
    await orphaned("tally-old", { version: 1, data: { n: 41 } });
    expect(await host.rehydrate("tally-old", "orphan", 0, undefined)).toBe(true);
    const room = matchMaker.getLocalRoomById("tally-old") as DurableRoom & { state: { count: number } };
    expect(room.roomName).toBe("tally");
    expect(room.state.count).toBe(41);
    expect(room.tokenVerdict("tokenAAAA")).toEqual({ seat: "sesstokenAAAA" });
    const stored = JSON.parse((await redis.get(keys.checkpoint("tally-old")))!) as { nodeId: string; game: unknown };
    expect(stored.nodeId).toBe("t1");
    expect(stored.game).toEqual({ version: 2, data: { count: 41 } });
  });

  it("quarantines a checkpoint whose snapshot version the game does not know", async () => {
    await orphaned("tally-future", { version: 3, data: { count: 1 } });
    expect(await host.rehydrate("tally-future", "orphan", 0, undefined)).toBe(false);
    expect(matchMaker.getLocalRoomById("tally-future")).toBeUndefined();
    expect(await redis.get(keys.quarantine("tally-future"))).toContain('"version":3');
  });

  /** A rebuilt ledger whose one player is back and synced, its refusals counted. */
  async function rebuiltLedger(roomId: string): Promise<{ player: SdkRoom; refusals: () => number }> {
    await orphaned(roomId, { version: 1, data: { entries: RESTORED } }, "ledger", [`token${roomId}`]);
    expect(await host.rehydrate(roomId, "orphan", 0, undefined)).toBe(true);
    const player = await new SdkClient(url).reconnect(`${roomId}:token${roomId}`);
    rooms.push(player);
    let refused = 0;
    player.onError((code) => {
      if (code === LEDGER_PAUSED) refused++;
    });
    await waitFor(() => entriesOf(player).length >= RESTORED.length, 5000, () => "the player synced");
    return { player, refusals: () => refused };
  }

  /** What the orphaned ledger holds: like a board, many squares, most of them 0. */
  const RESTORED = Array.from({ length: 64 }, (_, i) => (i % 5 === 0 ? i % 3 : 0));
  const entriesOf = (room: SdkRoom) => [...((room.state as { entries?: Iterable<number> }).entries ?? [])];

  it("sends a returning player the restored state once: in its full state, not again as a patch", async () => {
    const { player } = await rebuiltLedger("ledger-once");
    const added: number[] = [];
    Callbacks.get(player).onAdd("entries" as never, (value) => added.push(value as number));
    // Those it holds already are reported as the callback is set: only what a patch adds counts.
    added.length = 0;
    // Sent again while the room still waits: the first patch after the restore shows what it carried.
    const resend = setInterval(() => player.send("append"), 100);
    try {
      await waitFor(() => entriesOf(player).length > RESTORED.length, 5000, () => "the player sees its entry");
    } finally {
      clearInterval(resend);
    }
    expect(entriesOf(player).slice(0, RESTORED.length + 1)).toEqual([...RESTORED, RESTORED.length + 1]);
    expect(added[0]).toBe(RESTORED.length + 1);
  });

  it("takes the first action of the player whose return resumes the room", async () => {
    const { player, refusals } = await rebuiltLedger("ledger-first");
    player.send("append");
    await waitFor(() => entriesOf(player).length > RESTORED.length || refusals() > 0, 5000, () => "the entry taken or refused");
    expect(refusals()).toBe(0);
    expect(entriesOf(player).at(-1)).toBe(RESTORED.length + 1);
  });

  it("resumes a rebuilt room with no loop a second after, without the player who is not back", async () => {
    await orphaned("ledger-alone", { version: 1, data: { entries: RESTORED } }, "ledger-timed", ["tokenledger-alone"]);
    expect(await host.rehydrate("ledger-alone", "orphan", 0, undefined)).toBe(true);
    const room = matchMaker.getLocalRoomById("ledger-alone") as unknown as { state: InstanceType<typeof LedgerState>; changed(): Promise<void>; running(): boolean };
    redisProcess.child.kill("SIGSTOP");
    let resumed: boolean;
    try {
      // A change whose checkpoint cannot be stored now: the room's patches, and with them the ticks of its clock, are held back.
      room.state.entries.push(0);
      void room.changed();
      resumed = await waitFor(() => room.running(), 3000, () => "resumed").then(() => true, () => false);
    } finally {
      redisProcess.child.kill("SIGCONT");
    }
    expect(resumed).toBe(true);
  });
});
