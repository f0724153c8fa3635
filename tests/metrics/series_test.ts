/** Time series in bounded memory: full resolution while short, coarser as they go on. */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { RateSeries, SampledSeries } from "../../src/metrics/series.ts";

Deno.test("RateSeries widens its buckets past its bound and never drops a row", () => {
  const rows = new RateSeries(8);
  for (let s = 0; s < 8; s++) rows.add(s + 0.5, 10 + s);
  assertEquals(rows.bucketSeconds, 1);
  assertEquals(rows.buckets, [10, 11, 12, 13, 14, 15, 16, 17]);
  rows.add(8.2, 100); // second 8 does not fit in 8 one-second buckets
  assertEquals(rows.bucketSeconds, 2);
  assertEquals(rows.buckets, [21, 25, 29, 33, 100]);
  for (let s = 9; s < 1000; s++) rows.add(s, 1);
  assert(rows.buckets.length <= 8);
  assertEquals(rows.bucketSeconds, 128);
  assertEquals(rows.buckets.reduce((a, b) => a + b, 0), 108 + 100 + 991);
});

Deno.test("SampledSeries keeps one point per key and window, and thins itself past its bound", () => {
  const rss = new SampledSeries<{ t_s: number; id: string }>((p) => p.id, { maxPoints: 6 });
  for (const t of [0.1, 0.9, 1.2, 2.5]) for (const id of ["a", "b"]) rss.add({ t_s: t, id });
  assertEquals(rss.points.map((p) => `${p.t_s}${p.id}`), [
    "0.1a",
    "0.1b",
    "1.2a",
    "1.2b",
    "2.5a",
    "2.5b",
  ]);
  rss.add({ t_s: 3.1, id: "a" }); // a seventh point: windows of 2 s
  assertEquals(rss.windowSeconds, 2);
  assertEquals(rss.points.map((p) => `${p.t_s}${p.id}`), ["0.1a", "0.1b", "2.5a", "2.5b"]);
  const files = new SampledSeries<{ t_s: number }>(() => "", {
    maxPoints: 4,
    initialWindowSeconds: 0,
  });
  for (const t of [0, 0.2, 0.4, 0.6]) files.add({ t_s: t });
  assertEquals(files.points.length, 4, "every point, while they fit");
  files.add({ t_s: 1.5 });
  assertEquals(files.points.map((p) => p.t_s), [0, 1.5]);
});
