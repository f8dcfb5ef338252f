/**
 * A Redis that wants a password and speaks only TLS, under a private CA the test makes with
 * openssl: a node, a gateway and the ops CLI reach it by REDIS_URL, REDIS_PASSWORD and
 * REDIS_CA_FILE, or through sentinels that speak TLS too; a client without the CA or with the
 * wrong password is refused, and no message shows a password.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocusProcess, type RedisProcess, startGatewayProcess, startNodeProcess, startRedis, waitFor } from "../loadtest/processes.ts";
import { startSentinelGroup } from "../loadtest/sentinel-group.ts";
import { newRedis, type RedisEndpoint } from "../server/cluster/redis-endpoint.ts";
import { loadRedisEndpoint } from "../server/config.ts";
import { ADMIN_TOKEN } from "./helpers/cluster.ts";

const PASSWORD = "tls-redis-pass-0123456789";
const OPS = fileURLToPath(new URL("../server/ops/ops.ts", import.meta.url));

let dir: string;
let files: { ca: string; cert: string; key: string };
let redis: RedisProcess;
let env: Record<string, string>;
const started: { stop(): Promise<void> }[] = [];

/** A CA, and a certificate it signed for 127.0.0.1, in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "1", "-subj", "/CN=locus-test-ca");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-out", at("server.pem"), "-days", "1", "-extfile", at("san.ext"));
  return { ca: at("ca.pem"), cert: at("server.pem"), key: at("server.key") };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "locus-tls-"));
  files = makeCertificates(dir);
  redis = await startRedis({ password: PASSWORD, tls: files });
  started.push(redis);
  env = { REDIS_URL: redis.redisUrl, REDIS_PASSWORD: PASSWORD, REDIS_CA_FILE: files.ca };
}, 30_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function ops(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return opsWith(env, ...args);
}

function opsWith(redisEnv: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OPS, ...args], { env: { ...process.env, ...redisEnv, ADMIN_TOKEN }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a password-protected Redis over TLS, by REDIS_URL", () => {
  it("serves a node, a gateway and the ops CLI, and none of them prints the password", async () => {
    expect(redis.redisUrl.startsWith("rediss://")).toBe(true);
    const node = await startNodeProcess({ ...env, NODE_ID: "tls1", ADMIN_TOKEN });
    started.push(node);
    const gateway: LocusProcess = await startGatewayProcess(env);
    started.push(gateway);
    // The gateway is ready once it reads a ready node from Redis.
    await waitFor(async () => (await fetch(`${gateway.url}/readyz`).catch(() => undefined))?.status === 200, 10_000, () => `gateway ready\n${gateway.output()}`);
    const listed = await ops("nodes");
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("tls1");
    for (const output of [node.output(), gateway.output(), listed.stdout, listed.stderr]) expect(output).not.toContain(PASSWORD);
  }, 60_000);

  it("refuses a client without the CA, and one with the wrong password, naming neither password", async () => {
    const endpoint = loadRedisEndpoint(env)!;
    /** "connected", or every error the client met (a TLS refusal is reported as an error event, the connect then fails as closed). */
    const failureOf = async (e: RedisEndpoint) => {
      const client = newRedis(e, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      const errors: string[] = [];
      client.on("error", (err: Error) => void errors.push(err.message));
      try {
        await client.connect();
        await client.ping();
        return "connected";
      } catch (err) {
        return [...errors, (err as Error).message].join("; ");
      } finally {
        client.disconnect();
      }
    };
    expect(await failureOf(endpoint)).toBe("connected");
    expect(await failureOf({ ...endpoint, ca: undefined })).toMatch(/certificate/);
    const wrong = await failureOf({ ...endpoint, password: "not-the-password" });
    expect(wrong).toMatch(/WRONGPASS|invalid password/);
    expect(wrong).not.toContain("not-the-password");
    const bad = await ops("nodes", "--redis", `rediss://:${PASSWORD}@127.0.0.1:${redis.port}`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("REDIS_PASSWORD and a password in REDIS_URL are both set");
    expect(bad.stderr).not.toContain(PASSWORD);
  }, 30_000);

  it("serves a node and the ops CLI through sentinels that speak TLS too", async () => {
    const group = await startSentinelGroup({ password: PASSWORD, tls: files });
    started.push(group);
    expect(group.env).toMatchObject({ REDIS_TLS: "1", REDIS_CA_FILE: files.ca, REDIS_PASSWORD: PASSWORD });
    const node = await startNodeProcess({ ...group.env, NODE_ID: "tls2", ADMIN_TOKEN });
    started.push(node);
    const listed = await opsWith(group.env, "nodes");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("tls2");
    expect(node.output()).not.toContain(PASSWORD);
  }, 90_000);
});
