/**
 * Data skipping on float columns whose statistics other engines wrote. Spark
 * (and delta-rs) write a float's bounds in its shortest decimal form, "0.1"
 * for the float nearest 0.1, and that text read as a double is not the float:
 * it lies below it for 0.1 and 1.1 and above it for -0.7. A bound read so
 * excluded the very row it bounds, and `--where "f > 0.1"` skipped a file
 * whose row Spark returns. The fixture holds one row per file, so every
 * wrong skip loses a row.
 */

import { openTable } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { spark } from "../_helpers/spark.ts";

/** Comparisons at, just above and just below the stored floats, and on the double column. */
const PREDICATES = [
  "f > 0.1",
  "f >= 0.1",
  "f = 0.1",
  "f < 0.1",
  "f > -0.7",
  "f <= -0.7",
  "f > 1.1",
  "f >= 0.3",
  "f < 0.30000001",
  "f > 1.4E-45",
  "f < 3.4028235E38",
  "f >= 3.4028235E38",
  "d > 0.1",
  "d >= 0.1",
  "d < -0.7",
];

Deno.test("scan --where on float and double columns returns Spark's rows for Spark's statistics", async () => {
  const dir = await copyFixture("spark_float_stats");
  try {
    const answer = await spark({
      sql: PREDICATES.map((p) => `SELECT id, f, d FROM delta.\`${dir}\` WHERE ${p}`),
    });
    const table = await openTable(dir);
    for (const [i, predicate] of PREDICATES.entries()) {
      const theirs = answer.sql[i]!;
      if (!theirs.ok) throw new Error(`Spark: ${predicate}: ${theirs.message}`);
      const ours = await readWithNeuralake(table, undefined, undefined, predicate);
      assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows), predicate);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
