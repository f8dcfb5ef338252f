/**
 * An operator drain: one node holding many rooms with lean bots playing in them, drained through
 * its admin API into the other nodes. Measures each bot's hitch (the longest gap between two state
 * frames while its room moved) and the total drain time. That a room resumes at the exact tick it
 * froze at is proven by test/cluster-drain.test.ts with full clients.
 */
import type { AdminStatus } from "../../server/http/admin.ts";
import { type RunningProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../processes.ts";
import { LoopDelay } from "../loop-delay.ts";
import { BENCH_TOKEN } from "./capacity.ts";
import { Crowd } from "./crowd.ts";

export interface DrainOptions {
  readonly rooms: number;
  readonly botsPerRoom: number;
  /** Nodes that take the rooms. */
  readonly takers: number;
  readonly cpus: string | undefined;
}

export interface DrainRun {
  readonly roomsMoved: number;
  readonly roomsTotal: number;
  readonly drainMs: number;
  readonly allMovedMs: number;
  readonly handOffMs: number[];
  readonly hitchesMs: number[];
  readonly botsLost: number;
  readonly botLoopDelayP99Ms: number;
  readonly botLoopDelayMaxMs: number;
}

export async function measureDrain(o: DrainOptions, progress: (line: string) => void): Promise<DrainRun> {
  const redis = await startRedis({ cpus: o.cpus });
  const everything: RunningProcess[] = [redis];
  let crowd: Crowd | undefined;
  const env = (nodeId: string) => ({ REDIS_URL: redis.redisUrl, NODE_ID: nodeId, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(o.botsPerRoom), LOG_LEVEL: "warn" });
  const admin = { authorization: `Bearer ${BENCH_TOKEN}` };
  try {
    const drained = await startNodeProcess(env("n1"), { cpus: o.cpus });
    everything.push(drained);
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    progress(`joining ${o.rooms * o.botsPerRoom} bots into ${o.rooms} rooms on n1…`);
    crowd = new Crowd(gateway.url);
    await crowd.growTo(o.rooms * o.botsPerRoom);
    const { bots } = crowd;
    for (let i = 2; i <= o.takers + 1; i++) everything.push(await startNodeProcess(env(`n${i}`), { cpus: o.cpus }));
    await new Promise((r) => setTimeout(r, 1500));

    // The bots measure the hitch on their own clock; how late their own event loop ran says how much of it is theirs.
    const botLoop = new LoopDelay(5);
    for (const b of bots) b.clearWindow();
    const t0 = performance.now();
    const res = await fetch(`${drained.adminUrl}/admin/drain`, { method: "POST", headers: admin });
    if (res.status !== 202) throw new Error(`drain refused: ${res.status} ${await res.text()}`);
    let status: AdminStatus | undefined;
    await waitFor(async () => {
      status = (await (await fetch(`${drained.adminUrl}/admin/status`, { headers: admin })).json()) as AdminStatus;
      return status.state === "drained";
    }, 120_000);
    await waitFor(() => bots.every((b) => b.reconnects > 0), 30_000, () => "every bot reconnected to its room's new home");
    const allMovedMs = performance.now() - t0;
    botLoop.stop();
    await new Promise((r) => setTimeout(r, 500));
    const handOffs = Object.values(status!.handOffs);
    const run: DrainRun = {
      roomsMoved: handOffs.filter((h) => h.status === "moved").length,
      roomsTotal: handOffs.length,
      drainMs: (status!.drainFinishedAt ?? 0) - (status!.drainStartedAt ?? 0),
      allMovedMs,
      handOffMs: handOffs.map((h) => h.ms ?? 0),
      hitchesMs: bots.map((b) => b.longestGap()),
      botsLost: bots.filter((b) => b.leftWith !== undefined).length,
      botLoopDelayP99Ms: botLoop.p99Ms(),
      botLoopDelayMaxMs: botLoop.maxMs(),
    };
    progress(`drained ${run.roomsMoved}/${run.roomsTotal} rooms in ${run.drainMs} ms`);
    return run;
  } finally {
    crowd?.close();
    await Promise.all(everything.map((p) => p.stop()));
  }
}
