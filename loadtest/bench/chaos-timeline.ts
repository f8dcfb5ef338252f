/**
 * A swarm's view of a cluster's bad day, second by second: the load test's own swarm plays on
 * three nodes through a gateway while the busiest node is SIGKILLed a third of the way in and the
 * busiest survivor is drained two thirds in. What it yields is a timeline to plot, with both
 * events marked, so a reader sees what players felt rather than a percentile of it.
 */
import { redisAt } from "../../server/cluster/redis-endpoint.ts";
import { drainNode, killBusiestNode } from "../chaos.ts";
import { type RunningProcess, startGatewayProcess, startNodeProcess, startRedis } from "../processes.ts";
import { rampThenHold, targetAt } from "../schedule.ts";
import { Swarm } from "../swarm.ts";
import type { TimelineEvent, TimelinePoint } from "../timeline.ts";
import { BENCH_TOKEN, ROOM_SIZE } from "./capacity.ts";

const RAMP_S = 5;

export interface ChaosTimelineRun {
  readonly bots: number;
  readonly timeline: TimelinePoint[];
  readonly events: TimelineEvent[];
  readonly reconnected: number;
  readonly dropped: number;
  readonly longestGapMs: number;
  readonly lostTicks: number[];
}

export async function measureChaosTimeline(o: { bots: number; seconds: number; cpus: string | undefined }, progress: (line: string) => void): Promise<ChaosTimelineRun> {
  const redis = await startRedis({ cpus: o.cpus });
  const everything: RunningProcess[] = [redis];
  try {
    for (let i = 1; i <= 3; i++) {
      everything.push(await startNodeProcess({ REDIS_URL: redis.redisUrl, NODE_ID: `n${i}`, ADMIN_TOKEN: BENCH_TOKEN, MAX_PLAYERS: String(ROOM_SIZE), LOG_LEVEL: "warn" }, { cpus: o.cpus }));
    }
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" }, { cpus: o.cpus });
    everything.push(gateway);
    const fullBots = Math.max(1, Math.round(o.bots * 0.05));
    const stages = rampThenHold(o.bots, RAMP_S * 1000, o.seconds * 1000);
    const swarm = Swarm.local([{ worker: 0, startedAt: Date.now(), url: gateway.url, game: "arena", stages, fullBots, churnPerSecond: 0, tickHz: 30, followRoom: false }]);
    const startedAt = performance.now();
    const tick = () => swarm.tick(Math.round(targetAt(stages, performance.now() - startedAt)));
    let ticking: Promise<unknown> = Promise.resolve();
    const ticker = setInterval(() => (ticking = ticking.then(tick)), 1000);
    const events: TimelineEvent[] = [];
    const strikeAt = async (atS: number, kind: "kill-node" | "drain-node") => {
      await new Promise((r) => setTimeout(r, startedAt + atS * 1000 - performance.now()));
      const what = kind === "kill-node" ? await killBusiestNode(redisAt(redis.redisUrl)) : await drainNode({ redis: redisAt(redis.redisUrl) }, BENCH_TOKEN);
      events.push({ atS: (performance.now() - startedAt) / 1000, what });
      progress(`chaos timeline: ${what}`);
    };
    try {
      await strikeAt(RAMP_S + o.seconds / 3, "kill-node");
      await strikeAt(RAMP_S + (2 * o.seconds) / 3, "drain-node");
      await new Promise((r) => setTimeout(r, startedAt + (RAMP_S + o.seconds) * 1000 - performance.now()));
    } finally {
      clearInterval(ticker);
      await ticking;
      await swarm.stop();
      await tick();
    }
    return {
      bots: o.bots,
      timeline: swarm.timeline,
      events,
      reconnected: swarm.total("reconnected"),
      dropped: swarm.total("dropped"),
      longestGapMs: swarm.longestGapMs,
      lostTicks: swarm.lostTicks,
    };
  } finally {
    await Promise.all(everything.map((p) => p.stop()));
  }
}
