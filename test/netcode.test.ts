/**
 * Two real players on the game's client library, through the network-conditions proxy at 100 ms
 * ± 20 (seeded): one holds its stick in legs, the other watches it. Both checks are counts about
 * the netcode and hold on a loaded machine: a correction is put down to a held stick only when no
 * stick change came within the inputs before it (a late change is a true misprediction), and the
 * other player counts as drawn still only where the watcher already held a patch past the instant
 * it drew and the server's patches came one per tick, each with the mover a step further (a CPU
 * stall of the watcher, the proxy or the server can make it wait for data, and the server holds a
 * player through an outage of its inputs; only the interpolation can stop a player it has data for).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { feelMetrics, type FeelMetrics } from "../loadtest/feel-metrics.ts";
import { playFeelSession } from "../loadtest/feel-session.ts";
import { NetemProxy } from "../loadtest/netem/proxy.ts";
import { type NodeProcess, startNodeProcess } from "../loadtest/processes.ts";

let node: NodeProcess;
let proxy: NetemProxy;
let feel: FeelMetrics;

beforeAll(async () => {
  node = await startNodeProcess({ LOG_LEVEL: "warn" });
  proxy = await NetemProxy.start({ target: { host: "127.0.0.1", port: node.port }, conditions: { rttMs: 100, jitterMs: 20, loss: 0 }, seed: 15 });
  feel = feelMetrics(await playFeelSession(proxy.url, 20));
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await node?.stop();
});

describe("netcode at 100 ms ± 20", () => {
  it("a held stick is never corrected by more than 1 px", () => {
    expect(feel.ownShownMs.length).toBeGreaterThan(4);
    expect(feel.heldCorrectionsOver1Px).toBe(0);
  });

  it("the other player is never drawn still while it moves at a steady stick", () => {
    expect(feel.steadyFrames).toBeGreaterThan(200);
    expect(feel.stillWithData).toBe(0);
  });
});
