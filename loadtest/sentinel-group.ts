/**
 * A Redis that fails over, on this machine: a master, its replicas and three sentinels watching
 * them, for the failover tests and `npm run cluster -- --sentinel`. Sentinels run from Debian's
 * redis-server binary (`redis-server sentinel.conf --sentinel`, which is all the redis-sentinel
 * package adds), each with a config file of its own in a temporary directory, since a sentinel
 * rewrites its config as it learns.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./ports.ts";
import { answersPing, type RedisProcess, type RunningProcess, spawnProcess, startRedis, waitFor } from "./processes.ts";

/** How long the sentinels wait for a silent master before they agree it is down, in the tests and `npm run cluster`. */
export const DOWN_AFTER_MS = 1000;

export interface SentinelGroupOptions {
  /** The master's name in the sentinels' configuration. */
  readonly masterName?: string;
  /** `requirepass` of the master and replicas (the sentinels use it too). */
  readonly password?: string;
  /** `requirepass` of the sentinels themselves. */
  readonly sentinelPassword?: string;
  readonly replicas?: number;
  readonly downAfterMs?: number;
  /** Fixed ports: the master's, then each replica's; the sentinels' follow (`npm run cluster`). */
  readonly basePort?: number;
  /** Every server and sentinel speaks TLS only, with these PEM files, and replicates and gossips over it. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

export interface SentinelGroup {
  readonly masterName: string;
  /** Every redis-server, the first started as the master. */
  readonly servers: readonly RedisProcess[];
  readonly sentinels: readonly RunningProcess[];
  /** What a node, gateway or the ops CLI is given to find the master through the sentinels. */
  readonly env: Readonly<Record<string, string>>;
  /** The server the sentinels name as master now. */
  master(): Promise<RedisProcess>;
  /** Resolves once the sentinels name another master than `old` and it accepts writes. */
  failedOver(old: RedisProcess, timeoutMs: number): Promise<RedisProcess>;
  /** Every process printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
  const masterName = options.masterName ?? "locus";
  const downAfterMs = options.downAfterMs ?? DOWN_AFTER_MS;
  const replicas = options.replicas ?? 1;
  const portAt = async (i: number) => (options.basePort === undefined ? freePort() : options.basePort + i);
  const dir = mkdtempSync(join(tmpdir(), "locus-sentinel-"));
  const started: RunningProcess[] = [];
  const servers: RedisProcess[] = [];
  const sentinels: RunningProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const auth = { ...(options.password === undefined ? {} : { password: options.password }), ...(options.tls ? { tls: options.tls } : {}) };
  const clientTls = options.tls ? { tls: { ca: readFileSync(options.tls.ca, "utf8") } } : {};
  try {
    const master = await startRedis({ port: await portAt(0), ...auth });
    started.push(master);
    servers.push(master);
    for (let i = 1; i <= replicas; i++) {
      const replica = await startRedis({ port: await portAt(i), replicaOf: master.port, ...auth });
      started.push(replica);
      servers.push(replica);
      await waitFor(() => linkUp(replica.port, options.password, clientTls), 10_000, () => `replica ${replica.port} in sync\n${replica.output()}`);
    }
    for (let i = 0; i < 3; i++) {
      const port = await portAt(replicas + 1 + i);
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          ...(options.tls
            ? ["port 0", `tls-port ${port}`, `tls-cert-file ${options.tls.cert}`, `tls-key-file ${options.tls.key}`, `tls-ca-cert-file ${options.tls.ca}`, "tls-auth-clients no", "tls-replication yes"]
            : [`port ${port}`]),
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 1`,
          ...(options.password === undefined ? [] : [`sentinel auth-pass ${masterName} ${options.password}`]),
          ...(options.sentinelPassword === undefined ? [] : [`requirepass ${options.sentinelPassword}`]),
          "",
        ].join("\n"),
      );
      const sentinel = { ...spawnProcess("redis-server", [conf, "--sentinel"], {}, port), url: `redis://127.0.0.1:${port}` };
      started.push(sentinel);
      sentinels.push(sentinel);
      // Over TLS nothing here speaks to it; its log says when it watches the master.
      const ready = options.tls ? async () => sentinel.output().includes("+monitor") : () => answersPing(port);
      await waitFor(ready, 10_000, () => `sentinel ${port} did not start:\n${sentinel.output()}`);
    }
    const ask = (port: number) =>
      new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...clientTls, ...(options.sentinelPassword ? { password: options.sentinelPassword } : {}) });
    // A failover needs every sentinel to know the replica and a quorum of the others.
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const client = ask(s.port);
          client.on("error", () => undefined);
          try {
            await client.connect();
            const known = (await client.call("SENTINEL", "replicas", masterName)) as unknown[];
            const peers = (await client.call("SENTINEL", "sentinels", masterName)) as unknown[];
            if (known.length < replicas || peers.length < 2) return false;
          } catch {
            return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      30_000,
      () => `sentinels aware of each other and of the replicas\n${sentinels.map((s) => s.output()).join("\n")}`,
    );
    const master_ = async (): Promise<RedisProcess> => {
      for (const s of sentinels) {
        const client = ask(s.port);
        client.on("error", () => undefined);
        try {
          await client.connect();
          const [, port] = (await client.call("SENTINEL", "get-master-addr-by-name", masterName)) as [string, string];
          const server = servers.find((x) => x.port === Number(port));
          if (server) return server;
        } catch {
          // Ask the next sentinel.
        } finally {
          client.disconnect();
        }
      }
      throw new Error("no sentinel names a master");
    };
    return {
      masterName,
      servers,
      sentinels,
      env: {
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(","),
        REDIS_SENTINEL_MASTER: masterName,
        ...(options.password === undefined ? {} : { REDIS_PASSWORD: options.password }),
        ...(options.sentinelPassword === undefined ? {} : { REDIS_SENTINEL_PASSWORD: options.sentinelPassword }),
        ...(options.tls ? { REDIS_TLS: "1", REDIS_CA_FILE: options.tls.ca } : {}),
      },
      master: master_,
      async failedOver(old, timeoutMs) {
        let now: RedisProcess | undefined;
        await waitFor(
          async () => {
            now = await master_().catch(() => undefined);
            return now !== undefined && now !== old && (await isWritableMaster(now.port, options.password, clientTls));
          },
          timeoutMs,
          () => `a failover away from ${old.port}\n${sentinels.map((s) => s.output()).join("\n")}`,
        );
        return now!;
      },
      output: () => [...servers, ...sentinels].map((p) => `--- ${p.port}\n${p.output()}`).join("\n"),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

type ClientTls = { readonly tls?: { readonly ca: string } };

async function infoOf(port: number, password: string | undefined, tls: ClientTls): Promise<string> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...tls, ...(password ? { password } : {}) });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await client.info("replication");
  } catch {
    return "";
  } finally {
    client.disconnect();
  }
}

async function linkUp(port: number, password: string | undefined, tls: ClientTls): Promise<boolean> {
  return (await infoOf(port, password, tls)).includes("master_link_status:up");
}

async function isWritableMaster(port: number, password: string | undefined, tls: ClientTls): Promise<boolean> {
  return (await infoOf(port, password, tls)).includes("role:master");
}
