/** Latency histograms for the report. */

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { histogram } from "../../src/metrics/histogram.ts";

Deno.test("histogram() bins a narrow sample linearly and counts every value once", () => {
  const h = histogram([1, 2, 2, 3, 4, 5], 4);
  assertEquals(h.scale, "linear");
  assertEquals(h.bins, [
    { lo: 1, hi: 2, count: 1 },
    { lo: 2, hi: 3, count: 2 },
    { lo: 3, hi: 4, count: 1 },
    { lo: 4, hi: 5, count: 2 },
  ]);
});

Deno.test("histogram() bins a wide sample logarithmically", () => {
  const h = histogram([1, 10, 100, 1000], 3);
  assertEquals(h.scale, "log");
  assertEquals(h.bins.map((b) => b.count), [1, 1, 2]);
  assertEquals(h.bins[0]!.lo, 1);
  assertEquals(h.bins[1]!.lo, 10);
  assertEquals(h.bins[2]!.lo, 100);
  assertEquals(h.bins[2]!.hi, 1000);
});

Deno.test("histogram() bins are contiguous and their counts add up", () => {
  const values = Array.from({ length: 1000 }, (_, i) => 5 + (i * 7919) % 997 / 3);
  const h = histogram(values, 40);
  assertEquals(h.bins.length, 40);
  assertEquals(h.bins.reduce((n, b) => n + b.count, 0), 1000);
  for (let i = 1; i < h.bins.length; i++) assertEquals(h.bins[i]!.lo, h.bins[i - 1]!.hi);
});

Deno.test("histogram() of nothing has no bins, and of one value one bin", () => {
  assertEquals(histogram([]), { scale: "linear", bins: [] });
  assertEquals(histogram([NaN]), { scale: "linear", bins: [] });
  assertEquals(histogram([7, 7, 7]).bins, [{ lo: 7, hi: 7, count: 3 }]);
  assert(assertThrows(() => histogram([1], 0)) instanceof RangeError);
});
