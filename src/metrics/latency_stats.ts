/**
 * One latency series of a run (commit, encode, upload, ...), in memory that
 * does not grow with the run's length: the first `exactLimit` samples are
 * kept as they are, so a run of up to that many batches reports exact
 * nearest-rank percentiles (percentiles.ts), and past that the samples go
 * into a DDSketch (`@datadog/sketches-js`), whose quantiles are within
 * `relativeAccuracy` of the true ones and whose size depends on the range
 * of the values, not on their number. A week-long stream commits millions
 * of batches: every sample kept was about 40 bytes per batch and series,
 * and the progress line sorted them all once a second.
 *
 * Invariants:
 * - `count`, `min`, `max` and the mean are exact whatever the mode; p100 is
 *   the maximum.
 * - Non-finite samples are ignored, as `summarize` ignores them.
 * - Once past `exactLimit` the samples kept are released: what is retained
 *   is the sketch's bins only (`retained`).
 */

import { DDSketch } from "@datadog/sketches-js";
import type { Histogram } from "./histogram.ts";
import { histogram } from "./histogram.ts";
import { type LatencySummary, percentile, round, summarize } from "./percentiles.ts";

/** Samples kept exactly before the series turns to a sketch. @default 65_536 */
export const EXACT_LATENCY_SAMPLES = 65_536;

/** The sketch's relative accuracy past the exact samples. @default 0.005 */
export const LATENCY_RELATIVE_ACCURACY = 0.005;

/** Options of `LatencyStats`. */
export interface LatencyStatsOptions {
  /** Samples kept exactly. @default EXACT_LATENCY_SAMPLES */
  exactLimit?: number;
  /** Relative accuracy of the sketch's quantiles. @default LATENCY_RELATIVE_ACCURACY */
  relativeAccuracy?: number;
}

/** Quantile points a sketch's histogram is drawn from. */
const HISTOGRAM_POINTS = 2000;

/**
 * A latency series with bounded memory.
 *
 * @example
 * ```ts
 * const commit = new LatencyStats();
 * for (const ms of [10, 40, 30, 50, 20]) commit.add(ms);
 * commit.summary().p50; // 30
 * ```
 */
export class LatencyStats {
  readonly #exactLimit: number;
  readonly #accuracy: number;
  #exact: number[] | undefined = [];
  #sketch: DDSketch | undefined;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  constructor(options: LatencyStatsOptions = {}) {
    this.#exactLimit = options.exactLimit ?? EXACT_LATENCY_SAMPLES;
    this.#accuracy = options.relativeAccuracy ?? LATENCY_RELATIVE_ACCURACY;
    if (!(Number.isInteger(this.#exactLimit) && this.#exactLimit >= 0)) {
      throw new RangeError(`Cannot keep ${this.#exactLimit} exact samples: use an integer >= 0`);
    }
  }

  /** Adds one sample (ignored unless finite). */
  add(value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    if (this.#exact) {
      this.#exact.push(value);
      if (this.#exact.length > this.#exactLimit) this.#toSketch();
    } else this.#sketch!.accept(Math.max(0, value));
  }

  /** Finite samples added. */
  get count(): number {
    return this.#count;
  }

  /** True while every sample is kept (percentiles are exact). */
  get exact(): boolean {
    return this.#exact !== undefined;
  }

  /** The samples, while they are all kept; undefined past `exactLimit`. */
  get values(): readonly number[] | undefined {
    return this.#exact;
  }

  /** Numbers held in memory: the samples kept, or the sketch's bins. */
  get retained(): number {
    if (this.#exact) return this.#exact.length;
    const s = this.#sketch!;
    return s.store.bins.length + s.negativeStore.bins.length;
  }

  /**
   * The nearest-rank percentile `p` (0 to 100): exact while every sample is
   * kept, else within the sketch's relative accuracy (clamped to the exact
   * minimum and maximum). 0 when there are no samples.
   */
  percentile(p: number): number {
    if (this.#exact) return percentile(this.#exact, p);
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot take percentile ${p}: it must be between 0 and 100`);
    }
    if (p === 100) return this.#max;
    if (p === 0) return this.#min;
    return this.#clamp(this.#sketch!.getValueAtQuantile(p / 100));
  }

  /**
   * Count, mean, p50, p90, p99 and max, rounded to `digits` decimals; past
   * `exactLimit`, with `approximate: true` (the percentiles are the sketch's).
   */
  summary(digits = 3): LatencySummary {
    const n = this.#count;
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    if (this.#exact) return summarize(this.#exact, digits);
    return {
      count: n,
      mean: round(this.#sum / n, digits),
      p50: round(this.percentile(50), digits),
      p90: round(this.percentile(90), digits),
      p99: round(this.percentile(99), digits),
      max: round(this.#max, digits),
      approximate: true,
    };
  }

  /**
   * The series' histogram for the report: of the samples while they are all
   * kept; past that, of `HISTOGRAM_POINTS` evenly spaced quantiles of the
   * sketch, its counts scaled to the sample count (they still add up to it).
   */
  histogram(maxBins = 40): Histogram {
    if (this.#exact) return histogram(this.#exact, maxBins);
    const points = new Float64Array(HISTOGRAM_POINTS);
    for (let i = 0; i < HISTOGRAM_POINTS; i++) {
      points[i] = this.#clamp(this.#sketch!.getValueAtQuantile((i + 0.5) / HISTOGRAM_POINTS));
    }
    points[0] = this.#min;
    points[HISTOGRAM_POINTS - 1] = this.#max;
    const shape = histogram(points, maxBins);
    const scale = this.#count / HISTOGRAM_POINTS;
    let cumulative = 0;
    let given = 0;
    for (const bin of shape.bins) {
      cumulative += bin.count;
      const upTo = Math.round(cumulative * scale);
      bin.count = upTo - given;
      given = upTo;
    }
    return shape;
  }

  #clamp(value: number): number {
    return Math.min(this.#max, Math.max(this.#min, value));
  }

  #toSketch(): void {
    const sketch = new DDSketch({ relativeAccuracy: this.#accuracy });
    for (const v of this.#exact!) sketch.accept(Math.max(0, v));
    this.#sketch = sketch;
    this.#exact = undefined;
  }
}
