/**
 * What the swarm's parent and its worker processes say to each other.
 */

/** Handed to a worker in its environment (LOCUS_SWARM_ORDERS, JSON). */
export interface WorkerOrders {
  readonly worker: number;
  readonly url: string;
  readonly bots: number;
  readonly rampMs: number;
  readonly durationMs: number;
  readonly tickHz: number;
}

/** Sent by a worker once a second, and once more when told to stop. */
export interface SwarmSample {
  /** Bots connected now (a gauge). */
  connected: number;
  /** Bots whose join failed so far (a gauge). */
  failed: number;
  /** Bots that were disconnected for good so far (a gauge). */
  dropped: number;
  /** Successful reconnects so far (a gauge). */
  reconnected: number;
  /** State frames received since the last sample. */
  stateFrames: number;
  /** Bytes received since the last sample. */
  bytes: number;
  /** Input-to-acknowledgement latencies since the last sample, in milliseconds. */
  ackLatencies: number[];
  /** The longest gap between two state frames of any one bot since the last sample. */
  longestGapMs: number;
  /** The last join error, for the report when joins fail. */
  lastError: string;
  /** In the last sample only: for each bot that reconnected, its longest gap between two state frames over the whole run. */
  reconnectedBotGaps?: number[];
}
