import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { connectionsTo, haproxyOf, portOf } from "./helpers/proc-sockets.ts";
import { freePort } from "../loadtest/ports.ts";
import { waitFor } from "../loadtest/processes.ts";
import { ARENA_WIDTH } from "../shared/constants.ts";

let cluster: TestCluster;
let browser: Browser;

beforeAll(async () => {
  // The nodes advertise their addresses, so the page's socket goes straight to its room's node.
  cluster = await startCluster(0);
  for (const nodeId of ["n1", "n2"]) {
    const port = await freePort();
    await cluster.addNode(nodeId, { PUBLIC_URL: `ws://127.0.0.1:${port}` }, { port });
  }
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe("browser game on a cluster", () => {
  it("plays straight to its room's node, and carries on after that node is killed, without reloading the page", async () => {
    const haproxy = haproxyOf(cluster.gateway.child.pid!)!;
    // The page's one socket is on the node (the node counts a client) and HAProxy carries none to it.
    const direct = (nodeId: string) =>
      waitFor(
        async () => {
          const metrics = await (await fetch(`${cluster.node(nodeId).adminUrl}/metrics`)).text();
          return Number(/^locus_clients(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1]) === 1 && connectionsTo(haproxy, portOf(cluster.node(nodeId).url)) === 0;
        },
        10_000,
        () => `the page's socket straight to ${nodeId}\n${cluster.output()}`,
      );
    const page = await browser.newPage();
    await page.goto(cluster.gateway.url);
    await page.fill("#name", "Phoenix");
    await page.click("#join");
    await page.waitForFunction(() => window.locus?.session?.state?.nodeId);
    const owner = await page.evaluate(() => window.locus!.session!.state.nodeId);
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await expect.poll(() => page.textContent("#hud-node"), { timeout: 5000 }).toBe(owner);
    await direct(owner);

    cluster.node(owner).child.kill("SIGKILL");
    // The session is briefly absent while the client reconnects: wait for a node, and another one.
    await page.waitForFunction(
      (dead) => {
        const nodeId = window.locus?.session?.state?.nodeId;
        return typeof nodeId === "string" && nodeId !== "" && nodeId !== dead;
      },
      owner,
      { timeout: 15_000 },
    );
    const successor = await page.evaluate(() => window.locus!.session!.state.nodeId);
    expect(successor).not.toBe(owner);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await expect.poll(() => page.textContent("#hud-node"), { timeout: 5000 }).toBe(successor);
    await direct(successor);

    // Still playable: a held key moves the player on the new node.
    const x = await page.evaluate(() => window.locus!.session!.me!.x);
    // Toward the middle, where there is room to move whatever the spawn.
    const inward = x < ARENA_WIDTH / 2 ? 1 : -1;
    const key = inward > 0 ? "ArrowRight" : "ArrowLeft";
    await page.keyboard.down(key);
    await page.waitForFunction(([from, sign]) => (window.locus!.session!.me!.x - from) * sign > 30, [x, inward] as const, { timeout: 5000 });
    await page.keyboard.up(key);
  });
});
