/**
 * The limits and the CORS policy every public listener applies, node and gateway alike, read from
 * the same variables by both. docs/security.md ("The public edge") says why each default is what
 * it is.
 */
import type { EnvReader } from "../config.ts";
import { AddressList } from "./client-address.ts";

export interface EdgeSettings {
  /** Largest HTTP request body; matchmaking takes a name and maybe a room id. */
  readonly maxBodyBytes: number;
  /** How long a client may take to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** How long a client may take to send a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** TCP connections held at once, all clients together. */
  readonly maxSockets: number;
  /** Sockets one client address may hold at once. */
  readonly maxSocketsPerIp: number;
  /** Matchmaking requests (`POST /matchmake/*`) one address may make per second, after its burst. */
  readonly joinsPerIpPerSecond: number;
  readonly joinBurstPerIp: number;
  /** Peers whose `X-Forwarded-For` is believed: the gateways, the load balancers. */
  readonly trustedProxies: AddressList;
  /** Client addresses no per-address limit applies to: a load generator's. */
  readonly limitExemptIps: AddressList;
  /** Origins of game pages hosted elsewhere that browsers may call the public HTTP API from. */
  readonly allowedOrigins: readonly string[];
}

/** The loopback addresses a gateway on the same machine connects from. */
export const DEFAULT_TRUSTED_PROXIES = "127.0.0.1, ::1";

export function readEdgeSettings(read: EnvReader, problems: string[]): EdgeSettings {
  const settings: EdgeSettings = {
    maxBodyBytes: read.int("MAX_BODY_BYTES", 8192, 256, 1_048_576),
    headersTimeoutMs: read.int("HEADERS_TIMEOUT_MS", 10_000, 1000, 300_000),
    requestTimeoutMs: read.int("REQUEST_TIMEOUT_MS", 15_000, 1000, 300_000),
    maxSockets: read.int("MAX_SOCKETS", 10_000, 1, 1_000_000),
    maxSocketsPerIp: read.int("MAX_SOCKETS_PER_IP", 256, 1, 1_000_000),
    joinsPerIpPerSecond: read.int("JOINS_PER_IP_PER_SECOND", 10, 1, 100_000),
    joinBurstPerIp: read.int("JOIN_BURST_PER_IP", 30, 1, 1_000_000),
    trustedProxies: read.parsed("TRUSTED_PROXIES", addressList(DEFAULT_TRUSTED_PROXIES), AddressList.parse),
    limitExemptIps: read.parsed("LIMIT_EXEMPT_IPS", addressList(""), AddressList.parse),
    allowedOrigins: readAllowedOrigins(read),
  };
  // Node's http server refuses a headers timeout longer than the request timeout it is part of.
  if (settings.headersTimeoutMs > settings.requestTimeoutMs) {
    problems.push(`HEADERS_TIMEOUT_MS (${settings.headersTimeoutMs}) cannot exceed REQUEST_TIMEOUT_MS (${settings.requestTimeoutMs}): the headers are part of the request`);
  }
  return settings;
}

function addressList(text: string): AddressList {
  const parsed = AddressList.parse(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/**
 * ALLOWED_ORIGINS, comma-separated: each is kept as a browser serialises an Origin header (scheme
 * and host in lower case, no default port), so a request's Origin is checked by plain equality.
 */
function readAllowedOrigins(read: EnvReader): string[] {
  const valid = (item: string) => ORIGIN.test(item) && URL.canParse(item);
  return read.list("ALLOWED_ORIGINS", valid, "http(s)://host[:port] origins, comma-separated").map((o) => new URL(o).origin);
}

const ORIGIN = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
