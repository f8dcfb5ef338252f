import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../loadtest/ports.ts";
import { type NodeProcess, startGatewayProcess, startNodeProcess, startRedis } from "../loadtest/processes.ts";
import { ADMIN_TOKEN, admin, startCluster } from "./helpers/cluster.ts";
import { LOADTEST_MAIN as MAIN, runLoadtest } from "./helpers/loadtest-run.ts";

const { REDIS_URL: _redis, ADMIN_TOKEN: _token, ...bareEnv } = process.env;
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 20_000, env: bareEnv });

describe("loadtest CLI arguments", () => {
  const cases: [string, string[], string][] = [
    ["no --url", [], "--url is required"],
    // The tool loads any address, but the project's own tests only ever name other machines in runs refused before they start.
    ["kill-node against another machine", ["--url", "http://192.168.1.10:2567", "--scenario", "kill-node", "--redis", "redis://127.0.0.1:6379"], "--scenario kill-node SIGKILLs a node's process, so it only runs on the nodes' own machine, and --url 192.168.1.10 is not this machine"],
    ["a gateway restart on another machine", ["--url", "https://locus.example.com", "--scenario", "reconnect-storm", "--cut", "gateway"], "--cut gateway restarts the gateway process, so it needs the gateway on this machine"],
    ["a non-http URL", ["--url", "ftp://127.0.0.1"], "must be an http:// URL"],
    ["a URL with a path", ["--url", "http://127.0.0.1:2567/matchmake?x=1"], "must be an http:// URL with no path or query"],
    ["a stray argument", ["--url", "http://127.0.0.1:2567", "fast"], 'unexpected argument "fast"'],
    ["a Redis on another machine", ["--url", "http://127.0.0.1:2567", "--scenario", "kill-node", "--redis", "redis://10.0.0.5:6379"], "--redis must point at this machine"],
    ["zero bots", ["--url", "http://127.0.0.1:2567", "--bots", "0"], "--bots must be a whole number from 1 to 5000"],
    ["a fractional duration", ["--url", "http://127.0.0.1:2567", "--duration", "1.5"], "--duration must be a whole number"],
    ["an unknown scenario", ["--url", "http://127.0.0.1:2567", "--scenario", "chaos"], "--scenario must be steady, kill-node, drain-node, reconnect-storm or soak"],
    ["an unknown flag", ["--url", "http://127.0.0.1:2567", "--turbo"], "Unknown option '--turbo'"],
    ["kill-node without Redis", ["--url", "http://127.0.0.1:2567", "--scenario", "kill-node"], "--scenario kill-node needs the cluster's Redis"],
    ["drain-node without a token", ["--url", "http://127.0.0.1:2567", "--scenario", "drain-node", "--redis", "redis://127.0.0.1:6379"], "needs the admin token"],
    ["more full bots than bots", ["--url", "http://127.0.0.1:2567", "--bots", "5", "--full-bots", "6"], "--full-bots (6) cannot exceed --bots (5)"],
    ["a threshold on an unknown metric", ["--url", "http://127.0.0.1:2567", "--threshold", "latency_p99<50ms"], 'unknown metric "latency_p99"; known: ack_p50'],
    ["a threshold the scenario does not measure", ["--url", "http://127.0.0.1:2567", "--threshold", "recovery_p99<2s"], "recovery_p99 is measured only in --scenario kill-node or drain-node, not steady"],
    ["a threshold that is not METRIC OP VALUE", ["--url", "http://127.0.0.1:2567", "--threshold", "ack_p99 under 50"], "--threshold takes METRIC OP VALUE"],
    ["a count threshold with a time unit", ["--url", "http://127.0.0.1:2567", "--threshold", "dropped<2s"], "dropped is a plain number; s does not apply"],
    ["stages that are not DURATION:TARGET", ["--url", "http://127.0.0.1:2567", "--stages", "30s:100,soon:0"], '--stages takes DURATION:TARGET pairs such as 30s:100 (units ms, s, m, h), got "soon:0"'],
    ["stages beside --bots", ["--url", "http://127.0.0.1:2567", "--stages", "10s:10", "--bots", "10"], "--stages replaces --bots, --ramp and --duration; drop --bots"],
    ["a churn that is not a rate", ["--url", "http://127.0.0.1:2567", "--churn", "lots"], "--churn must be bots per second from 0 to 1000"],
    ["--cut outside a storm", ["--url", "http://127.0.0.1:2567", "--cut", "bots"], "--cut applies to --scenario reconnect-storm only"],
    ["full bots in a storm", ["--url", "http://127.0.0.1:2567", "--scenario", "reconnect-storm", "--full-bots", "2"], "--scenario reconnect-storm runs lean bots only"],
    ["a soak with no way to read node memory", ["--url", "http://127.0.0.1:2567", "--scenario", "soak"], "--scenario soak needs the cluster's Redis (--redis redis://…, REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER) or the node's admin address (--admin-url)"],
    ["a drain of two nodes at once", ["--url", "http://127.0.0.1:2567", "--scenario", "drain-node", "--token", "t", "--admin-url", "http://127.0.0.1:1", "--admin-url", "http://127.0.0.1:2"], "drains one node: give one --admin-url"],
    ["agents without a coordinator", ["--url", "http://127.0.0.1:2567", "--agents", "2"], "--agents needs the Redis where the agents wait: --coordinator redis://…"],
    ["an agent without a coordinator", ["agent"], "--coordinator is required"],
    ["network conditions that do not parse", ["--url", "http://127.0.0.1:2567", "--net", "rtt=fast"], "--net: network conditions are rtt=MS,jitter=MS,loss=PERCENT%"],
    ["network conditions in front of TLS", ["--url", "https://127.0.0.1:2567", "--net", "rtt=100"], "--net proxies plain TCP to the target"],
    ["following rooms around the network proxy", ["--url", "http://127.0.0.1:2567", "--net", "rtt=100", "--follow-room"], "--follow-room sends the bots' sockets around --net's proxy"],
    ["an HTML report nowhere writable", ["--url", "http://127.0.0.1:2567", "--html", "/dev/null/report.html"], "cannot write /dev/null/report.html"],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what} with exit code 2 and a message`, () => {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    });
  }

  it("takes a ws:// address as the http:// one beside it", async () => {
    const port = await freePort();
    const r = run("--url", `ws://127.0.0.1:${port}`, "--duration", "1");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`http://127.0.0.1:${port} does not answer /healthz`);
  });

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
      const r = await runLoadtest(["--url", gateway.url, "--bots", "4", "--duration", "600", "--ramp", "0", "--workers", "1"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("bots connected / failed / dropped / reconnected | 0 / 4 / 0 / 0");
      expect(r.stderr).toContain(`no bot could join ${gateway.url}: `);
      expect(r.stderr).toContain("no node is ready to take players");
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

  it("connects every bot, measures acks, passes its thresholds with exit code 0, and writes its report as JSON and as HTML with plots", async () => {
    const html = join(mkdtempSync(join(tmpdir(), "locus-lt-")), "report.html");
    const thresholds = ["ack_p99<30s", "dropped==0", "connected>=10", "bytes_per_bot_per_s>100"].flatMap((t) => ["--threshold", t]);
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--bots", "10", "--duration", "2", "--ramp", "1", "--workers", "2", "--html", html, ...thresholds]);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain("input-to-ack latency");
    expect(stdout).toContain("| threshold dropped==0 | pass: 0 |");
    expect(stdout).toContain("thresholds: all 4 passed");
    expect(report!.connected).toBe(10);
    expect(report!.failed).toBe(0);
    expect(report!.workers).toBe(2);
    expect(report!.ackLatencyMs.samples).toBeGreaterThan(100);
    expect(report!.ackLatencyMs.p50).toBeGreaterThan(0);
    expect(report!.stateUpdatesPerSecond).toBeGreaterThan(100);
    expect(report!.fullBots).toBe(1);
    expect(report!.botSide.maxCpuPercent).toBeGreaterThan(0);
    expect(report!.thresholds.map((t) => [t.threshold, t.pass])).toEqual([
      ["ack_p99<30s", true],
      ["dropped==0", true],
      ["connected>=10", true],
      ["bytes_per_bot_per_s>100", true],
    ]);
    expect(report!.thresholds[0]!.measured).toBe(report!.ackLatencyMs.p99);
    expect(report!.timeline.length).toBeGreaterThanOrEqual(3);
    expect(report!.timeline.at(-1)!.connected).toBe(10);
    expect(report!.timeline.at(-1)!.target).toBe(10);
    expect(report!.timeline.some((p) => p.ackP99 !== null && p.bytesPerBot > 0)).toBe(true);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("Chart.js");
    expect(page).toContain("input-to-ack latency p50 / p95 / p99 / max");
    expect(page).toContain("threshold ack_p99&lt;30s");
    expect(page).not.toMatch(/<script[^>]+src=/);
  });

  it("plays through a distant network with --net: every ack waits at least the round trip added", async () => {
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--bots", "4", "--duration", "2", "--ramp", "0", "--workers", "1", "--full-bots", "0", "--net", "rtt=150,jitter=10"]);
    expect(code, stdout).toBe(0);
    expect(report!.network).toBe("150 ms ± 10");
    expect(stdout).toContain("| network the bots played through | 150 ms ± 10 |");
    expect(report!.connected).toBe(4);
    // The proxy delays each direction by half the round trip; jitter is a normal draw around it, so the floor is a little under.
    expect(report!.ackLatencyMs.p50).toBeGreaterThan(120);
  });

  it("fails a threshold with exit code 1, showing what it measured", async () => {
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--bots", "4", "--duration", "2", "--ramp", "0", "--workers", "1", "--threshold", "connected>1000", "--threshold", "failed==0"]);
    expect(code).toBe(1);
    expect(stdout).toContain("| threshold connected>1000 | FAIL: 4 |");
    expect(stdout).toContain("| threshold failed==0 | pass: 0 |");
    expect(stdout).toContain("thresholds: 1 of 2 FAILED: connected>1000 (measured 4)");
    expect(report!.thresholds).toEqual([
      { threshold: "connected>1000", metric: "connected", measured: 4, pass: false },
      { threshold: "failed==0", metric: "failed", measured: 0, pass: true },
    ]);
  });
});

describe("chaos scenarios against a real cluster", () => {
  for (const scenario of ["drain-node", "kill-node"] as const) {
    it(`${scenario}: strikes the busiest node halfway and reports the moved bots' recovery and state lost`, async () => {
      const cluster = await startCluster(2);
      try {
        const { code, report } = await runLoadtest(
          ["--url", cluster.gateway.url, "--bots", "8", "--full-bots", "8", "--duration", "4", "--ramp", "1", "--workers", "2", "--scenario", scenario, "--threshold", "recovery_p99<20s"],
          { ...process.env, REDIS_URL: cluster.redis.redisUrl, ADMIN_TOKEN },
        );
        expect(code, JSON.stringify(report)).toBe(0);
        expect(report!.event?.what).toMatch(scenario === "kill-node" ? /^killed n\d/ : /^drained n\d/);
        expect(report!.recoveryMs!.bots).toBeGreaterThan(0);
        expect(report!.recoveryMs!.max).toBeGreaterThan(0);
        expect(report!.thresholds[0]).toMatchObject({ measured: report!.recoveryMs!.p99, pass: true });
        expect(report!.dropped).toBe(0);
        expect(report!.connected).toBe(8);
        // Every bot decodes state here, so the busiest node's bots all saw their room move.
        expect(report!.stateLostTicks!.moves).toBe(report!.recoveryMs!.bots);
        expect(report!.perBot!.recoveryMs).toHaveLength(report!.recoveryMs!.bots);
        expect(Math.max(...report!.perBot!.stateLostTicks)).toBe(report!.stateLostTicks!.max);
        if (scenario === "drain-node") expect(report!.stateLostTicks!.max).toBe(0);
      } finally {
        await cluster.stop();
      }
    });
  }

  it("drain-node: drains the node whose admin address it is given, without the cluster's Redis", async () => {
    const cluster = await startCluster(2);
    try {
      const n1 = cluster.node("n1");
      const { code, report } = await runLoadtest(["--url", cluster.gateway.url, "--bots", "6", "--full-bots", "2", "--duration", "4", "--ramp", "1", "--workers", "1", "--scenario", "drain-node", "--admin-url", n1.adminUrl, "--token", ADMIN_TOKEN], bareEnv);
      expect(code, JSON.stringify(report)).toBe(0);
      // On a machine slow to seat the bots, the strike does not wait past halfway to the end, and says so.
      expect(report!.event?.what).toMatch(new RegExp(`^drained the node at ${n1.adminUrl.replaceAll(".", "\\.")}( \\(only \\d of 8 bots had joined\\))?$`));
      const status = await admin(n1, "GET", "/status");
      expect(status.body.state).toBe("drained");
      expect(report!.dropped).toBe(0);
    } finally {
      await cluster.stop();
    }
  });
});
