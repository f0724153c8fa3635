/** Exact nearest-rank percentiles and latency summaries. */

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { percentile, percentileOfSorted, round, summarize } from "../../src/metrics/percentiles.ts";

Deno.test("percentile() uses the nearest rank on a hand-worked sample", () => {
  const sample = [35, 20, 50, 15, 40];
  // sorted: 15 20 35 40 50; rank = ceil(p / 100 * 5)
  assertEquals(percentile(sample, 0), 15);
  assertEquals(percentile(sample, 5), 15);
  assertEquals(percentile(sample, 20), 15);
  assertEquals(percentile(sample, 21), 20);
  assertEquals(percentile(sample, 30), 20);
  assertEquals(percentile(sample, 40), 20);
  assertEquals(percentile(sample, 50), 35);
  assertEquals(percentile(sample, 100), 50);
});

Deno.test("percentile() of an even-sized sample returns a sample, not an average", () => {
  const sample = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
  assertEquals(percentile(sample, 25), 7);
  assertEquals(percentile(sample, 50), 8);
  assertEquals(percentile(sample, 75), 15);
  assertEquals(percentile(sample, 90), 16);
  assertEquals(percentile(sample, 100), 20);
});

Deno.test("percentile() is exact at rank boundaries despite floating point", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assertEquals(percentile(hundred, 99), 99);
  assertEquals(percentile(hundred, 29), 29);
  assertEquals(percentile(hundred, 57), 57);
  assertEquals(percentile(hundred, 99.5), 100);
  const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
  assertEquals(percentile(thousand, 99.9), 999);
});

Deno.test("percentileOfSorted() rejects p outside 0 to 100 and gives 0 for no values", () => {
  assert(assertThrows(() => percentileOfSorted([1], 101)) instanceof RangeError);
  assert(assertThrows(() => percentileOfSorted([1], -1)) instanceof RangeError);
  assert(assertThrows(() => percentileOfSorted([1], NaN)) instanceof RangeError);
  assertEquals(percentileOfSorted([], 50), 0);
});

Deno.test("summarize() gives count, mean, p50, p90, p99 and max, ignoring non-finite values", () => {
  assertEquals(summarize([100, 1, 4, 2, 3, NaN, Infinity]), {
    count: 5,
    mean: 22,
    p50: 3,
    p90: 100,
    p99: 100,
    max: 100,
  });
  const ramp = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 down to 1
  assertEquals(summarize(ramp), {
    count: 200,
    mean: 100.5,
    p50: 100,
    p90: 180,
    p99: 198,
    max: 200,
  });
});

Deno.test("summarize() of nothing is all zeros, never NaN", () => {
  assertEquals(summarize([]), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  assertEquals(summarize([NaN]), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

Deno.test("summarize() rounds to three decimals by default", () => {
  assertEquals(summarize([1 / 3, 2 / 3]), {
    count: 2,
    mean: 0.5,
    p50: 0.333,
    p90: 0.667,
    p99: 0.667,
    max: 0.667,
  });
  assertEquals(round(Number.NaN), 0);
  assertEquals(round(2.345678, 2), 2.35);
});
