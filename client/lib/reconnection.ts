import type { Room } from "@colyseus/sdk";

/**
 * A Locus room may move to another node at any moment, a second after joining too: always
 * reconnect, and try first after 5 ms rather than the SDK's 200: the gateway holds a retry that
 * comes too early.
 */
export function reconnectPromptly(room: Room): void {
  room.reconnection.minUptime = 0;
  room.reconnection.delay = 5;
  room.reconnection.minDelay = 5;
}
