import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { launchBrowser } from "../test/helpers/browser.ts";
import { renderHtmlReport } from "./html-report.ts";
import type { TimelinePoint } from "./timeline.ts";

const timeline: TimelinePoint[] = Array.from({ length: 60 }, (_, i) => ({
  t: i + 1,
  target: i < 30 ? 200 : 0,
  connected: i < 30 ? 200 : 0,
  ackP50: i === 12 ? null : 20 + i,
  ackP99: i === 12 ? null : 60 + i,
  ackMax: i === 12 ? null : 90 + i,
  stateUpdates: 4000,
  bytesPerBot: i < 30 ? 617.28 : 0,
}));

const html = renderHtmlReport({
  title: "Swarm <200 bots>",
  subtitle: "2 nodes & a gateway",
  summary: [
    ["Bots", "200"],
    ["Verdict", "<b>PASS</b>"],
  ],
  timeline,
  events: [
    { atS: 20, what: "kill node-a" },
    { atS: 45, what: "drain </script><script>alert(1)</script>" },
  ],
  memory: [
    { name: "n1", points: [[20, 150.5], [40, 151], [60, 151.2]] },
    { name: "n2", points: [[20, 140], [40, 141], [60, 190]] },
  ],
});

describe("renderHtmlReport", () => {
  it("references nothing outside the file", () => {
    expect(html).not.toMatch(/<script[^>]*\ssrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<(img|iframe|object|embed|source|video|audio)\b/i);
    expect(html).not.toMatch(/\s(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|@font-face/i);
  });

  it("inlines the chart.js library", () => {
    expect(html).toContain("Chart.js v4.6.1");
    expect(html.length).toBeGreaterThan(200_000);
  });

  it("escapes the title, subtitle and summary", () => {
    expect(html).toContain("<title>Swarm &lt;200 bots&gt;</title>");
    expect(html).toContain("2 nodes &amp; a gateway");
    expect(html).toContain("<td>&lt;b&gt;PASS&lt;/b&gt;</td>");
    expect(html).not.toContain("<b>PASS</b>");
  });

  it("carries the timeline and the event labels, none able to close the script", () => {
    expect(html).toContain('"ackP99":[60,61,62,63,64,65,66,67,68,69,70,71,null,');
    expect(html).toMatch(/"bytesPerBot":\[617.28,[^\]]*,0,0\]/);
    expect(html).toMatch(/"target":\[200,[^\]]*,0,0\]/);
    expect(html).toContain('"memory":[{"name":"n1","points":[{"x":20,"y":150.5},');
    expect(html).toContain("kill node-a");
    expect(html).toContain("drain \\u003c/script>\\u003cscript>alert(1)\\u003c/script>");
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});

describe("renderHtmlReport in Chromium", () => {
  it("draws every chart with the network cut off", async () => {
    const dir = mkdtempSync(join(tmpdir(), "locus-report-"));
    const file = join(dir, "report.html");
    writeFileSync(file, html);
    const fileUrl = pathToFileURL(file).href;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const blocked: string[] = [];
      await page.route("**/*", (route) => {
        if (route.request().url() === fileUrl) return route.continue();
        blocked.push(route.request().url());
        return route.abort();
      });
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(message.text());
      });
      await page.goto(fileUrl);
      const charts = await page.evaluate(() => {
        const chart = (window as unknown as { Chart: { instances: Record<string, { canvas: HTMLCanvasElement }> } }).Chart;
        return Object.values(chart.instances).map((c) => ({ id: c.canvas.id, width: c.canvas.width }));
      });
      expect(pageErrors).toEqual([]);
      expect(blocked).toEqual([]);
      expect(charts.map((c) => c.id).sort()).toEqual(["bytes", "connected", "latency", "memory", "updates"]);
      for (const chart of charts) expect(chart.width).toBeGreaterThan(0);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
