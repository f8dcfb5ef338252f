import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../loadtest/bench/main.ts", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 20_000 });

describe("bench CLI arguments", () => {
  const cases: [string, string[], string][] = [
    ["an unknown section", ["--only", "capacity,speed"], '--only takes capacity, checkpoints, gateway, failover, silent, drain, sdk-hitch, reversi-survival, chaos, feel, redis-sizing; got "speed"'],
    ["a node count out of range", ["--sizing-nodes", "1,0"], '--sizing-nodes takes distinct whole numbers from 1 to 64, comma-separated; got "1,0"'],
    ["a feel run too short to play", ["--feel-seconds", "2"], "--feel-seconds must be a whole number from 6 to 600"],
    ["a zero-second window", ["--seconds", "0"], "--seconds must be a whole number from 1 to 120"],
    ["too few kills", ["--kills", "0"], "--kills must be a whole number from 1 to 200"],
    ["too few SIGSTOPs", ["--stops", "0"], "--stops must be a whole number from 1 to 200"],
    ["an unknown flag", ["--fast"], "Unknown option '--fast'"],
    ["an output nowhere writable", ["--out", "/dev/null/BENCHMARKS.md"], "cannot write beside /dev/null/BENCHMARKS.md"],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what} with exit code 2 and a message`, () => {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
    });
  }
});

describe("a short real bench run", () => {
  it("measures every section on real processes and writes BENCHMARKS.md with its plots", async () => {
    const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
    const out = join(dir, "BENCHMARKS.md");
    const child = spawn(
      process.execPath,
      [MAIN, "--seconds", "1", "--max-players", "20", "--players", "10", "--rounds", "1", "--kills", "1", "--failover-bots", "4", "--stops", "1", "--stalls", "1", "--drain-rooms", "2", "--sdk-drains", "1", "--reversi-kills", "1", "--reversi-drains", "1", "--chaos-seconds", "6", "--feel-seconds", "6", "--feel-rounds", "1", "--sizing-nodes", "1,2", "--sizing-players", "20", "--out", out],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, stderr).toBe(0);
    const md = readFileSync(out, "utf8");
    const titles = ["## Players per core", "## Checkpoint overhead", "## Gateway cost", "## Crash recovery (SIGKILL)", "## Silent node (SIGSTOP)", "## Operator drain", "## Drain hitch of a stock @colyseus/sdk client", "## Reversi through crashes and drains", "## A bad day, second by second", "## Feel under real networks", "## Sizing Redis"];
    for (const title of titles) expect(md).toContain(title);
    // Each section says how to redo it, and the three servers of the capacity ramp all took load.
    expect(md.match(/Command: `npm run bench -- --only /g)?.length).toBe(titles.length);
    for (const server of ["plain Colyseus 0.18 (baseline)", "Locus, single node", "Locus, cluster node"]) expect(md).toContain(`| ${server}`);
    expect(md).toMatch(/\| kills \| 1 \|/);
    expect(md).toMatch(/\| rooms handed off \| 2 of 2 \|/);
    expect(md).toMatch(/\| SIGSTOPs \| 1 \(/);
    expect(md).toMatch(/\| \*\*false takeovers\*\* \| \*\*0\*\* of \d+ room-stalls \|/);
    expect(md).toMatch(/\| SIGKILL \| 1 \| \*\*0\*\* \|/);
    expect(md).toMatch(/\| event at [\d.]+ s \| killed n\d/);
    expect(md).toMatch(/\| event at [\d.]+ s \| drained n\d/);
    // Two simulated nodes were measured on one Redis, beside the journal on a plain Redis and a Cluster.
    expect(md).toMatch(/\| 2 \| 40 \| \d+ \| [\d.]+ \| \d+ \|/);
    expect(md).toMatch(/\| 3-master Cluster \| 2 \| \d+ \|/);
    expect(readFileSync(join(dir, "bench-plots", "chaos-timeline.html"), "utf8")).toContain("Chart.js");
    for (const plot of ["capacity-tick-p99.svg", "capacity-cpu.svg", "failover-recovery.svg", "drain-hitch.svg", "chaos-latency.svg", "chaos-updates.svg", "feel-ack.svg", "feel-remote-speed.svg"]) {
      expect(md).toContain(`(bench-plots/${plot})`);
      expect(existsSync(join(dir, "bench-plots", plot))).toBe(true);
    }
    // The feel section plays every network condition on both servers.
    for (const server of ["plain Colyseus 0.18 (baseline)", "Locus"]) {
      for (const network of ["direct", "100 ms ± 20", "100 ms ± 20, 1 % held", "200 ms ± 60"]) expect(md).toContain(`| ${server} | ${network} |`);
    }

    // A run of one section rewrites that one and keeps every other as it was.
    const again = spawnSync(process.execPath, [MAIN, "--only", "gateway", "--seconds", "1", "--players", "10", "--rounds", "1", "--out", out], { encoding: "utf8", timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    const rerun = readFileSync(out, "utf8");
    for (const title of titles) expect(rerun).toContain(title);
    // Every data plane, and the followers that skip it, side by side with the direct path.
    for (const path of ["direct to the node", "HAProxy, own core", "Node relay, own core", "followers via HAProxy gateway, own core"]) expect(rerun).toContain(`| ${path} |`);
    expect(rerun.slice(rerun.indexOf("## Feel under real networks"))).toBe(md.slice(md.indexOf("## Feel under real networks")));
  }, 360_000);
});
