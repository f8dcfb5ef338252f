/**
 * A swarm run's report as one self-contained HTML page: the summary table and chart.js plots of
 * the timeline with the chaos events marked, chart.js itself inlined so the file opens offline.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { escapeMarkup } from "./markup.ts";
import type { TimelineEvent, TimelinePoint } from "./timeline.ts";

export interface HtmlReportInput {
  readonly title: string;
  readonly subtitle: string;
  readonly summary: readonly (readonly [string, string])[];
  readonly timeline: readonly TimelinePoint[];
  readonly events: readonly TimelineEvent[];
  /** A soak's node memory, one series per node: [seconds, MB] points. */
  readonly memory?: readonly { readonly name: string; readonly points: readonly (readonly [number, number])[] }[];
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const data = {
    t: input.timeline.map((p) => p.t),
    ackP50: input.timeline.map((p) => p.ackP50),
    ackP99: input.timeline.map((p) => p.ackP99),
    ackMax: input.timeline.map((p) => p.ackMax),
    connected: input.timeline.map((p) => p.connected),
    target: input.timeline.map((p) => p.target),
    // Each point is a one-second window, so bytes in it are already bytes per second.
    bytesPerBot: input.timeline.map((p) => p.bytesPerBot),
    stateUpdates: input.timeline.map((p) => p.stateUpdates),
    events: input.events.map((e) => ({ atS: e.atS, what: e.what })),
    memory: (input.memory ?? []).map((m) => ({ name: m.name, points: m.points.map(([x, y]) => ({ x, y })) })),
  };
  const memorySection = data.memory.length > 0 ? `<section><h2>Node memory (MB, resident)</h2><div class="chart"><canvas id="memory"></canvas></div></section>\n` : "";
  const rows = input.summary
    .map(([key, value]) => `<tr><th scope="row">${escapeMarkup(key)}</th><td>${escapeMarkup(value)}</td></tr>`)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>${escapeMarkup(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeMarkup(input.title)}</h1>
<p class="subtitle">${escapeMarkup(input.subtitle)}</p>
<table class="summary">
${rows}
</table>
<section><h2>Input-to-ack latency (ms)</h2><div class="chart"><canvas id="latency"></canvas></div></section>
<section><h2>Connected bots and the target</h2><div class="chart"><canvas id="connected"></canvas></div></section>
<section><h2>Bytes per second received per bot</h2><div class="chart"><canvas id="bytes"></canvas></div></section>
<section><h2>State updates per second (lean bots)</h2><div class="chart"><canvas id="updates"></canvas></div></section>
${memorySection}<script>${chartJsSource()}</script>
<script>const REPORT = ${scriptSafeJson(data)};
${CHARTS_SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #fff; color: #1f2328; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
h2 { font-size: 1.05rem; margin: 1.8rem 0 0.4rem; }
.subtitle { color: #57606a; margin-top: 0; }
table.summary { border-collapse: collapse; }
table.summary th, table.summary td { border: 1px solid #d0d7de; padding: 0.3rem 0.7rem; text-align: left; }
table.summary th { background: #f6f8fa; font-weight: 600; }
.chart { position: relative; height: 300px; }
`;

// Runs in the page, so plain JavaScript; no backticks or template holes in it because it sits
// inside a TypeScript template literal.
const CHARTS_SCRIPT = `
const eventLines = {
  id: "eventLines",
  afterDatasetsDraw(chart) {
    const area = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#cf222e";
    REPORT.events.forEach(function (event, i) {
      const x = chart.scales.x.getPixelForValue(event.atS);
      if (x < area.left || x > area.right) return;
      ctx.strokeStyle = "#cf222e";
      ctx.lineWidth = 1;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, area.top);
      ctx.lineTo(x, area.bottom);
      ctx.stroke();
      const fitsRight = x + 4 + ctx.measureText(event.what).width <= area.right;
      const textX = fitsRight ? x + 4 : x - 4;
      // Staggered rows keep the labels of events close together from overprinting each other.
      const textY = area.top + 12 + (i % 3) * 13;
      ctx.textAlign = fitsRight ? "left" : "right";
      // A white outline keeps the label legible where it crosses a plotted line.
      ctx.setLineDash([]);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 3;
      ctx.strokeText(event.what, textX, textY);
      ctx.fillText(event.what, textX, textY);
    });
    ctx.restore();
  },
};

const lastEventAt = REPORT.events.reduce(function (max, e) { return Math.max(max, e.atS); }, 0);

function series(label, values, color, extra) {
  return Object.assign({
    label: label,
    data: values.map(function (y, i) { return { x: REPORT.t[i], y: y }; }),
    borderColor: color,
    backgroundColor: color,
    borderWidth: 1.5,
    pointRadius: 0,
    pointHoverRadius: 3,
  }, extra || {});
}

function lineChart(canvasId, datasets, yTitle) {
  return new Chart(document.getElementById(canvasId), {
    type: "line",
    data: { datasets: datasets },
    plugins: [eventLines],
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        // Events may fall after the last sample; their lines should still show.
        x: { type: "linear", min: 0, suggestedMax: lastEventAt, title: { display: true, text: "seconds" } },
        // One y-axis width for all charts lines their time axes up, so an event sits at the
        // same place in each.
        y: { beginAtZero: true, title: { display: true, text: yTitle }, afterFit: function (scale) { scale.width = 72; } },
      },
    },
  });
}

lineChart("latency", [
  series("p50", REPORT.ackP50, "#0072b2"),
  series("p99", REPORT.ackP99, "#e69f00"),
  series("max", REPORT.ackMax, "#d55e00"),
], "ms");
lineChart("connected", [
  series("connected", REPORT.connected, "#009e73"),
  series("target", REPORT.target, "#57606a", { borderDash: [6, 4] }),
], "bots");
lineChart("bytes", [series("bytes/s per bot", REPORT.bytesPerBot, "#0072b2")], "bytes/s");
lineChart("updates", [series("state updates/s", REPORT.stateUpdates, "#cc79a7")], "updates/s");
if (REPORT.memory.length > 0) {
  const palette = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];
  lineChart("memory", REPORT.memory.map(function (m, i) {
    const color = palette[i % palette.length];
    return { label: m.name, data: m.points, borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 2 };
  }), "MB");
}
`;

function chartJsSource(): string {
  // chart.js's package.json "exports" hides dist/chart.umd.min.js (and package.json itself), but
  // its "require" entry lives in the same dist directory.
  const entry = createRequire(import.meta.url).resolve("chart.js");
  const source = readFileSync(join(dirname(entry), "chart.umd.min.js"), "utf8");
  if (/<\/script|<!--/i.test(source)) throw new Error("chart.js's UMD build cannot be inlined in a <script>");
  return source;
}

// "\\u003c" is JSON and JavaScript for "<", so no "</script>" or "<!--" in a label can end or
// derail the inline script that carries the data.
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}
