/**
 * The bench harness's summary: a metric held against a fixed target (the
 * stream job's commit latency, which the machine ceiling has no measure of)
 * reports the target as its peer figure and the ratio against it.
 */

import { measurePairs } from "../../bench/harness.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("measurePairs() holds a metric with a target against that target, not the peer's samples", async () => {
  const ours = [40, 100, 25];
  const lines: string[] = [];
  const results = await measurePairs(
    "limit",
    "stream job vs ceiling",
    [
      { key: "rows", label: "rows/s", better: "higher" },
      {
        key: "p99",
        label: "commit latency p99 (ms)",
        better: "lower",
        target: { value: 50, label: "target, p99 ≤ 50 ms" },
      },
    ],
    { repetitions: 3, warmup: 0, sameRowsAcrossSides: false, peer: "ceiling" },
    (rep) =>
      Promise.resolve({ sample: { rows: 10, p99: ours[rep]! }, tableRows: 1, expectedRows: 1 }),
    () => Promise.resolve({ sample: { rows: 20 }, tableRows: 0, expectedRows: 0 }),
    (line) => lines.push(line),
  );
  const [rows, p99] = results;
  assertEquals([rows!.peer, rows!.ratio, rows!.delta_rs], ["ceiling", 0.5, 20]);
  assertEquals(p99!.peer, "target, p99 ≤ 50 ms");
  assertEquals(p99!.delta_rs, 50);
  assertEquals(p99!.pair_ratios, [1.25, 0.5, 2]);
  assertEquals(p99!.ratio, 1.25);
  assertEquals(p99!.neuralake, 40);
  // The peer's progress lines name only the figures it measured.
  assertEquals(lines.filter((l) => l.includes("ceiling:") && l.includes("commit")), []);
});
