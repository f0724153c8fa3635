/** Exact nearest-rank percentiles and latency summaries. */

import assert from "node:assert/strict";
import { percentile, percentileOfSorted, round, summarize } from "../../src/metrics/percentiles.ts";

Deno.test("percentile() uses the nearest rank on a hand-worked sample", () => {
  const sample = [35, 20, 50, 15, 40];
  // sorted: 15 20 35 40 50; rank = ceil(p / 100 * 5)
  assert.equal(percentile(sample, 0), 15);
  assert.equal(percentile(sample, 5), 15);
  assert.equal(percentile(sample, 20), 15);
  assert.equal(percentile(sample, 21), 20);
  assert.equal(percentile(sample, 30), 20);
  assert.equal(percentile(sample, 40), 20);
  assert.equal(percentile(sample, 50), 35);
  assert.equal(percentile(sample, 100), 50);
});

Deno.test("percentile() of an even-sized sample returns a sample, not an average", () => {
  const sample = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
  assert.equal(percentile(sample, 25), 7);
  assert.equal(percentile(sample, 50), 8);
  assert.equal(percentile(sample, 75), 15);
  assert.equal(percentile(sample, 90), 16);
  assert.equal(percentile(sample, 100), 20);
});

Deno.test("percentile() is exact at rank boundaries despite floating point", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 29), 29);
  assert.equal(percentile(hundred, 57), 57);
  assert.equal(percentile(hundred, 99.5), 100);
  const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(thousand, 99.9), 999);
});

Deno.test("percentileOfSorted() rejects p outside 0 to 100 and gives 0 for no values", () => {
  assert.throws(() => percentileOfSorted([1], 101), RangeError);
  assert.throws(() => percentileOfSorted([1], -1), RangeError);
  assert.throws(() => percentileOfSorted([1], NaN), RangeError);
  assert.equal(percentileOfSorted([], 50), 0);
});

Deno.test("summarize() gives count, mean, p50, p90, p99 and max, ignoring non-finite values", () => {
  assert.deepEqual(summarize([100, 1, 4, 2, 3, NaN, Infinity]), {
    count: 5,
    mean: 22,
    p50: 3,
    p90: 100,
    p99: 100,
    max: 100,
  });
  const ramp = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 down to 1
  assert.deepEqual(summarize(ramp), {
    count: 200,
    mean: 100.5,
    p50: 100,
    p90: 180,
    p99: 198,
    max: 200,
  });
});

Deno.test("summarize() of nothing is all zeros, never NaN", () => {
  assert.deepEqual(summarize([]), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  assert.deepEqual(summarize([NaN]), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

Deno.test("summarize() rounds to three decimals by default", () => {
  assert.deepEqual(summarize([1 / 3, 2 / 3]), {
    count: 2,
    mean: 0.5,
    p50: 0.333,
    p90: 0.667,
    p99: 0.667,
    max: 0.667,
  });
  assert.equal(round(Number.NaN), 0);
  assert.equal(round(2.345678, 2), 2.35);
});
