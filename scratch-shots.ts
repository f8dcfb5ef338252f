import { launchBrowser } from "./test/helpers/browser.ts";
import { startNodeProcess } from "./loadtest/processes.ts";
const node = await startNodeProcess({ REVERSI_CLOCK_MS: "14000" });
const browser = await launchBrowser();
try {
  const open = async (name: string) => {
    const page = await browser.newPage({ viewport: { width: 900, height: 860 } });
    await page.goto(node.url);
    await page.fill("#name", name);
    await Promise.all([page.waitForURL(/reversi/), page.click("#play-reversi")]);
    await page.waitForFunction(() => (window.reversi?.session?.color ?? 0) !== 0);
    return page;
  };
  const a = await open("Ada");
  await a.waitForTimeout(300);
  await a.screenshot({ path: "reports/reversi-waiting.png" });
  await a.goto(node.url);
  await a.screenshot({ path: "reports/landing.png" });
  const black = await open("Ada");
  console.log("black color", await black.evaluate(() => window.reversi!.session!.color));
  const white = await open("Bob");
  await black.click('.cell[data-x="3"][data-y="2"]');
  await white.waitForFunction(() => window.reversi!.session!.myTurn);
  await white.click('.cell[data-x="2"][data-y="2"]');
  await black.waitForFunction(() => window.reversi!.session!.myTurn);
  await black.waitForTimeout(4500);
  await black.click('.cell[data-x="0"][data-y="0"]');
  await black.waitForTimeout(300);
  await black.screenshot({ path: "reports/reversi-refused-low-clock.png" });
  await black.waitForFunction(() => window.reversi!.session!.state!.winner !== 0, undefined, { timeout: 15000 });
  await black.screenshot({ path: "reports/reversi-lost-on-time.png" });
  await white.close({ runBeforeUnload: true });
  await black.waitForTimeout(300);
  console.log("players after white closed", await black.evaluate(() => window.reversi!.session!.state!.players.size));
} finally {
  await browser.close();
  await node.stop();
}
