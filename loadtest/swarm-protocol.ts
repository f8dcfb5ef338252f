/**
 * What the swarm's parent and its worker processes say to each other.
 */

/** Handed to a worker in its environment (LOCUS_SWARM_ORDERS, JSON). */
export interface WorkerOrders {
  readonly worker: number;
  readonly url: string;
  /** Lean bots: the load. */
  readonly bots: number;
  /** Full bots (the headless client library), joined after the lean ones: the observers. */
  readonly fullBots: number;
  readonly rampMs: number;
  readonly durationMs: number;
  readonly tickHz: number;
}

/** Sent by a worker when the parent asks for one ("sample", once a second), and when told to "stop". */
export interface SwarmSample {
  /** Bots connected now (a gauge). */
  connected: number;
  /** Of those, lean bots: the ones whose bytes and acks are counted. */
  leanConnected: number;
  /** Bots whose join failed so far (a gauge). */
  failed: number;
  /** Bots that were disconnected for good so far (a gauge). */
  dropped: number;
  /** Successful reconnects so far (a gauge). */
  reconnected: number;
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
  /** This worker's own load over the last second: if it saturates, the figures say more about the bots than the server. */
  cpuPercent: number;
  loopDelayP99Ms: number;
  /** In the last sample only: for each bot that reconnected, its longest gap between two state frames over the whole run. */
  reconnectedBotGaps?: number[];
  /** In the last sample only: for each move of a full bot's room, the ticks the room lost. */
  lostTicks?: number[];
}
