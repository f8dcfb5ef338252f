import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";
import { type NodeProcess, startNodeProcess } from "../loadtest/processes.ts";
import { ARENA_WIDTH } from "../shared/constants.ts";

let node: NodeProcess;
let browser: Browser;

beforeAll(async () => {
  node = await startNodeProcess();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

async function joinAs(name: string): Promise<{ page: Page; sessionId: string }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(node.url);
  await page.fill("#name", name);
  await page.click("#join");
  await page.waitForFunction(() => window.locus?.session?.state?.players?.size !== undefined);
  const sessionId = await page.evaluate(() => window.locus!.session!.sessionId);
  return { page, sessionId };
}

function xSeenBy(page: Page, sessionId: string): Promise<number> {
  return page.evaluate((id) => window.locus!.session!.state.players.get(id)!.x, sessionId);
}

describe("browser game", () => {
  it("a held key moves the player on the server and a second page sees it", async () => {
    const alice = await joinAs("Alice");
    const bob = await joinAs("Bob");
    await bob.page.waitForFunction((id) => window.locus!.session!.state.players.has(id), alice.sessionId);
    const before = await xSeenBy(bob.page, alice.sessionId);

    // Toward the middle, where there is room to move whatever the spawn.
    const inward = before < ARENA_WIDTH / 2 ? 1 : -1;
    const key = inward > 0 ? "KeyD" : "KeyA";
    await alice.page.keyboard.down(key);
    await bob.page.waitForFunction(
      ([id, from, sign]) => (window.locus!.session!.state.players.get(id as string)!.x - (from as number)) * (sign as number) > 40,
      [alice.sessionId, before, inward] as const,
      { timeout: 10_000 },
    );
    await alice.page.keyboard.up(key);

    expect(((await xSeenBy(bob.page, alice.sessionId)) - before) * inward).toBeGreaterThan(40);
    expect(await alice.page.textContent("#hud-tick")).toBe("30");
    expect(await alice.page.textContent("#hud-players")).toBe("2");
    mkdirSync("reports", { recursive: true });
    await alice.page.screenshot({ path: "reports/browser-game.png" });
  });

  it("refuses a bad name with a clear message and joins nothing", async () => {
    const page = await browser.newPage();
    await page.goto(node.url);
    await page.fill("#name", "   ");
    await page.click("#join");
    await expect.poll(() => page.textContent("#lobby-error")).toContain("name must be 1 to 16 printable characters");
    expect(await page.isHidden("#game")).toBe(true);
  });
});
