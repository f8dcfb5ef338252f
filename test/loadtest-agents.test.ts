/**
 * Several generator machines as one run, played on this one: agent processes wait in a Redis of
 * the test's own, a run hands them its bots, and the report merges what they measured, exactly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latencyHistogram, quantileMs } from "../loadtest/latency-histogram.ts";
import { freePort } from "../loadtest/ports.ts";
import { type NodeProcess, type RedisProcess, startNodeProcess, startRedis } from "../loadtest/processes.ts";
import { LOADTEST_MAIN, runLoadtest } from "./helpers/loadtest-run.ts";

interface Agent {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function startAgent(coordinator: string, rawAcksDir?: string): Agent {
  const child = spawn(process.execPath, [LOADTEST_MAIN, "agent", "--coordinator", coordinator, "--workers", "1", ...(rawAcksDir ? ["--raw-acks", rawAcksDir] : [])], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  return { child, exited: new Promise((resolve) => child.once("exit", resolve)), output: () => log };
}

describe("a run on several agents", () => {
  let redis: RedisProcess;
  let node: NodeProcess;
  const agents: Agent[] = [];
  beforeAll(async () => {
    [redis, node] = await Promise.all([startRedis(), startNodeProcess({ LOG_LEVEL: "warn" })]);
  });
  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill("SIGKILL");
    await Promise.all([redis?.stop(), node?.stop()]);
  });

  it("hands three agents a third of the bots each, and reports the percentiles of all their raw latencies together", async () => {
    const raw = mkdtempSync(join(tmpdir(), "locus-raw-acks-"));
    const crew = [1, 2, 3].map(() => startAgent(redis.redisUrl, raw));
    agents.push(...crew);
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--bots", "12", "--full-bots", "0", "--ramp", "1", "--duration", "4", "--agents", "3", "--coordinator", redis.redisUrl, "--agent-wait", "30"]);
    expect(code, `${stdout}\n${crew.map((a) => a.output()).join("\n")}`).toBe(0);
    expect(await Promise.all(crew.map((a) => a.exited))).toEqual([0, 0, 0]);
    expect(report!.agents!.map((a) => a.bots)).toEqual([4, 4, 4]);
    expect(report!.workers).toBe(3);
    expect(report!.connected).toBe(12);
    expect(report!.timeline.at(-1)).toMatchObject({ target: 12, connected: 12 });

    const files = readdirSync(raw);
    expect(files).toHaveLength(3);
    const all = files.flatMap((f) =>
      readFileSync(join(raw, f), "utf8")
        .split("\n")
        .filter(Boolean)
        .map(Number),
    );
    const fromRaw = latencyHistogram();
    for (const micros of all) fromRaw.recordValue(micros);
    const a = report!.ackLatencyMs;
    expect(a.samples).toBe(all.length);
    expect(a.samples).toBeGreaterThan(300);
    expect([a.p50, a.p95, a.p99, a.max]).toEqual([quantileMs(fromRaw, 0.5), quantileMs(fromRaw, 0.95), quantileMs(fromRaw, 0.99), quantileMs(fromRaw, 1)]);
    // And within HDR's three significant digits of the raw nearest-rank percentiles.
    const sorted = all.sort((x, y) => x - y);
    for (const [q, merged] of [[0.5, a.p50], [0.99, a.p99]] as const) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]! / 1000;
      expect(Math.abs(merged! - exact) / exact).toBeLessThan(0.001);
    }
  });

  it("runs stages and churn on two agents, their timelines merged into one", async () => {
    const crew = [1, 2].map(() => startAgent(redis.redisUrl));
    agents.push(...crew);
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--stages", "1s:10,4s:10,2s:4", "--churn", "2", "--full-bots", "2", "--agents", "2", "--coordinator", redis.redisUrl, "--agent-wait", "30"]);
    expect(code, `${stdout}\n${crew.map((a) => a.output()).join("\n")}`).toBe(0);
    expect(await Promise.all(crew.map((a) => a.exited))).toEqual([0, 0]);
    expect(report!.agents!.map((a) => a.bots)).toEqual([5, 5]);
    expect(report!.timeline.some((p) => p.target === 10 && p.connected === 10)).toBe(true);
    expect(report!.timeline.at(-1)).toMatchObject({ target: 4, connected: 4 });
    expect(report!.churned).toBeGreaterThan(0);
    expect(report!.joined).toBe(10 + report!.churned);
    expect(report!.failed).toBe(0);
  });

  it("never shows the coordinator's password", async () => {
    const coordinator = `redis://:s3cret-pass@127.0.0.1:${await freePort()}`;
    const { code, stderr } = await runLoadtest(["--url", node.url, "--bots", "4", "--agents", "2", "--coordinator", coordinator, "--agent-wait", "1"]);
    expect(code).toBe(1);
    expect(stderr).toContain("cannot reach the coordinator's Redis at redis://:***@127.0.0.1:");
    expect(stderr).not.toContain("s3cret-pass");
  });

  it("gives up with exit code 1, saying how many came, when too few agents wait", async () => {
    const { code, stderr } = await runLoadtest(["--url", node.url, "--bots", "4", "--agents", "2", "--coordinator", redis.redisUrl, "--agent-wait", "1"]);
    expect(code).toBe(1);
    expect(stderr).toContain(`only 0 of 2 agents were waiting at ${redis.redisUrl} within 1 s; start more with: npm run loadtest -- agent --coordinator ${redis.redisUrl}`);
  });
});
