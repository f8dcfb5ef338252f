/**
 * Nothing secret or internal leaves the server: the Redis password in REDIS_URL is masked in
 * every message of the node, the gateway and the ops CLI, a bad ADMIN_TOKEN is named and never
 * shown, and clients get refusals with their own code and message while anything the server did
 * not mean (a TypeError, a Redis error) reaches them as "internal error" only, logged in full on
 * the server. Also: a create with a roomId that exists on a lone node is refused with 409.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import "../client/lib/node.ts";
import { freePort } from "../loadtest/ports.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { keys } from "../server/cluster/redis-keys.ts";
import { INTERNAL_ERROR } from "../shared/protocol.ts";
import { ADMIN_TOKEN, startCluster, type TestCluster } from "./helpers/cluster.ts";

const script = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const NODE = script("../server/main.ts");
const GATEWAY = script("../server/gateway/main.ts");
const OPS = script("../server/ops/ops.ts");
const PASSWORD = "s3cret-Pa55word";

/** Runs a script until it exits, or until `stopAfterMs` (then SIGTERM, which lets it flush its log); everything it printed. */
function run(path: string, env: Record<string, string>, stopAfterMs: number, args: string[] = []): Promise<{ code: number | string; output: string }> {
  const child = spawn(process.execPath, [path, ...args], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => {
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 2000).unref();
  }, stopAfterMs);
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, output });
    }),
  );
}

describe("the Redis password", () => {
  let unreachable: string;
  beforeAll(async () => {
    unreachable = `redis://locus:${PASSWORD}@127.0.0.1:${await freePort()}`;
  });

  it("is masked in the node's fatal log when Redis cannot be reached", async () => {
    const { code, output } = await run(NODE, { REDIS_URL: unreachable, ADMIN_TOKEN }, 30_000);
    expect(code).toBe(1);
    expect(output).toContain(`cannot reach Redis at ${unreachable.replace(PASSWORD, "***")}`);
    expect(output).not.toContain(PASSWORD);
  });

  it("is masked, and a bad admin token is not shown, when the settings are refused", async () => {
    const { code, output } = await run(NODE, { REDIS_URL: `redis://locus:${PASSWORD}@cache host:6379`, ADMIN_TOKEN: "short-secret" }, 10_000);
    expect(code).toBe(2);
    expect(output).toContain('REDIS_URL="redis://locus:***@cache host:6379"');
    expect(output).toContain("ADMIN_TOKEN (12 characters, not shown)");
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain("short-secret");
    const gateway = await run(GATEWAY, { REDIS_URL: `redis://locus:${PASSWORD}@cache host:6379` }, 10_000);
    expect(gateway.code).toBe(2);
    expect(gateway.output).toContain("redis://locus:***@cache host:6379");
    expect(gateway.output).not.toContain(PASSWORD);
  });

  it("is masked on the ops CLI's stderr", async () => {
    const { code, output } = await run(OPS, { REDIS_URL: unreachable }, 20_000, ["nodes"]);
    expect(code).toBe(1);
    expect(output).toContain(`ops: cannot reach Redis at ${unreachable.replace(PASSWORD, "***")}`);
    expect(output).not.toContain(PASSWORD);
  });

  it("never appears in what a gateway prints while Redis is away", async () => {
    // Its own relay: HAProxy would want a named port, and what the gateway logs is the same with either.
    const { output } = await run(GATEWAY, { REDIS_URL: unreachable, LOG_LEVEL: "debug", GATEWAY_RELAY: "node" }, 4000);
    expect(output).toContain("redis_unreachable");
    expect(output).not.toContain(PASSWORD);
  });
});

async function matchmake(url: string, method: string, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${url}/matchmake/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

describe("what a lone node tells clients", () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess();
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("ignores option keys named like Object.prototype members rather than answer with a TypeError", async () => {
    const seat = await matchmake(node.url, "joinOrCreate/arena", { name: "Ada", hasOwnProperty: 1, constructor: 2 });
    expect(seat.status).toBe(200);
    expect(seat.body.sessionId).toEqual(expect.any(String));
    const refused = await matchmake(node.url, "joinOrCreate/arena", { hasOwnProperty: 1 });
    expect([refused.status, refused.body.error]).toEqual([400, "name is required and must be a string"]);
    expect(node.output()).not.toContain("TypeError");
  });

  it("keeps Colyseus's own refusals as they were: an expired seat over the websocket", async () => {
    const ws = new WebSocket(`${node.url.replace("http", "ws")}/any/no-such-room?sessionId=nobody`);
    const frame = await new Promise<Buffer>((resolve) => ws.once("message", (data: Buffer) => resolve(data)));
    ws.terminate();
    expect(frame.toString("latin1")).toContain("seat reservation expired.");
  });

  it("refuses a create with a roomId that exists with 409, and leaves the room as it was", async () => {
    const client = new Client(node.url);
    const first = await client.create("arena", { name: "Ada", roomId: "taken" });
    try {
      const second = await matchmake(node.url, "create/arena", { name: "Bob", roomId: "taken" });
      expect([second.status, second.body.error]).toEqual([409, "room taken already exists"]);
      await new Promise((r) => setTimeout(r, 300));
      expect((first.state as { players: Map<string, unknown> }).players.size).toBe(1);
      const joined = await matchmake(node.url, "joinById/taken", { name: "Cyd" });
      expect(joined.status).toBe(200);
    } finally {
      await first.leave();
    }
  });
});

describe("what a cluster tells clients when Redis holds something it cannot use", () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startCluster(1);
    redis = new Redis(cluster.redis.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it("answers internal error, not Redis's WRONGTYPE, and logs the whole error on the node", async () => {
    await redis.hset(keys.epoch("wrongtype"), "x", "1");
    for (const url of [cluster.node("n1").url, cluster.gateway.url]) {
      const answer = await matchmake(url, "create/arena", { name: "Ada", roomId: "wrongtype" });
      expect([answer.status, answer.body]).toEqual([INTERNAL_ERROR.code, { code: INTERNAL_ERROR.code, error: INTERNAL_ERROR.message }]);
      expect(answer.text).not.toContain("WRONGTYPE");
    }
    await waitFor(() => /"event":"internal_error".*WRONGTYPE/.test(cluster.node("n1").output()), 2000, () => `the error logged\n${cluster.output()}`);
    // The node is unharmed: the next create succeeds.
    expect((await matchmake(cluster.gateway.url, "create/arena", { name: "Bob", roomId: "fine" })).status).toBe(200);
  });
});
