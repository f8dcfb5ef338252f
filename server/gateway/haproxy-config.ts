/**
 * The configuration of the HAProxy a gateway runs as its data plane (GATEWAY_RELAY=haproxy). HAProxy
 * takes the public port: every websocket upgrade asks the gateway where to go (haproxy-route.lua,
 * answered by route-service.ts) and is then connected straight to its room's owner, HAProxy passing
 * the socket's bytes on without reading them; every other request goes to the gateway's own HTTP
 * listener on the loopback interface. The public edge's connection limits that only the listener
 * can apply are HAProxy's here: MAX_SOCKETS and MAX_SOCKETS_PER_IP. The rest of the edge (timeouts
 * aside) stays in the gateway and on the nodes.
 */
import type { EdgeSettings } from "../edge/edge-settings.ts";

export interface HaproxyConfigOptions {
  /** The public listener. */
  readonly host: string;
  readonly port: number;
  /** The gateway's own HTTP listener, on 127.0.0.1. */
  readonly controlPort: number;
  /** The gateway's route service (route-service.ts). */
  readonly routeSocket: string;
  /** The runtime API, which the gateway uses to cut sockets (haproxy-sessions.ts). */
  readonly adminSocket: string;
  readonly luaFile: string;
  /** How long an upgrade waits for the route service's answer: longer than the gateway holds it. */
  readonly routeWaitSeconds: number;
  readonly edge: EdgeSettings;
}

/** A player's socket carries a patch every tick and a ping every few seconds; one silent this long is gone. */
const TUNNEL_TIMEOUT = "1h";

export function haproxyConfig(o: HaproxyConfigOptions): string {
  const { edge } = o;
  const unlimited = [...addressesOf(edge.trustedProxies.text), ...addressesOf(edge.limitExemptIps.text)];
  return [
    "global",
    // One thread: a relay's work is a few system calls per frame, which one core carries for
    // thousands of players, and the CPU it takes stays on the core it is given.
    "  nbthread 1",
    // No global maxconn: HAProxy sizes it from the file descriptors it may open, two per player
    // (client and node), and a larger one would stop it from starting.
    `  lua-load ${o.luaFile}`,
    `  stats socket ${o.adminSocket} mode 600 level admin`,
    "",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    `  timeout client ${edge.requestTimeoutMs}ms`,
    `  timeout server ${edge.requestTimeoutMs}ms`,
    `  timeout http-request ${edge.headersTimeoutMs}ms`,
    `  timeout tunnel ${TUNNEL_TIMEOUT}`,
    // Game frames are small and timely: send each at once rather than wait to fill a packet.
    "  option http-no-delay",
    "",
    "frontend public",
    `  bind ${o.host}:${o.port}`,
    `  maxconn ${edge.maxSockets}`,
    "  stick-table type ipv6 size 100k expire 60s store conn_cur",
    unlimited.length > 0 ? `  acl unlimited src ${unlimited.join(" ")}` : "  acl unlimited always_false",
    // Counted as the edge counts them (limitKey): an IPv4 address, an IPv6 /64.
    "  tcp-request connection track-sc0 src,ipmask(32,64) if !unlimited",
    `  tcp-request connection reject if !unlimited { sc0_conn_cur gt ${edge.maxSocketsPerIp} }`,
    "  acl upgrade hdr_cnt(upgrade) gt 0",
    `  http-request lua.locus_route ${o.routeSocket} ${o.routeWaitSeconds} if upgrade`,
    "  http-request set-dst var(txn.locus_ip) if upgrade",
    "  http-request set-dst-port var(txn.locus_port) if upgrade",
    "  option forwardfor",
    "  use_backend owners if upgrade",
    "  default_backend gateway",
    "",
    "backend owners",
    // The address each upgrade was given by the route service.
    "  server owner 0.0.0.0:0",
    "",
    "backend gateway",
    `  server gateway 127.0.0.1:${o.controlPort}`,
    "",
  ].join("\n");
}

/** An AddressList's entries as HAProxy's `src` ACL takes them: addresses and CIDR blocks. */
function addressesOf(text: string): string[] {
  return text.trim() === "none" ? [] : text.split(/[\s,]+/).filter(Boolean);
}
