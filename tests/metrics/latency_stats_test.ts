/** Latency series in bounded memory: exact while small, a sketch past that. */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { LatencyStats } from "../../src/metrics/latency_stats.ts";
import { percentile, summarize } from "../../src/metrics/percentiles.ts";
import { histogram } from "../../src/metrics/histogram.ts";

/** A skewed sample like commit latencies: mostly 5-30 ms, a tail to seconds. */
function latencies(n: number, seed = 7): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const u = x / 2 ** 32;
    out.push(u < 0.98 ? 5 + u * 25 : 30 + (u - 0.98) * 150_000);
  }
  return out;
}

Deno.test("LatencyStats summarizes a small sample exactly, as summarize() does", () => {
  const values = [12, 0.5, 40, 7, 7, NaN, 3000, 18];
  const stats = new LatencyStats();
  for (const v of values) stats.add(v);
  assert(stats.exact);
  assertEquals(stats.summary(), summarize(values));
  assertEquals(stats.percentile(99), percentile(values, 99));
  assertEquals(stats.histogram(), histogram(values));
  assertEquals(new LatencyStats().summary(), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

Deno.test("LatencyStats keeps the same memory from 20,000 to 400,000 samples, within 1 % of the exact percentiles", () => {
  const values = latencies(400_000);
  const stats = new LatencyStats({ exactLimit: 10_000 });
  let retainedAt20k = 0;
  for (let i = 0; i < values.length; i++) {
    stats.add(values[i]!);
    if (i + 1 === 20_000) retainedAt20k = stats.retained;
  }
  assert(!stats.exact);
  assertEquals(stats.values, undefined);
  assertEquals(stats.count, 400_000);
  // Bounded by the range of the values, not by their number.
  assert(retainedAt20k > 0 && retainedAt20k < 5_000, `retained ${retainedAt20k}`);
  assertEquals(stats.retained, retainedAt20k);
  const exact = summarize(values);
  const got = stats.summary();
  // The results say the percentiles are the sketch's, not every sample's.
  assertEquals(got.approximate, true);
  assertEquals(exact.approximate, undefined);
  assertEquals(got.count, exact.count);
  assertEquals(got.max, exact.max);
  assert(Math.abs(got.mean - exact.mean) < 1e-6 * exact.mean, `mean ${got.mean} vs ${exact.mean}`);
  for (const p of ["p50", "p90", "p99"] as const) {
    assert(
      Math.abs(got[p] - exact[p]) <= 0.01 * exact[p],
      `${p}: ${got[p]} against exactly ${exact[p]}`,
    );
  }
  assertEquals(stats.percentile(100), values.reduce((a, b) => Math.max(a, b)));
  const h = stats.histogram();
  assertEquals(h.bins.reduce((n, b) => n + b.count, 0), 400_000);
  assertEquals(h.bins[0]!.lo, Math.round(values.reduce((a, b) => Math.min(a, b)) * 1e6) / 1e6);
  assertEquals(h.scale, "log");
});
