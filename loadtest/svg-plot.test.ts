import { describe, expect, it } from "vitest";
import { svgLineChart } from "./svg-plot.ts";

function tickLabels(svg: string, axis: "x" | "y"): string[] {
  return [...svg.matchAll(new RegExp(`<text class="tick-${axis}"[^>]*>([^<]*)</text>`, "g"))].map((m) => m[1]!);
}

describe("svgLineChart", () => {
  const svg = svgLineChart({
    title: "Ack <latency> & drains",
    xLabel: "bots",
    yLabel: "p99 (ms)",
    series: [
      { name: "single node", points: [[0, 10], [50, 40], [100, 93]] },
      { name: "cluster", points: [[0, 8], [50, Number.NaN], [100, 60]] },
    ],
    markers: [{ x: 50, label: "node killed" }],
    threshold: { y: 80, label: "budget 80 ms" },
  });

  it("is a standalone SVG with a white background and no scripts or external references", () => {
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('width="720" height="360"');
    expect(svg).toMatch(/<rect width="720" height="360" fill="#ffffff"\/>/);
    expect(svg).not.toMatch(/<script|href=|<image|url\(/i);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });

  it("escapes text for XML", () => {
    expect(svg).toContain("Ack &lt;latency&gt; &amp; drains");
    expect(svg).not.toContain("<latency>");
    const labelled = svgLineChart({ title: "t", xLabel: "a<b", yLabel: "c&d", series: [{ name: `"q" & 'r'`, points: [[1, 1]] }] });
    expect(labelled).toContain("a&lt;b");
    expect(labelled).toContain("c&amp;d");
    expect(labelled).toContain("&quot;q&quot; &amp; &#39;r&#39;");
  });

  it("draws one line per series in distinct colours, with point markers and a legend", () => {
    const lines = [...svg.matchAll(/<polyline points="([^"]*)"[^>]*stroke="(#[0-9a-f]{6})"/g)];
    expect(lines).toHaveLength(2);
    expect(lines[0]![2]).not.toBe(lines[1]![2]);
    expect(svg.match(/<circle /g)!.length).toBeGreaterThanOrEqual(5);
    expect(svg).toContain(">single node</text>");
    expect(svg).toContain(">cluster</text>");
  });

  it("skips non-finite points", () => {
    const lines = [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1]!.split(" "));
    expect(lines[0]).toHaveLength(3);
    expect(lines[1]).toHaveLength(2);
    expect(svg).not.toContain("NaN");
    const sparse = svgLineChart({
      title: "t", xLabel: "x", yLabel: "y",
      series: [{ name: "s", points: [[0, 1], [Number.POSITIVE_INFINITY, 2], [2, Number.NaN], [4, 3]] }],
    });
    expect(sparse).not.toMatch(/NaN|Infinity/);
  });

  it("draws the threshold and the markers as dashed lines with their labels", () => {
    expect(svg).toMatch(/<line class="threshold"[^>]*stroke-dasharray/);
    expect(svg).toContain(">budget 80 ms</text>");
    expect(svg).toMatch(/<line class="marker"[^>]*stroke-dasharray/);
    expect(svg).toContain(">node killed</text>");
  });

  it("puts ticks on whole 1, 2 or 5 × 10^n steps, y from 0 and x from the smallest x", () => {
    expect(tickLabels(svg, "y")).toEqual(["0", "20", "40", "60", "80", "100"]);
    expect(tickLabels(svg, "x")).toEqual(["0", "20", "40", "60", "80", "100"]);
    const small = svgLineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [[3, 0.07], [9, 0.93]] }] });
    expect(tickLabels(small, "y")).toEqual(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    expect(tickLabels(small, "x")).toEqual(["2", "4", "6", "8", "10"]);
  });

  it("keeps the threshold in view even above the data", () => {
    const above = svgLineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [[0, 5], [1, 12]] }], threshold: { y: 140, label: "limit" } });
    expect(tickLabels(above, "y").at(-1)).toBe("150");
  });

  it("honours a custom size and copes with no data", () => {
    const empty = svgLineChart({ title: "t", xLabel: "x", yLabel: "y", series: [], width: 400, height: 200 });
    expect(empty).toContain('viewBox="0 0 400 200"');
    expect(empty).not.toMatch(/NaN|Infinity/);
  });
});
