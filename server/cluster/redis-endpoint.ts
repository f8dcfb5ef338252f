/**
 * Where the cluster's Redis is and how to reach it, the one place ioredis connection options are
 * built from settings: a single server by URL (`REDIS_URL`), or a master found through Sentinel
 * (`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`), with a password and TLS in either mode. Nodes
 * (Locus's own connections and Colyseus's presence and driver), gateways, the ops CLI and the load
 * tester all open their connections here, so every process follows a failover the same way.
 */
import { Redis, type RedisOptions } from "ioredis";
import { redactUrl } from "../redact.ts";

export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** Credentials and transport, the same in both modes. */
export interface RedisAccess {
  /** The master's (and replicas') `requirepass`; in URL mode it may sit in the URL instead. */
  readonly password: string | undefined;
  /** The sentinels' own `requirepass`, when they have one. */
  readonly sentinelPassword: string | undefined;
  /** TLS to Redis (and to the sentinels): `REDIS_TLS=1`, or a `rediss://` URL. */
  readonly tls: boolean;
  /** PEM text of a private CA to trust for TLS, read from `REDIS_CA_FILE`. */
  readonly ca: string | undefined;
}

export type RedisEndpoint =
  | (RedisAccess & { readonly kind: "url"; readonly url: string })
  | (RedisAccess & { readonly kind: "sentinel"; readonly sentinels: readonly SentinelAddress[]; readonly masterName: string });

/** One Redis by URL, with no password or CA besides what the URL says: a test's or a benchmark's own. */
export function redisAt(url: string): RedisEndpoint {
  return { kind: "url", url, password: undefined, sentinelPassword: undefined, tls: url.startsWith("rediss://"), ca: undefined };
}

/** The endpoint as a log line or an error message may show it: never a password. */
export function describeRedis(endpoint: RedisEndpoint): string {
  if (endpoint.kind === "url") return redactUrl(endpoint.url);
  return `master "${endpoint.masterName}" via sentinels ${endpoint.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
}

/**
 * A new connection to the endpoint's master, `extra` on top of the endpoint's own options. In
 * Sentinel mode the client asks the sentinels for the master on every (re)connect; a former
 * master it still reaches (a partition healed, a failover by hand) has its clients killed by the
 * sentinels when they turn it into a replica, and answers a write with READONLY, which makes the
 * client reconnect through the sentinels too. (ioredis's `failoverDetector` is not used: a
 * `+switch-master` that arrives while the client is reconnecting after its master died ends the
 * client for good, ioredis 5.11.)
 */
export function newRedis(endpoint: RedisEndpoint, extra: RedisOptions = {}): Redis {
  const tls = endpoint.tls ? (endpoint.ca ? { ca: endpoint.ca } : {}) : undefined;
  const access: RedisOptions = {
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(tls ? { tls } : {}),
  };
  if (endpoint.kind === "url") return new Redis(endpoint.url, { ...access, ...extra });
  return new Redis({
    ...access,
    sentinels: endpoint.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: endpoint.masterName,
    ...(endpoint.sentinelPassword !== undefined ? { sentinelPassword: endpoint.sentinelPassword } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
    ...extra,
  });
}
