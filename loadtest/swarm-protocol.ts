/**
 * What a swarm and its bot processes say to each other: the orders a worker process is started
 * with, the requests it answers, and the sample it answers with. An agent on another machine
 * answers its coordinator with the same sample, merged over its own workers.
 */
import type { NetConditions } from "./netem/conditions.ts";
import { type Stage, share, shareStages } from "./schedule.ts";

/** The games bots can play; each has its bot kinds in bot-kinds.ts. */
export const GAMES = ["arena"] as const;
export type Game = (typeof GAMES)[number];

/** What a swarm is to do: the same whole for a run, an agent's part of it, or a worker's. */
export interface SwarmPlan {
  readonly url: string;
  readonly game: Game;
  /** The targets: bots of both kinds together. */
  readonly stages: readonly Stage[];
  /** Full bots (the headless client library) at the peak, spread in proportion below it: the observers. */
  readonly fullBots: number;
  /** Bots per second replaced (one leaves, a new one joins) while the target holds steady. */
  readonly churnPerSecond: number;
  readonly tickHz: number;
  /** The bots' sockets go straight to their rooms' nodes when the gateway names them (docs/architecture.md, "Direct connections"). */
  readonly followRoom: boolean;
  /** A distant network to play through: each bot process runs its own netem proxy to the target. */
  readonly net?: NetConditions;
}

/** Part `i` of `n` of a plan: every target, the full bots and the churn shared out. */
export function splitPlan(plan: SwarmPlan, n: number, i: number): SwarmPlan {
  return { ...plan, stages: shareStages(plan.stages, n, i), fullBots: share(plan.fullBots, n, i), churnPerSecond: plan.churnPerSecond / n };
}

/** The first message a worker process receives: what it is to do. */
export interface WorkerOrders extends SwarmPlan {
  readonly worker: number;
  /** When the run began (epoch ms): the stages count from there, however long the process took to start. */
  readonly startedAt: number;
  /** When set, every ack latency measured is also appended to a file of this process's in this directory, in microseconds, one per line. */
  readonly rawAcksDir?: string;
}

/**
 * What a swarm asks of its workers (or agents); each answers every request with a sample.
 * `storm` marks the bots connected now as the storm's cohort, and with `cut` cuts their sockets.
 */
export type SwarmRequest = { readonly kind: "sample" } | { readonly kind: "stop" } | { readonly kind: "storm"; readonly cut: boolean };

/**
 * A reconnect storm is measured until every bot of its cohort is back with state or has given up:
 * past the run's end if need be, for at most this long after the cut. A bot still on its way back
 * then has outlasted any seat hold a server would keep for it, and counts as lost.
 */
export const STORM_SETTLE_MS = 45_000;

/** Per bot of a reconnect storm's cohort: how long from its socket's drop until it had state again. */
export interface StormResult {
  readonly backMs: number[];
  /** Bots of the cohort that never had state again (still down at the end, or gave up). */
  readonly lost: number;
}

/** Sent by a worker (or agent) in answer to each request. */
export interface SwarmSample {
  /** Bots connected now (a gauge). */
  connected: number;
  /** Of those, lean bots: the ones whose bytes and acks are counted. */
  leanConnected: number;
  /** Joins that succeeded so far (a gauge). */
  joined: number;
  /** Joins that failed so far (a gauge); a failed join is tried again while the target wants the bot. */
  failed: number;
  /** Bots that were disconnected for good so far (a gauge); each is replaced while the target wants it. */
  dropped: number;
  /** Of those, how many ended with each close code (a gauge), for the report to say why. */
  droppedCodes: Record<string, number>;
  /** Successful reconnects so far (a gauge). */
  reconnected: number;
  /** Bots that left and were replaced by a new one so far (a gauge). */
  churned: number;
  /** Bots of a reconnect storm's cohort on their way back: neither with state again nor given up (a gauge). */
  stormPending: number;
  /** State frames the lean bots received since the last sample. */
  stateFrames: number;
  /** Bytes the lean bots received since the last sample. */
  bytes: number;
  /** Input-to-acknowledgement latencies since the last sample: an HDR histogram in microseconds, compressed; "" when none. */
  ackHistogram: string;
  /** The longest gap between two state frames of any one bot since the last sample. */
  longestGapMs: number;
  /** The last join error, for the report when joins fail. */
  lastError: string;
  /** The busiest bot process's own load over the last second: if it saturates, the figures say more about the bots than the server. */
  cpuPercent: number;
  loopDelayP99Ms: number;
  /** In the last sample only: for each bot that reconnected, its longest gap between two state frames over its life. */
  reconnectedBotGaps?: number[];
  /** In the last sample only: for each move of a full bot's room, the ticks the room lost. */
  lostTicks?: number[];
  /** In the last sample only, after a reconnect storm. */
  storm?: StormResult;
}
