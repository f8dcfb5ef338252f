/**
 * The load tester's shapes of traffic over real processes: stages, churn, a soak, and reconnect
 * storms through a gateway (bots cutting their sockets, and the gateway restarted under them).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleValue } from "../loadtest/prometheus.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { startCluster } from "./helpers/cluster.ts";
import { runLoadtest } from "./helpers/loadtest-run.ts";

describe("stages, churn and soak against one node", () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ LOG_LEVEL: "warn" });
  });
  afterAll(async () => {
    await node?.stop();
  });

  const nodeGauge = async (name: string) => sampleValue(await (await fetch(`${node.adminUrl}/metrics`)).text(), name);

  it("follows its stages up, holds, and down again, and plots the target beside the connected bots", async () => {
    const html = join(mkdtempSync(join(tmpdir(), "locus-lt-")), "report.html");
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--stages", "2s:8,4s:8,2s:3,3s:3", "--full-bots", "0", "--workers", "2", "--html", html]);
    expect(code, stdout).toBe(0);
    const t = report!.timeline;
    expect(report!.stages).toEqual([
      { durationMs: 2000, target: 8 },
      { durationMs: 4000, target: 8 },
      { durationMs: 2000, target: 3 },
      { durationMs: 3000, target: 3 },
    ]);
    expect(report!.bots).toBe(8);
    expect(t.some((p) => p.target > 0 && p.target < 8)).toBe(true);
    expect(t.some((p) => p.target === 8 && p.connected === 8)).toBe(true);
    expect(Math.max(...t.map((p) => p.connected))).toBe(8);
    expect(t.at(-1)).toMatchObject({ target: 3, connected: 3 });
    expect(report!.connected).toBe(3);
    expect(report!.joined).toBe(8);
    expect(report!.failed).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toContain('"target":[');
    expect(page).toContain("Connected bots and the target");
    // The bots that left released their seats: once the run is over the node holds no client and no room.
    await waitFor(async () => (await nodeGauge("locus_clients")) === 0 && (await nodeGauge("locus_rooms")) === 0, 10_000, () => "every seat released and every room disposed after the run");
  });

  it("churns bots while the target holds: each one that leaves is replaced by a new one, and every seat is released", async () => {
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--stages", "1s:6,5s:6,2s:5", "--churn", "2", "--full-bots", "1", "--workers", "1"]);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain("bots churned (left and replaced)");
    expect(report!.churnPerSecond).toBe(2);
    // Two a second over a five-second hold, give or take a timer's slip on a busy machine.
    expect(report!.churned).toBeGreaterThanOrEqual(6);
    expect(report!.churned).toBeLessThanOrEqual(12);
    expect(report!.joined).toBe(6 + report!.churned);
    expect(report!.failed).toBe(0);
    expect(report!.dropped).toBe(0);
    expect(report!.connected).toBe(5);
    await waitFor(async () => (await nodeGauge("locus_clients")) === 0 && (await nodeGauge("locus_rooms")) === 0, 10_000, () => "every seat released and every room disposed after the run");
  });

  it("soak: samples the latency and the node's memory every period and compares the first at full load with the last", async () => {
    const { code, stdout, report } = await runLoadtest(["--url", node.url, "--bots", "6", "--ramp", "1", "--duration", "7", "--workers", "1", "--scenario", "soak", "--sample-every", "2", "--admin-url", node.adminUrl, "--threshold", "memory_growth_pct<1000"]);
    expect(code, stdout).toBe(0);
    const soak = report!.soak!;
    expect(soak.everyS).toBe(2);
    expect(soak.samples.length).toBeGreaterThanOrEqual(3);
    for (const s of soak.samples) expect(s.memoryMb[node.adminUrl]).toBeGreaterThan(10);
    expect(soak.samples.at(-1)!.ackP99).toBeGreaterThan(0);
    expect(soak.memoryGrowthPct).not.toBeNull();
    expect(report!.thresholds[0]).toMatchObject({ measured: soak.memoryGrowthPct, pass: true });
    expect(stdout).toContain("soak (");
  });
});

describe("reconnect storms through a gateway", () => {
  it("cut by the bots: every bot's socket cut at once, every bot back with state, none lost", async () => {
    const cluster = await startCluster(2);
    try {
      const bots = 40;
      const { code, stdout, report } = await runLoadtest([
        "--url",
        cluster.gateway.url,
        "--bots",
        String(bots),
        "--ramp",
        "2",
        "--duration",
        "12",
        "--workers",
        "2",
        "--scenario",
        "reconnect-storm",
        "--threshold",
        "storm_lost==0",
        "--threshold",
        "storm_back_p99<20s",
      ]);
      expect(code, `${stdout}\n${cluster.output()}`).toBe(0);
      expect(report!.event!.what, JSON.stringify({ failed: report!.failed, lastError: report!.lastError, timeline: report!.timeline.map((p) => [p.t, p.target, p.connected]) })).toBe(`cut every bot's socket at once (${bots} bots)`);
      const storm = report!.storm!;
      expect(storm).toMatchObject({ cut: "bots", bots, lost: 0 });
      expect(storm.p50).toBeGreaterThan(0);
      expect(storm.p99).toBeGreaterThanOrEqual(storm.p50);
      expect(storm.max).toBeGreaterThanOrEqual(storm.p99);
      expect(report!.perBot!.stormBackMs).toHaveLength(bots);
      expect(report!.reconnected).toBeGreaterThanOrEqual(bots);
      expect(report!.dropped).toBe(0);
      expect(report!.connected).toBe(bots);
      expect(stdout).toContain("time to state again after the cut p50 / p99 / max");
    } finally {
      await cluster.stop();
    }
  });

  it("cut by restarting the gateway on this machine just before the run's end: the run waits past its end until every bot is back", async () => {
    const cluster = await startCluster(1);
    let restartedPid: number | undefined;
    try {
      const bots = 16;
      const { code, stdout, report } = await runLoadtest(["--url", cluster.gateway.url, "--bots", String(bots), "--ramp", "1", "--duration", "4", "--workers", "1", "--scenario", "reconnect-storm", "--cut", "gateway"]);
      restartedPid = Number(/now pid (\d+)/.exec(report?.event?.what ?? "")?.[1]);
      expect(code, stdout).toBe(0);
      expect(report!.event!.what).toMatch(new RegExp(`^restarted the gateway on port ${cluster.gateway.port} \\(pid ${cluster.gateway.child.pid}, now pid \\d+\\) under ${bots} bots$`));
      expect(report!.storm).toMatchObject({ cut: "gateway", bots, lost: 0 });
      expect(report!.dropped).toBe(0);
      expect((await fetch(`${cluster.gateway.url}/healthz`)).ok).toBe(true);
    } finally {
      if (restartedPid) process.kill(restartedPid, "SIGKILL");
      await cluster.stop();
    }
  });
});
