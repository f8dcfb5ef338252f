import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadReport } from "../loadtest/main.ts";
import { freePort } from "../loadtest/ports.ts";
import { type NodeProcess, startGatewayProcess, startNodeProcess, startRedis } from "../loadtest/processes.ts";
import { ADMIN_TOKEN, startCluster } from "./helpers/cluster.ts";

const MAIN = fileURLToPath(new URL("../loadtest/main.ts", import.meta.url));
const { REDIS_URL: _redis, ADMIN_TOKEN: _token, ...bareEnv } = process.env;
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 20_000, env: bareEnv });

describe("loadtest CLI arguments", () => {
  const cases: [string, string[], string][] = [
    ["no --url", [], "--url is required"],
    ["a non-loopback target", ["--url", "http://192.168.1.10:2567"], "must point at this machine"],
    ["a non-http URL", ["--url", "ftp://127.0.0.1"], "must be an http:// URL"],
    ["a URL with a path", ["--url", "http://127.0.0.1:2567/matchmake?x=1"], "must be an http:// URL with no path or query"],
    ["a stray argument", ["--url", "http://127.0.0.1:2567", "fast"], 'unexpected argument "fast"'],
    ["a Redis on another machine", ["--url", "http://127.0.0.1:2567", "--scenario", "kill-node", "--redis", "redis://10.0.0.5:6379"], "--redis must point at this machine"],
    ["zero bots", ["--url", "http://127.0.0.1:2567", "--bots", "0"], "--bots must be a whole number from 1 to 5000"],
    ["a fractional duration", ["--url", "http://127.0.0.1:2567", "--duration", "1.5"], "--duration must be a whole number"],
    ["an unknown scenario", ["--url", "http://127.0.0.1:2567", "--scenario", "chaos"], "--scenario must be steady, kill-node or drain-node"],
    ["an unknown flag", ["--url", "http://127.0.0.1:2567", "--turbo"], "Unknown option '--turbo'"],
    ["kill-node without Redis", ["--url", "http://127.0.0.1:2567", "--scenario", "kill-node"], "--scenario kill-node needs the cluster's Redis"],
    ["drain-node without a token", ["--url", "http://127.0.0.1:2567", "--scenario", "drain-node", "--redis", "redis://127.0.0.1:6379"], "needs the admin token"],
    ["more full bots than bots", ["--url", "http://127.0.0.1:2567", "--bots", "5", "--full-bots", "6"], "--full-bots (6) cannot exceed --bots (5)"],
    ["an HTML report nowhere writable", ["--url", "http://127.0.0.1:2567", "--html", "/dev/null/report.html"], "cannot write /dev/null/report.html"],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what} with exit code 2 and a message`, () => {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    });
  }

  it("says so, with exit code 1, when nothing answers at the URL", async () => {
    const r = run("--url", `http://127.0.0.1:${await freePort()}`, "--duration", "1");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("does not answer /healthz");
  });
});

describe("a server that refuses every join", () => {
  it("stops early, says why, and exits 1", async () => {
    // A gateway whose cluster has no node: it answers /healthz but can seat nobody.
    const redis = await startRedis();
    const gateway = await startGatewayProcess({ REDIS_URL: redis.redisUrl, LOG_LEVEL: "warn" });
    try {
      const child = spawn(process.execPath, [MAIN, "--url", gateway.url, "--bots", "4", "--duration", "600", "--ramp", "0", "--workers", "1"], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(stdout).toContain("bots connected / failed / dropped / reconnected | 0 / 4 / 0 / 0");
      expect(stderr).toContain(`no bot could join ${gateway.url}: no node is ready to take players`);
    } finally {
      await gateway.stop();
      await redis.stop();
    }
  });
});

describe("a short real run", () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ LOG_LEVEL: "warn" });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("connects every bot, measures acks, and writes its report as JSON and as HTML with plots", async () => {
    const dir = mkdtempSync(join(tmpdir(), "locus-lt-"));
    const out = join(dir, "report.json");
    const html = join(dir, "report.html");
    const child = spawn(process.execPath, [MAIN, "--url", node.url, "--bots", "10", "--duration", "2", "--ramp", "1", "--workers", "2", "--json", out, "--html", html], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    expect(stdout).toContain("input-to-ack latency");
    const report = JSON.parse(readFileSync(out, "utf8")) as LoadReport;
    expect(report.connected).toBe(10);
    expect(report.failed).toBe(0);
    expect(report.workers).toBe(2);
    expect(report.ackLatencyMs.samples).toBeGreaterThan(100);
    expect(report.ackLatencyMs.p50).toBeGreaterThan(0);
    expect(report.stateUpdatesPerSecond).toBeGreaterThan(100);
    expect(report.fullBots).toBe(1);
    expect(report.botSide.maxCpuPercent).toBeGreaterThan(0);
    expect(report.timeline.length).toBeGreaterThanOrEqual(3);
    expect(report.timeline.at(-1)!.connected).toBe(10);
    expect(report.timeline.some((p) => p.ackP99 !== null && p.bytesPerBot > 0)).toBe(true);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("Chart.js");
    expect(page).toContain("input-to-ack latency p50 / p95 / p99 / max");
    expect(page).not.toMatch(/<script[^>]+src=/);
  });
});

describe("chaos scenarios against a real cluster", () => {
  for (const scenario of ["drain-node", "kill-node"] as const) {
    it(`${scenario}: strikes the busiest node halfway and reports the moved bots' recovery and state lost`, async () => {
      const cluster = await startCluster(2);
      try {
        const out = join(mkdtempSync(join(tmpdir(), "locus-chaos-")), "report.json");
        const child = spawn(
          process.execPath,
          [MAIN, "--url", cluster.gateway.url, "--bots", "8", "--full-bots", "8", "--duration", "4", "--ramp", "1", "--workers", "2", "--scenario", scenario, "--json", out],
          { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, REDIS_URL: cluster.redis.redisUrl, ADMIN_TOKEN } },
        );
        const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
        const report = JSON.parse(readFileSync(out, "utf8")) as LoadReport;
        expect(code, JSON.stringify(report)).toBe(0);
        expect(report.event?.what).toMatch(scenario === "kill-node" ? /^killed n\d/ : /^drained n\d/);
        expect(report.recoveryMs!.bots).toBeGreaterThan(0);
        expect(report.recoveryMs!.max).toBeGreaterThan(0);
        expect(report.dropped).toBe(0);
        expect(report.connected).toBe(8);
        // Every bot decodes state here, so the busiest node's bots all saw their room move.
        expect(report.stateLostTicks!.moves).toBe(report.recoveryMs!.bots);
        expect(report.perBot!.recoveryMs).toHaveLength(report.recoveryMs!.bots);
        expect(Math.max(...report.perBot!.stateLostTicks)).toBe(report.stateLostTicks!.max);
        if (scenario === "drain-node") expect(report.stateLostTicks!.max).toBe(0);
      } finally {
        await cluster.stop();
      }
    });
  }
});
