/**
 * Histograms of latency samples for the run report. Latencies are skewed (a
 * long tail of retried commits), so bins are spaced logarithmically when the
 * sample spans more than a factor of 20, and linearly otherwise.
 *
 * Invariants: bins are contiguous (`bins[i].hi === bins[i + 1].lo`), their
 * counts add up to the number of finite samples, and every number is finite.
 */

import { round, sortedFinite } from "./percentiles.ts";

/** One bin: the samples `lo <= v < hi` (the last bin also holds `v === hi`). */
export interface HistogramBin {
  lo: number;
  hi: number;
  count: number;
}

/** A histogram and the spacing of its bins. */
export interface Histogram {
  scale: "linear" | "log";
  bins: HistogramBin[];
}

/**
 * Bins a sample into at most `maxBins` bins spanning its range. An empty
 * sample gives no bins; a sample of one distinct value gives one bin.
 *
 * @example
 * ```ts
 * histogram([1, 2, 2, 3], 2).bins; // [{ lo: 1, hi: 2, count: 1 }, { lo: 2, hi: 3, count: 3 }]
 * ```
 */
export function histogram(values: ArrayLike<number>, maxBins = 40): Histogram {
  if (!(Number.isInteger(maxBins) && maxBins >= 1)) {
    throw new RangeError(`Cannot build a histogram with ${maxBins} bins: use a positive integer`);
  }
  const sorted = sortedFinite(values);
  const n = sorted.length;
  if (n === 0) return { scale: "linear", bins: [] };
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  if (min === max) return { scale: "linear", bins: [{ lo: min, hi: max, count: n }] };
  const log = min > 0 && max / min > 20;
  const edges = new Float64Array(maxBins + 1);
  for (let i = 0; i <= maxBins; i++) {
    const f = i / maxBins;
    edges[i] = log ? min * (max / min) ** f : min + (max - min) * f;
  }
  edges[0] = min;
  edges[maxBins] = max;
  const counts = new Array<number>(maxBins).fill(0);
  let bin = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    while (bin < maxBins - 1 && v >= edges[bin + 1]!) bin++;
    counts[bin]!++;
  }
  const digits = 6;
  return {
    scale: log ? "log" : "linear",
    bins: counts.map((count, i) => ({
      lo: round(edges[i]!, digits),
      hi: round(edges[i + 1]!, digits),
      count,
    })),
  };
}
