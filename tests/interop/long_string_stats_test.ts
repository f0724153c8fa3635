/**
 * Statistics of long strings are truncated as the Parquet spec and the Delta
 * protocol allow, so one huge value is not stored again in the footer and the
 * log: footer bounds are cut to 64 bytes and flagged inexact, `add` stats to
 * 32 code points; data skipping stays correct on truncated bounds, and
 * delta-rs reads the files row for row.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { parseStats } from "../../src/delta/stats.ts";
import { bindPredicate, mayMatch, parsePredicate } from "../../src/ops/predicate.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { latestSnapshotOf, openTable } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { encodeParquet, FOOTER_STATS_BYTES } from "../../src/parquet/encode.ts";
import { bytesSource, openParquet } from "../../src/parquet/decode.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: true },
  { name: "s", type: "string", nullable: true },
];

/** A string of `n` pseudo-random letters a-h after `head`. */
function letters(head: string, n: number): string {
  let x = 12345;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = "abcdefgh"[x >>> 29]!;
  }
  return head + out.join("");
}

Deno.test("footer string bounds are truncated to a prefix and an incremented prefix, flagged inexact", async () => {
  const big = letters("m", 1 << 20);
  const low = "a" + "x".repeat(200);
  const file = encodeParquet(batchOf(FIELDS, [{ id: 1n, s: big }, { id: 2n, s: low }]));
  // The encoder's own statistics stay exact, for the Delta log to cut itself.
  assertEquals(file.columns[1]!.min, low);
  assertEquals(file.columns[1]!.max, big);
  const opened = await openParquet(bytesSource(file.bytes, "big.parquet"));
  assert(opened.footer.length < 1024, `footer of ${opened.footer.length} bytes`);
  const stats = opened.rowGroups[0]!.stats.s!;
  assertEquals(stats.minExact, false);
  assertEquals(stats.maxExact, false);
  assertEquals(stats.min, low.slice(0, FOOTER_STATS_BYTES));
  const next = String.fromCharCode(big.charCodeAt(FOOTER_STATS_BYTES - 1) + 1);
  assertEquals(stats.max, big.slice(0, FOOTER_STATS_BYTES - 1) + next);
  assert((stats.max as string) > big, "the truncated max is above the true max");
  // Short strings keep exact bounds.
  const short = await openParquet(
    bytesSource(encodeParquet(batchOf(FIELDS, [{ id: 1n, s: "b" }, { id: 2n, s: "a" }])).bytes),
  );
  assertEquals(short.rowGroups[0]!.stats.s, {
    nullCount: 0,
    min: "a",
    max: "b",
    minExact: true,
    maxExact: true,
  });
});

Deno.test("a table with a 1 MiB string keeps small files and log, skips correctly, and delta-rs reads it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-long-stats-" });
  try {
    const table = await openTable(dir);
    const big = letters("q", 1 << 20);
    const rows = [
      { id: 1n, s: big },
      { id: 2n, s: "a" + "y".repeat(100) },
      { id: 3n, s: "k" },
    ];
    await writeTable(table, sourceOf(batchOf(FIELDS, rows)));
    const snapshot = await latestSnapshotOf(table);
    const [add] = [...snapshot.files.values()];
    assert(add!.stats!.length < 600, `stats of ${add!.stats!.length} characters`);
    const stats = JSON.parse(add!.stats!);
    assertEquals(stats.minValues.s, "a" + "y".repeat(31));
    assertEquals(stats.maxValues.s, big.slice(0, 32) + "\u{10FFFF}");
    // The data file holds the string once (letters a-h compress), not three times.
    assert(add!.size < big.length, `data file of ${add!.size} bytes`);

    // Skipping: the exact value, a value past the truncated prefix, and one above.
    for (
      const [where, ids] of [
        [`s = '${big}'`, [1]],
        [`s >= '${big.slice(0, 40)}'`, [1]],
        [`s > '${big.slice(0, 32)}\u{10FFFF}'`, []],
        [`s < 'b'`, [2]],
      ] as const
    ) {
      const scan = await scanTable(table, { where, columns: ["id"] });
      const got: number[] = [];
      for await (const b of scan.batches) got.push(...[...b.columns[0]!.values].map(Number));
      assertEquals(got, [...ids], where.slice(0, 60));
    }

    const theirs = await readWithDeltaRs(dir);
    const ours = await readWithNeuralake(table);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    assertEquals(theirs.rows.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a string maximum truncated with another writer's tie-breaker does not skip a matching file", () => {
  const prefix = "p".repeat(32);
  // Spark-style: the 32-code-point prefix and a tie-breaker below supplementary characters.
  const parsed = parseStats(
    JSON.stringify({
      numRecords: 1,
      minValues: { s: prefix },
      maxValues: { s: prefix + "\uFFFD" },
      nullCount: { s: 0 },
    }),
    FIELDS,
  )!;
  const file = { numRecords: 1, column: (name: string) => parsed.columns.get(name) };
  const value = prefix + "\u{1F600} and more";
  for (const where of [`s = '${value}'`, `s >= '${value}'`, `s in ('${value}')`]) {
    const p = bindPredicate(parsePredicate(where), FIELDS);
    assertEquals(mayMatch(p, file), true, where);
  }
  // A value past the prefix itself is still skipped.
  const above = bindPredicate(parsePredicate(`s >= 'q'`), FIELDS);
  assertEquals(mayMatch(above, file), false);
});
