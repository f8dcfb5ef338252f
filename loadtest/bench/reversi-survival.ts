/**
 * Reversi through crashes and drains: two bots play match after match on a three-node cluster
 * while the node running their room is SIGKILLed again and again (a fresh node joining for each
 * one lost), then drained. After every recovery it counts the moves lost (a square a bot saw a
 * disc on that the rebuilt board shows empty, or fewer discs than the last board a bot saw) and
 * how far each clock is from its value when the room went down.
 */
import "../../client/lib/use-ws.ts";
import { joinReversi } from "../../client/lib/node.ts";
import { clockAt, ReversiBot } from "../reversi-bot.ts";
import { type LocusProcess, type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../processes.ts";
import { BLACK, WHITE } from "../../shared/reversi/rules.ts";
import { BENCH_TOKEN } from "./capacity.ts";

export interface ReversiSurvivalOptions {
  readonly kills: number;
  readonly drains: number;
  readonly cpus: string | undefined;
}

export interface ReversiRecovery {
  readonly how: "kill" | "drain";
  /** From the kill (or the drain call) to both bots having state from the new node. */
  readonly recoveryMs: number;
  readonly movesLost: number;
  /** The larger of the two clocks' distance from its value when the room went down. */
  readonly clockErrorMs: number;
  /** Frames either bot got whose board was not 64 squares, since the room went down. */
  readonly badBoards: number;
  /** Discs on the board when the room went down. */
  readonly discs: number;
}

export interface ReversiSurvivalRun {
  readonly recoveries: ReversiRecovery[];
  readonly matches: number;
  readonly movesPlayed: number;
}

/** Bots answer quickly, so that a kill often falls on a move in flight. */
const THINK_MS = 100;
const NODES = 3;
/** Play between two recoveries. */
const PLAY_MS = 1500;

export async function measureReversiSurvival(o: ReversiSurvivalOptions, progress: (line: string) => void): Promise<ReversiSurvivalRun> {
  const redis = await startRedis({ cpus: o.cpus });
  const everything: RunningProcess[] = [redis];
  const nodes = new Map<string, LocusProcess>();
  let bots: ReversiBot[] = [];
  const headers = { authorization: `Bearer ${BENCH_TOKEN}` };
  let nodeCount = 0;
  const addNode = async () => {
    const id = `n${++nodeCount}`;
    const node = await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: id, ADMIN_TOKEN: BENCH_TOKEN, LOG_LEVEL: "warn", REVERSI_CLOCK_MS: "3600000" }, { cpus: o.cpus });
    nodes.set(id, node);
    everything.push(node);
  };
  try {
    for (let i = 0; i < NODES; i++) await addNode();
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    let matches = 0;
    let movesPlayed = 0;
    /** Discs at the start of the current match's tally, so that moves are counted once across its recoveries. */
    let discsCounted = 4;
    const newMatch = async () => {
      await Promise.all(bots.map((b) => b.session.leave().catch(() => undefined)));
      const black = await joinReversi({ url: gateway.url, name: "Black" });
      const white = await joinReversi({ url: gateway.url, name: "White", roomId: black.room.roomId });
      bots = [black, white].map((s) => new ReversiBot(s, THINK_MS));
      await waitFor(() => bots.every((b) => b.session.state?.turn === BLACK), 5000, () => "a new match started");
      for (const b of bots) b.play();
      matches++;
      discsCounted = 4;
    };
    const tally = () => {
      const discs = bots[0]?.last?.discs ?? 4;
      movesPlayed += discs - discsCounted;
      discsCounted = discs;
    };
    await newMatch();

    const recoveries: ReversiRecovery[] = [];
    const plan = [...Array<"kill">(o.kills).fill("kill"), ...Array<"drain">(o.drains).fill("drain")];
    for (const [i, how] of plan.entries()) {
      await new Promise((r) => setTimeout(r, PLAY_MS));
      tally();
      // A match that ended (or is about to: a few discs left) gives way to a new one, so every recovery meets a game under way.
      if (bots.some((b) => b.last!.winner !== 0 || b.last!.discs > 56)) await newMatch();
      await new Promise((r) => setTimeout(r, 300));
      const from = bots[0]!.session.state!.nodeId;
      const node = nodes.get(from)!;
      for (const b of bots) b.clearFrames();
      const lostBefore = bots.map((b) => b.lost.size);
      const badBefore = bots.map((b) => b.badBoards);
      const downAt = performance.now();
      if (how === "kill") {
        node.child.kill("SIGKILL");
      } else {
        const res = await fetch(`${node.adminUrl}/admin/drain`, { method: "POST", headers });
        if (res.status !== 202) throw new Error(`drain of ${from} refused: ${res.status} ${await res.text()}`);
      }
      await waitFor(() => bots.every((b) => b.frames.some((f) => f.nodeId !== from)), 30_000, () => `both bots on a new node after the ${how} of ${from}`);
      const recoveredAt = Math.max(...bots.map((b) => b.frames.find((f) => f.nodeId !== from)!.at));
      const around = bots.map((b) => ({ before: b.frames.findLast((f) => f.nodeId === from)!, after: b.frames.find((f) => f.nodeId !== from)! }));
      const last = around.reduce((a, b) => (b.before.discs > a.before.discs ? b : a)).before;
      const lostSquares = Math.max(...bots.map((b, j) => b.lost.size - lostBefore[j]!));
      const movesLost = Math.max(lostSquares, ...around.map(({ after }) => Math.max(0, last.discs - after.discs)));
      const clockErrorMs = Math.max(...around.flatMap(({ before, after }) => ([BLACK, WHITE] as const).map((c) => Math.abs(after.clockMs[c] - clockAt(before, c, downAt)))));
      const badBoards = bots.reduce((n, b, j) => n + b.badBoards - badBefore[j]!, 0);
      recoveries.push({ how, recoveryMs: recoveredAt - downAt, movesLost, clockErrorMs, badBoards, discs: last.discs });
      progress(`reversi-survival: ${how} ${i + 1}/${plan.length} of ${from}: back in ${(recoveredAt - downAt).toFixed(0)} ms, ${movesLost} moves lost, clocks within ${clockErrorMs.toFixed(0)} ms`);
      if (how === "kill") {
        nodes.delete(from);
        await addNode();
      } else {
        await waitFor(async () => ((await (await fetch(`${node.adminUrl}/admin/status`, { headers })).json()) as { state: string }).state === "drained", 30_000);
        await fetch(`${node.adminUrl}/admin/undrain`, { method: "POST", headers });
      }
    }
    tally();
    return { recoveries, matches, movesPlayed };
  } finally {
    for (const b of bots) b.stop();
    await Promise.all(bots.map((b) => b.session.leave().catch(() => undefined)));
    await Promise.all(everything.map((p) => p.stop()));
  }
}
