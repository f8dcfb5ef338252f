/**
 * What a swarm run looked like second by second: the series the HTML report plots, with the
 * chaos events (node kills, drains) that the plots mark.
 */

export interface TimelinePoint {
  /** Seconds since the swarm started, at the end of this one-second window. */
  readonly t: number;
  /** Bots the run wanted connected then (its stages' target). */
  readonly target: number;
  /** Bots connected at the end of the window. */
  readonly connected: number;
  /** Input-to-ack latency of the inputs acknowledged in this window, in milliseconds; null when none were. */
  readonly ackP50: number | null;
  readonly ackP99: number | null;
  readonly ackMax: number | null;
  /** State frames all bots received in this window. */
  readonly stateUpdates: number;
  /** Bytes received in this window per connected lean bot (full bots do not count their bytes). */
  readonly bytesPerBot: number;
}

export interface TimelineEvent {
  /** Seconds since the swarm started. */
  readonly atS: number;
  readonly what: string;
}
