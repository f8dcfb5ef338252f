/**
 * Reversi in real Chromium: two pages reach the game from the landing page, meet in one room and
 * play each other to the end by clicking hinted squares, with the clocks counting down on screen
 * and a refused click shown briefly.
 */
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";
import { type NodeProcess, startNodeProcess } from "../loadtest/processes.ts";

let node: NodeProcess;
let browser: Browser;

beforeAll(async () => {
  node = await startNodeProcess({ REVERSI_CLOCK_MS: "120000" });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

/** A page that picks Reversi from the landing page under `name` and is seated. */
async function playReversi(name: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 860 } });
  await page.goto(node.url);
  await page.fill("#name", name);
  await Promise.all([page.waitForURL(/reversi\.html$/), page.click("#play-reversi")]);
  await page.waitForFunction(() => (window.reversi?.session?.color ?? 0) !== 0);
  return page;
}

const info = (page: Page) =>
  page.evaluate(() => {
    const s = window.reversi!.session!;
    return { roomId: s.room.roomId, color: s.color, myTurn: s.myTurn, turn: s.state!.turn, winner: s.state!.winner, board: s.board() };
  });

describe("reversi in the browser", () => {
  it("two pages play each other to the end from the landing page", async () => {
    mkdirSync("reports", { recursive: true });
    const black = await playReversi("Ada");
    await expect.poll(() => black.textContent("#status")).toBe("Waiting for an opponent…");
    const white = await playReversi("Bob");
    expect((await info(white)).roomId).toBe((await info(black)).roomId);
    expect([(await info(black)).color, (await info(white)).color]).toEqual([1, 2]);
    await expect.poll(() => black.textContent("#status")).toBe("Your turn.");
    await expect.poll(() => white.textContent("#status")).toBe("Ada to move.");
    expect(await black.locator(".cell.legal").count()).toBe(4);
    expect(await white.locator(".cell.legal").count()).toBe(0);
    expect(await black.textContent("#seat-2 .seat-name")).toBe("Bob");
    expect(await black.textContent("#hud-node")).not.toBe("–");

    // Black's clock counts down on white's screen while black thinks.
    const clockBefore = await white.textContent("#seat-1 .seat-clock");
    await expect.poll(() => white.textContent("#seat-1 .seat-clock"), { timeout: 5000 }).not.toBe(clockBefore);
    expect(await white.textContent("#seat-2 .seat-clock")).toBe("2:00");

    // A click out of turn is refused by the server and said so for a moment.
    await white.click('.cell[data-x="2"][data-y="4"]');
    await expect.poll(() => white.textContent("#toast")).toContain("Not your turn");
    await expect.poll(() => white.textContent("#toast"), { timeout: 5000 }).toBe("");

    let moves = 0;
    for (;;) {
      const [b, w] = [await info(black), await info(white)];
      if (b.winner !== 0 && w.winner !== 0) break;
      const page = b.myTurn ? black : w.myTurn ? white : undefined;
      if (!page) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const legal = page.locator(".cell.legal");
      const count = await legal.count();
      expect(count).toBeGreaterThan(0);
      const cell = legal.nth(Math.floor(Math.random() * count));
      const index = Number(await cell.getAttribute("data-y")) * 8 + Number(await cell.getAttribute("data-x"));
      await cell.click();
      await page.waitForFunction((i) => window.reversi!.session!.board()[i] !== 0, index);
      moves++;
      if (moves === 12) await black.screenshot({ path: "reports/reversi-midgame.png" });
    }
    const [b, w] = [await info(black), await info(white)];
    expect(w.board).toEqual(b.board);
    expect(b.board.filter((v) => v !== 0).length).toBe(4 + moves);
    expect(b.turn).toBe(0);
    const result = await black.textContent("#status");
    expect(result).toMatch(b.winner === 3 ? /^Draw/ : b.winner === 1 ? /^You win/ : /^Bob wins/);
    expect(await white.textContent("#status")).toMatch(b.winner === 3 ? /^Draw/ : b.winner === 2 ? /^You win/ : /^Ada wins/);
    await white.screenshot({ path: "reports/reversi-result.png" });
  });

  it("offers both games on the landing page", async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.goto(node.url);
    expect(await page.textContent("#join")).toBe("Join arena");
    expect(await page.textContent("#play-reversi")).toBe("Play Reversi");
    // A bad name goes nowhere.
    await page.fill("#name", "   ");
    await page.click("#play-reversi");
    await expect.poll(() => page.textContent("#lobby-error")).toContain("name must be 1 to 16 printable characters");
    expect(page.url()).not.toMatch(/reversi/);
    await page.fill("#name", "Ada");
    await page.screenshot({ path: "reports/landing.png" });
  });
});
