/**
 * Time series of a run for its report, in memory that does not grow with the
 * run's length: at most `maxPoints` points each. A series starts at full
 * resolution (one point a second, as a short run's charts show it) and,
 * when it would pass its bound, halves its resolution: a rate series merges
 * pairs of buckets, a sampled series keeps one point per wider window. A
 * week-long run keeps the same few thousand points as a 30-minute one, at
 * coarser steps; `streaming_metrics.csv` keeps every event.
 *
 * Invariants:
 * - A rate series' buckets add up to everything added, whatever the
 *   resolution: merging never drops a row.
 * - A sampled series keeps, per key and window, the first point that fell
 *   in it, in the order added.
 * - Neither holds more than `maxPoints` points (a sampled series, per key
 *   count included, in all).
 */

/** Points a series keeps at most. @default 4096 */
export const SERIES_MAX_POINTS = 4096;

/**
 * Counts per bucket of run time (rows per second), with buckets of one
 * second that widen (1, 2, 4, ... s) so that there are never more than
 * `maxPoints`.
 *
 * @example
 * ```ts
 * const rows = new RateSeries(2);
 * rows.add(0.5, 10); rows.add(1.5, 20); rows.add(2.5, 30);
 * rows.bucketSeconds; // 2 (three one-second buckets did not fit in two)
 * rows.buckets; // [30, 30]
 * ```
 */
export class RateSeries {
  readonly #max: number;
  #width = 1;
  #buckets: number[] = [];

  constructor(maxPoints = SERIES_MAX_POINTS) {
    if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
      throw new RangeError(`Cannot keep a series of ${maxPoints} points: use an integer >= 2`);
    }
    this.#max = maxPoints;
  }

  /** Adds `count` at `tSeconds` of run time (negative times count at 0). */
  add(tSeconds: number, count: number): void {
    const second = Math.max(0, Math.floor(Number.isFinite(tSeconds) ? tSeconds : 0));
    let at = Math.floor(second / this.#width);
    while (at >= this.#max) {
      this.#halve();
      at = Math.floor(second / this.#width);
    }
    while (this.#buckets.length <= at) this.#buckets.push(0);
    this.#buckets[at]! += count;
  }

  /** Seconds per bucket. */
  get bucketSeconds(): number {
    return this.#width;
  }

  /** The sums per bucket; bucket `i` covers [i * bucketSeconds, (i + 1) * bucketSeconds). */
  get buckets(): readonly number[] {
    return this.#buckets;
  }

  #halve(): void {
    const merged: number[] = [];
    for (let i = 0; i < this.#buckets.length; i += 2) {
      merged.push(this.#buckets[i]! + (this.#buckets[i + 1] ?? 0));
    }
    this.#buckets = merged;
    this.#width *= 2;
  }
}

/**
 * Points sampled over run time (file counts, resident memory per role): at
 * most one per key in each window of `windowSeconds`, starting at
 * `initialWindowSeconds` (0: every point is kept) and doubling (from 0, to
 * one second) whenever the points would pass `maxPoints`.
 *
 * @example
 * ```ts
 * const rss = new SampledSeries<{ t_s: number; role_id: string; rss_mb: number }>(
 *   (p) => p.role_id,
 * );
 * rss.add({ t_s: 0.2, role_id: "writer-0", rss_mb: 200 });
 * rss.add({ t_s: 0.7, role_id: "writer-0", rss_mb: 210 }); // same second: not kept
 * rss.points.length; // 1
 * ```
 */
export class SampledSeries<T extends { t_s: number }> {
  readonly #key: (point: T) => string;
  readonly #max: number;
  #window: number;
  #points: T[] = [];
  /** The window of the last point kept per key. */
  #lastWindow = new Map<string, number>();

  constructor(
    key: (point: T) => string = () => "",
    options: { maxPoints?: number; initialWindowSeconds?: number } = {},
  ) {
    const maxPoints = options.maxPoints ?? SERIES_MAX_POINTS;
    if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
      throw new RangeError(`Cannot keep a series of ${maxPoints} points: use an integer >= 2`);
    }
    this.#key = key;
    this.#max = maxPoints;
    this.#window = options.initialWindowSeconds ?? 1;
  }

  /** Adds `point` unless its key already has one in its window. */
  add(point: T): void {
    if (this.#window > 0) {
      const key = this.#key(point);
      const window = Math.floor(point.t_s / this.#window);
      if (this.#lastWindow.get(key) === window) return;
      this.#lastWindow.set(key, window);
    }
    this.#points.push(point);
    // More keys than points allowed could never fit: stop widening then.
    while (this.#points.length > this.#max && this.#window < 2 ** 40) this.#widen();
  }

  /** Seconds per window. */
  get windowSeconds(): number {
    return this.#window;
  }

  /** The points kept, in the order added. */
  get points(): readonly T[] {
    return this.#points;
  }

  #widen(): void {
    this.#window = this.#window === 0 ? 1 : this.#window * 2;
    const kept: T[] = [];
    const last = new Map<string, number>();
    for (const p of this.#points) {
      const key = this.#key(p);
      const window = Math.floor(p.t_s / this.#window);
      if (last.get(key) === window) continue;
      last.set(key, window);
      kept.push(p);
    }
    this.#points = kept;
    this.#lastWindow = last;
  }
}
