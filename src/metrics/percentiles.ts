/**
 * Exact percentiles and latency summaries over all samples given.
 *
 * Percentiles use the nearest-rank method: the p-th percentile of n sorted
 * values is the value at 1-based rank `ceil(p / 100 * n)` (rank 1 for p = 0).
 * It is always one of the samples, so p99 of a run is a latency that a batch
 * really had, and p100 is the maximum. A run's latency series keeps its
 * samples only up to a limit and summarizes past it from a sketch
 * (latency_stats.ts): such a summary says `approximate: true`.
 *
 * Invariant: every summary of an empty sample is all zeros with `count` 0,
 * never NaN, so that the results stay valid JSON numbers.
 */

/** Count, mean and percentiles of a sample, in the sample's unit. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /**
   * Present (true) when p50, p90 and p99 come from a sketch, not from every
   * sample (a series past 65,536 samples, latency_stats.ts): each is then
   * within the sketch's relative accuracy (0.5 %) of the exact one, and may
   * be no sample's latency. Count, mean and max are exact either way.
   */
  approximate?: true;
}

/**
 * The nearest-rank percentile `p` (0 to 100) of values sorted ascending, or 0
 * when there are none.
 *
 * @example
 * ```ts
 * percentileOfSorted([1, 2, 3, 4], 50); // 2
 * percentileOfSorted([1, 2, 3, 4], 90); // 4
 * ```
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`Cannot take percentile ${p}: it must be between 0 and 100`);
  }
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * n - 1e-9));
  return sorted[Math.min(n, rank) - 1]!;
}

/** Returns the values as a new ascending Float64Array (NaN and infinities dropped). */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

/**
 * The nearest-rank percentile `p` of unsorted values (see the file header).
 *
 * @example
 * ```ts
 * percentile([15, 20, 35, 40, 50], 40); // 20
 * ```
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  return percentileOfSorted(sortedFinite(values), p);
}

/**
 * Summarizes a sample. Non-finite values are ignored. Values are rounded to
 * `digits` decimals (the mean included); `count` is exact.
 *
 * @example
 * ```ts
 * summarize([1, 2, 3, 4, 100]);
 * // { count: 5, mean: 22, p50: 3, p90: 100, p99: 100, max: 100 }
 * ```
 */
export function summarize(values: ArrayLike<number>, digits = 3): LatencySummary {
  const sorted = sortedFinite(values);
  const n = sorted.length;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    mean: round(sum / n, digits),
    p50: round(percentileOfSorted(sorted, 50), digits),
    p90: round(percentileOfSorted(sorted, 90), digits),
    p99: round(percentileOfSorted(sorted, 99), digits),
    max: round(sorted[n - 1]!, digits),
  };
}

/** Rounds to `digits` decimals; non-finite values become 0. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return 0;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
