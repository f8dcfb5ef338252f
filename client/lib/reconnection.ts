import type { Room } from "@colyseus/sdk";

/** The first retry's wait: the gateway holds a retry that comes too early, so there is no reason to wait the SDK's 200 ms. */
export const FIRST_RETRY_MS = 5;
/** The longest wait between two retries, as the SDK's. */
export const MAX_RETRY_MS = 5000;
/**
 * Retries before giving up on a server that keeps refusing at once: enough for the shortest
 * jittered waits to add up past SEAT_HOLD_SECONDS' 20 s default (30 s at the least), so a player whose
 * seat is still held is never the one to give up. A seat that has gone is refused for good
 * (close code 4003), which ends the retries sooner.
 */
export const MAX_RETRIES = 20;

/**
 * The wait before retry `attempt` (1, 2, …): twice the last one's envelope, up to MAX_RETRY_MS,
 * and drawn at random in its upper half ("equal jitter"). Players cut at the same moment (a
 * gateway restarting, a load balancer failing over) retry together; waits that doubled in step
 * would bring them back in waves, each one a burst at the gateway, while drawn apart they arrive
 * spread out. Half the envelope is kept as a floor so that a number of retries still spans a
 * known time, which a wait drawn from zero (or decorrelated from the last draw) would not.
 */
export function jitteredRetryMs(attempt: number, random: () => number = Math.random): number {
  const envelope = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(1, attempt));
  return envelope / 2 + random() * (envelope / 2);
}

/** A Locus room may move to another node at any moment, a second after joining too: always reconnect, promptly, with jittered waits. */
export function reconnectPromptly(room: Room): void {
  room.reconnection.minUptime = 0;
  room.reconnection.delay = FIRST_RETRY_MS;
  room.reconnection.minDelay = FIRST_RETRY_MS;
  room.reconnection.maxDelay = MAX_RETRY_MS;
  room.reconnection.maxRetries = MAX_RETRIES;
  room.reconnection.backoff = (attempt) => jitteredRetryMs(attempt);
}
