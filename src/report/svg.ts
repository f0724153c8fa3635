/**
 * Small SVG charts for the run report, drawn as strings with no library: a
 * line (or step line) chart over (x, y) points and a histogram with vertical
 * markers. The output is inline SVG for a self-contained HTML page.
 *
 * Invariants: every text is XML-escaped; every coordinate is a finite number
 * (empty series, single points and zero ranges are padded, never divided by),
 * so the output never contains `NaN` or `Infinity`.
 */

import { escapeXml } from "../util/xml.ts";
import type { Histogram } from "../metrics/histogram.ts";

/** A point of a line chart. */
export interface Point {
  x: number;
  y: number;
}

/** Titles and size of a chart. */
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** @default 680 */
  width?: number;
  /** @default 260 */
  height?: number;
}

/** A moment on a time axis where chaos acted (a kill or an injected fault). */
export interface TimeMark {
  x: number;
  kind: "kill" | "fault";
  /** What happened, shown as the mark's tooltip. */
  label: string;
}

/** A labelled vertical line on a histogram, such as p99. */
export interface Marker {
  label: string;
  value: number;
}

const MARGIN = { left: 64, right: 20, top: 30, bottom: 44 };

/**
 * Formats a number compactly for axis labels: `950`, `12.5k`, `3.2M`, `0.25`.
 * Non-finite values print as `0`.
 */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return "0";
  const abs = Math.abs(value);
  const trim = (s: string) => s.replace(/\.0+$|(\.\d*?)0+$/, "$1");
  if (abs >= 1e9) return `${trim((value / 1e9).toFixed(1))}G`;
  if (abs >= 1e6) return `${trim((value / 1e6).toFixed(1))}M`;
  if (abs >= 1e4) return `${trim((value / 1e3).toFixed(1))}k`;
  if (abs >= 100 || abs === 0) return String(Math.round(value));
  if (abs >= 1) return trim(value.toFixed(1));
  return trim(value.toPrecision(2));
}

/**
 * About `count` round tick values covering [min, max] (steps of 1, 2 or 5
 * times a power of ten).
 *
 * @example
 * ```ts
 * niceTicks(0, 100, 5); // [0, 20, 40, 60, 80, 100]
 * ```
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) {
    return Number.isFinite(min) ? [min] : [0];
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / power;
  const step = (ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Formats a coordinate: one decimal, and 0 for anything non-finite. */
function c(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10) / 10) : "0";
}

/** A linear or logarithmic map from a domain to a pixel range. */
function scale(
  domain: [number, number],
  range: [number, number],
  log = false,
): (v: number) => number {
  const f = log ? (v: number) => Math.log10(Math.max(v, Number.MIN_VALUE)) : (v: number) => v;
  const d0 = f(domain[0]);
  const span = f(domain[1]) - d0;
  return (v) => {
    const t = span > 0 ? (f(v) - d0) / span : 0.5;
    const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
    return range[0] + clamped * (range[1] - range[0]);
  };
}

/** Pads a degenerate domain so that it has a positive width. */
function padDomain(min: number, max: number, floor?: number): [number, number] {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : lo + 1;
  if (hi <= lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.5 : 1;
    lo -= pad;
    hi += pad;
  }
  if (floor !== undefined && lo < floor) lo = floor;
  return [lo, hi];
}

function frame(options: ChartOptions, body: string[], xTicks: string[], yTicks: string[]): string {
  const width = options.width ?? 680;
  const height = options.height ?? 260;
  const plotBottom = height - MARGIN.bottom;
  const plotRight = width - MARGIN.right;
  const title = escapeXml(options.title);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">`,
    `<title>${title}</title>`,
    `<text class="chart-title" x="${MARGIN.left}" y="18">${title}</text>`,
    ...yTicks,
    ...xTicks,
    `<line class="axis" x1="${MARGIN.left}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${plotBottom}"/>`,
    ...body,
    `<text class="axis-label" x="${c((MARGIN.left + plotRight) / 2)}" y="${height - 6}" ` +
    `text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text class="axis-label" x="14" y="${
      c((MARGIN.top + plotBottom) / 2)
    }" text-anchor="middle" ` +
    `transform="rotate(-90 14 ${c((MARGIN.top + plotBottom) / 2)})">${
      escapeXml(options.yLabel)
    }</text>`,
    "</svg>",
  ].join("\n");
}

function noData(options: ChartOptions): string {
  const width = options.width ?? 680;
  const height = options.height ?? 260;
  return frame(
    options,
    [
      `<text class="no-data" x="${c(width / 2)}" y="${
        c(height / 2)
      }" text-anchor="middle">No data</text>`,
    ],
    [],
    [],
  );
}

function yAxis(ticks: number[], y: (v: number) => number, width: number): string[] {
  return ticks.map((v) =>
    `<line class="grid" x1="${MARGIN.left}" y1="${c(y(v))}" x2="${width - MARGIN.right}" y2="${
      c(y(v))
    }"/><text class="tick" x="${MARGIN.left - 6}" y="${c(y(v) + 4)}" text-anchor="end">${
      escapeXml(formatCompact(v))
    }</text>`
  );
}

function xAxis(ticks: number[], x: (v: number) => number, height: number): string[] {
  const bottom = height - MARGIN.bottom;
  return ticks.map((v) =>
    `<line class="tick-mark" x1="${c(x(v))}" y1="${bottom}" x2="${c(x(v))}" y2="${
      bottom + 4
    }"/><text class="tick" x="${c(x(v))}" y="${bottom + 16}" text-anchor="middle">${
      escapeXml(formatCompact(v))
    }</text>`
  );
}

/**
 * A line chart of points sorted by x. With `step`, the line holds each value
 * until the next point (right for counts that change in jumps, such as the
 * number of files). Non-finite points are skipped; y starts at 0 unless the
 * data goes below it.
 */
export function lineChart(
  points: readonly Point[],
  options: ChartOptions & {
    step?: boolean;
    marks?: readonly TimeMark[];
    /** An x range the axis covers at least, so that charts of one run share a time axis. */
    xRange?: readonly [number, number];
  },
): string {
  const data = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (data.length === 0) return noData(options);
  const width = options.width ?? 680;
  const height = options.height ?? 260;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = 0;
  let maxY = -Infinity;
  for (const p of data) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const marks = (options.marks ?? []).filter((m) => Number.isFinite(m.x));
  for (const m of marks) {
    minX = Math.min(minX, m.x);
    maxX = Math.max(maxX, m.x);
  }
  if (options.xRange !== undefined) {
    minX = Math.min(minX, options.xRange[0]);
    maxX = Math.max(maxX, options.xRange[1]);
  }
  const xDomain = padDomain(minX, maxX);
  const yDomain = padDomain(minY, maxY * 1.05, minY);
  const x = scale(xDomain, [MARGIN.left, width - MARGIN.right]);
  const y = scale(yDomain, [height - MARGIN.bottom, MARGIN.top]);
  const parts: string[] = [];
  data.forEach((p, i) => {
    if (i === 0) parts.push(`M${c(x(p.x))} ${c(y(p.y))}`);
    else if (options.step) parts.push(`H${c(x(p.x))} V${c(y(p.y))}`);
    else parts.push(`L${c(x(p.x))} ${c(y(p.y))}`);
  });
  const body: string[] = [];
  // Chaos marks under the line: a dashed vertical line per kill or fault.
  for (const m of marks) {
    const at = c(x(m.x));
    body.push(
      `<line class="chaos-mark chaos-${m.kind}" x1="${at}" y1="${MARGIN.top}" x2="${at}" ` +
        `y2="${height - MARGIN.bottom}"><title>${escapeXml(m.label)}</title></line>`,
    );
  }
  body.push(`<path class="line" d="${parts.join(" ")}"/>`);
  if (data.length === 1) {
    const only = data[0]!;
    body.push(`<circle class="dot" cx="${c(x(only.x))}" cy="${c(y(only.y))}" r="3"/>`);
  }
  return frame(
    options,
    body,
    xAxis(niceTicks(xDomain[0], xDomain[1], 8), x, height),
    yAxis(niceTicks(yDomain[0], yDomain[1], 5), y, width),
  );
}

/** Tick values for a logarithmic axis: 1, 2 and 5 times powers of ten, or powers only. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return ticks.length > 9 ? ticks.filter((v) => Math.log10(v) % 1 === 0) : ticks;
}

/**
 * A histogram with labelled vertical markers (such as p50 and p99). Bars
 * cover each bin's [lo, hi); a log histogram gets a log x axis.
 */
export function histogramChart(
  hist: Histogram,
  markers: readonly Marker[],
  options: ChartOptions,
): string {
  const bins = hist.bins.filter((b) =>
    Number.isFinite(b.lo) && Number.isFinite(b.hi) && Number.isFinite(b.count)
  );
  if (bins.length === 0) return noData(options);
  const width = options.width ?? 680;
  const height = options.height ?? 260;
  const log = hist.scale === "log" && bins[0]!.lo > 0;
  const lo = bins[0]!.lo;
  const hi = bins[bins.length - 1]!.hi;
  const xDomain: [number, number] = log ? [lo, hi > lo ? hi : lo * 10] : padDomain(lo, hi);
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const x = scale(xDomain, [MARGIN.left, width - MARGIN.right], log);
  const y = scale([0, maxCount * 1.1], [height - MARGIN.bottom, MARGIN.top]);
  const body: string[] = [];
  for (const b of bins) {
    // A single bin of one value gets a visible width around it.
    const [l, r] = b.hi > b.lo ? [x(b.lo), x(b.hi)] : [x(b.lo) - 8, x(b.lo) + 8];
    const top = y(b.count);
    body.push(
      `<rect class="bar" x="${c(l + 0.5)}" y="${c(top)}" width="${c(Math.max(1, r - l - 1))}" ` +
        `height="${c(height - MARGIN.bottom - top)}"><title>${escapeXml(formatCompact(b.lo))}–${
          escapeXml(formatCompact(b.hi))
        }: ${b.count}</title></rect>`,
    );
  }
  markers.forEach((m, i) => {
    if (!Number.isFinite(m.value)) return;
    const mx = x(m.value);
    body.push(
      `<line class="marker" x1="${c(mx)}" y1="${MARGIN.top}" x2="${c(mx)}" y2="${
        height - MARGIN.bottom
      }"/><text class="marker-label" x="${c(mx + 4)}" y="${MARGIN.top + 12 + 14 * i}">${
        escapeXml(`${m.label} ${formatCompact(m.value)}`)
      }</text>`,
    );
  });
  const xTicks = log ? logTicks(xDomain[0], xDomain[1]) : niceTicks(xDomain[0], xDomain[1], 8);
  return frame(
    options,
    body,
    xAxis(xTicks, x, height),
    yAxis(niceTicks(0, maxCount * 1.1, 4).filter((v) => Number.isInteger(v)), y, width),
  );
}
