/**
 * Line charts as standalone SVG text, for the plots BENCHMARKS.md embeds: no scripts, no external
 * references, a white background so they read in dark-mode viewers too.
 */
import { escapeMarkup } from "./markup.ts";

export interface SvgSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface SvgLineChartInput {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly SvgSeries[];
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
  readonly threshold?: { readonly y: number; readonly label: string };
  readonly width?: number;
  readonly height?: number;
}

// Okabe-Ito, minus its yellow, which vanishes on white.
const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];
const FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
// Rough width of a 12px character: enough to lay out legend entries and labels without measuring.
const CHAR_WIDTH = 7;
// A white outline keeps marker and threshold labels legible where they cross a line.
const HALO = 'paint-order="stroke" stroke="#ffffff" stroke-width="3"';

export function svgLineChart(input: SvgLineChartInput): string {
  const width = input.width ?? 720;
  const height = input.height ?? 360;
  const markers = input.markers ?? [];
  const series = input.series.map((s, i) => ({
    name: s.name,
    color: PALETTE[i % PALETTE.length]!,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));

  const legend = layoutLegend(series.map((s) => s.name), width - 80);
  const plot = { left: 64, right: width - 20, top: 34 + legend.rows * 18 + 6, bottom: height - 46 };

  const xs = [...series.flatMap((s) => s.points.map(([x]) => x)), ...markers.map((m) => m.x)].filter(Number.isFinite);
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  if (input.threshold && Number.isFinite(input.threshold.y)) ys.push(input.threshold.y);
  const xAxis = xs.length > 0 ? niceAxis(minOf(xs, Infinity), maxOf(xs, -Infinity)) : niceAxis(0, 1);
  const yAxis = niceAxis(minOf(ys, 0), maxOf(ys, 0));
  const px = (x: number): number => plot.left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (plot.right - plot.left);
  const py = (y: number): number => plot.bottom - ((y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (plot.bottom - plot.top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeMarkup(input.title)}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="${FONT}" font-size="12" fill="#1f2328">`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeMarkup(input.title)}</text>`,
  );

  for (const [i, tick] of yAxis.ticks.entries()) {
    const y = r(py(tick));
    out.push(
      `<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#d0d7de" stroke-width="1"/>`,
      `<text class="tick-y" x="${plot.left - 6}" y="${y + 4}" text-anchor="end">${yAxis.labels[i]}</text>`,
    );
  }
  for (const [i, tick] of xAxis.ticks.entries()) {
    const x = r(px(tick));
    out.push(
      `<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.bottom}" stroke="#eaeef2" stroke-width="1"/>`,
      `<text class="tick-x" x="${x}" y="${plot.bottom + 16}" text-anchor="middle">${xAxis.labels[i]}</text>`,
    );
  }
  out.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#57606a" stroke-width="1"/>`,
    `<text x="${(plot.left + plot.right) / 2}" y="${height - 10}" text-anchor="middle">${escapeMarkup(input.xLabel)}</text>`,
    `<text transform="translate(16 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeMarkup(input.yLabel)}</text>`,
  );

  if (input.threshold && Number.isFinite(input.threshold.y)) {
    const y = r(py(input.threshold.y));
    out.push(
      `<line class="threshold" x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${plot.right - 4}" y="${y - 5}" text-anchor="end" fill="#cf222e" ${HALO}>${escapeMarkup(input.threshold.label)}</text>`,
    );
  }

  for (const s of series) {
    if (s.points.length === 0) continue;
    const coords = s.points.map(([x, y]) => [r(px(x)), r(py(y))] as const);
    out.push(
      `<polyline points="${coords.map(([x, y]) => `${x},${y}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`,
      `<g fill="${s.color}">${coords.map(([x, y]) => `<circle cx="${x}" cy="${y}" r="2.5"/>`).join("")}</g>`,
    );
  }

  for (const [i, marker] of markers.entries()) {
    if (!Number.isFinite(marker.x)) continue;
    const x = r(px(marker.x));
    // Staggered rows keep labels of markers close together from overprinting each other.
    const labelY = plot.top + 13 + (i % 3) * 14;
    const fitsRight = x + 4 + marker.label.length * CHAR_WIDTH <= plot.right;
    out.push(
      `<line class="marker" x1="${x}" y1="${plot.top}" x2="${x}" y2="${plot.bottom}" stroke="#57606a" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      `<text x="${fitsRight ? x + 4 : x - 4}" y="${labelY}" text-anchor="${fitsRight ? "start" : "end"}" fill="#57606a" ${HALO}>${escapeMarkup(marker.label)}</text>`,
    );
  }

  for (const [i, s] of series.entries()) {
    const { x, y } = legend.positions[i]!;
    out.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"/>`,
      `<circle cx="${x + 9}" cy="${y - 4}" r="2.5" fill="${s.color}"/>`,
      `<text x="${x + 24}" y="${y}">${escapeMarkup(s.name)}</text>`,
    );
  }

  out.push("</g>", "</svg>");
  return `${out.join("\n")}\n`;
}

/** Legend entries left to right, wrapping onto another row when one fills up. */
function layoutLegend(names: readonly string[], maxWidth: number): { rows: number; positions: { x: number; y: number }[] } {
  const positions: { x: number; y: number }[] = [];
  let x = 0;
  let row = 0;
  for (const name of names) {
    const entryWidth = 24 + name.length * CHAR_WIDTH + 18;
    if (x > 0 && x + entryWidth > maxWidth) {
      x = 0;
      row += 1;
    }
    positions.push({ x: 64 + x, y: 44 + row * 18 });
    x += entryWidth;
  }
  return { rows: names.length === 0 ? 0 : row + 1, positions };
}

/** An axis from min to max widened to whole steps of 1, 2 or 5 × 10^n, about five of them. */
function niceAxis(min: number, max: number): { lo: number; hi: number; ticks: number[]; labels: string[] } {
  const top = max > min ? max : min + 1;
  const raw = (top - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  const first = Math.floor(min / step);
  const last = Math.ceil(top / step);
  // Multiplying whole step counts avoids the drift of adding 0.1 over and over.
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const format = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks, labels: ticks.map((t) => format.format(t)) };
}

// Loops rather than Math.min(...values): spreading a long series overflows the call stack.
function minOf(values: readonly number[], start: number): number {
  return values.reduce((a, b) => Math.min(a, b), start);
}

function maxOf(values: readonly number[], start: number): number {
  return values.reduce((a, b) => Math.max(a, b), start);
}

/** Tenths of a pixel are plenty, and keep the file small. */
function r(n: number): number {
  return Math.round(n * 10) / 10;
}
