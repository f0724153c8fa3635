/**
 * `--where` on float and double columns holding NaN answers as Spark does
 * (and DataFusion, PostgreSQL and DuckDB): NaN equals NaN and sorts above
 * every other number, so `f > 2` keeps a NaN row and `f < 2` does not.
 * NaN compared as IEEE (never greater) lost such rows, and as the equal of
 * every number it joined any `IN` list and any comparison of two columns.
 * The fixture is Spark's, with NaN alone in a file, beside numbers and
 * nulls in another (Spark writes "NaN" as that file's maximum), and as a
 * partition value.
 */

import { openTable } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { spark } from "../_helpers/spark.ts";

const PREDICATES = [
  "f > 2",
  "f >= 1.5",
  "f < 2",
  "f <= -2",
  "f = 1.5",
  "f != 1.5",
  "not f > 2",
  "f in (1.5, 3)",
  "f not in (1.5, 3)",
  "d > 2",
  "d < 2",
  "d > p",
  "d = p",
  "d < p",
  "p >= d",
  "p > 1",
  "p = 0.5",
  "p < 1",
  "p != 0.5",
];

Deno.test("scan --where orders NaN above every number and equal to itself, as Spark does", async () => {
  const dir = await copyFixture("spark_float_nan");
  try {
    const answer = await spark({
      sql: PREDICATES.map((p) => `SELECT id, f, d, p FROM delta.\`${dir}\` WHERE ${p}`),
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
