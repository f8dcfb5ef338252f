import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinArena } from "../client/lib/node.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startNodeProcess({ NODE_ID: "http-test-node" });
});

afterAll(async () => {
  await node?.stop();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : Number.NaN;
}

describe("node HTTP", () => {
  it("answers health and readiness", async () => {
    const health = await fetch(`${node.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", node: "http-test-node" });
    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("serves the built browser game at /", async () => {
    const page = await fetch(node.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Locus arena");
  });

  it("exports rooms, clients, tick time and bytes sent as Prometheus metrics", async () => {
    const session = await joinArena({ url: node.url, name: "Meter" });
    await waitFor(async () => (await metric("locus_tick_duration_seconds_count")) > 30, 5000, () => "ticks counted");
    expect(await metric("locus_rooms")).toBe(1);
    expect(await metric("locus_clients")).toBe(1);
    expect(await metric("locus_bytes_sent_total")).toBeGreaterThan(100);
    expect(await metric("locus_tick_overruns_total")).toBeGreaterThanOrEqual(0);
    const res = await fetch(`${node.adminUrl}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    await session.leave();
    await waitFor(async () => (await metric("locus_clients")) === 0 && (await metric("locus_rooms")) === 0, 5000, () => "gauges back to 0");
  });
});

describe("node process", () => {
  it("refuses to start on a bad environment variable, naming it", () => {
    const main = fileURLToPath(new URL("../server/main.ts", import.meta.url));
    const run = spawnSync(process.execPath, [main], { env: { ...process.env, TICK_HZ: "fast", PORT: "0" }, encoding: "utf8", timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('TICK_HZ="fast": expected a whole number from 1 to 120');
  });

  it("on SIGTERM stops taking rooms, closes its players with 4001 and exits 0", async () => {
    const doomed = await startNodeProcess();
    const session = await joinArena({ url: doomed.url, name: "Last" });
    let leftWith: number | undefined;
    session.room.onLeave((code) => (leftWith = code));
    doomed.child.kill("SIGTERM");
    expect(await doomed.exited).toBe(0);
    await waitFor(() => leftWith !== undefined, 5000, () => "the player told");
    expect(leftWith).toBe(4001);
    expect(doomed.output()).toContain('"event":"node_stopping"');
  });
});
