/**
 * The gateway's answer to a client that follows its room: where the room's socket goes now. Kept
 * free of the SDK, for the load tester's lean bots too.
 */
import { PUBLIC_URL_PATTERN } from "../../shared/protocol.ts";

/**
 * The gateway holds a lookup while the room has no live owner (GATEWAY_HOLD_MS, 5 s by default); a
 * gateway that has not answered well past that is stuck, and the socket goes through it instead
 * of waiting on it for good.
 */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * A socket to a named owner that has not opened by then is given up for the gateway. A node opens
 * one in milliseconds; a dial that hangs (a firewall dropping it) would otherwise wait out the
 * browser's or the operating system's connect timeout, minutes on Linux.
 */
export const DIRECT_DIAL_TIMEOUT_MS = 3000;

/**
 * The owner's public websocket address (ws(s)://host[:port]) as the gateway at `gatewayHttp`
 * names it, holding while the room has no live owner; undefined when the socket is to go through
 * the gateway (the owner advertises none, the room is unknown, or the gateway did not say).
 */
export async function ownerAddress(gatewayHttp: string, roomId: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${gatewayHttp}/rooms/${encodeURIComponent(roomId)}/address`, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { url?: unknown };
    return typeof body.url === "string" && PUBLIC_URL_PATTERN.test(body.url) ? body.url : undefined;
  } catch {
    return undefined;
  }
}

/** `url` with the scheme, host and port of `origin`. */
export function withOrigin(url: string, origin: string): string {
  const to = new URL(origin);
  const from = new URL(url);
  from.protocol = to.protocol;
  from.hostname = to.hostname;
  from.port = to.port;
  return from.toString();
}
