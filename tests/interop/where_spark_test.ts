/**
 * `scan --where` returns the rows Spark returns for the same predicate on
 * the same fixture table, over partition values, file statistics (JSON and
 * stats_parsed) and row filters, all asked of Spark in one session.
 *
 * - Floats: Spark (and delta-rs) write a float's statistics in its shortest
 *   decimal form, "0.1" for the float nearest 0.1, which read as a double
 *   lies below the float for 0.1 and 1.1 and above it for -0.7; such a bound
 *   excluded the row it bounds, and `f > 0.1` skipped the file that holds
 *   it (spark_float_stats has one row per file, so a wrong skip loses a row).
 * - NaN: Spark orders NaN above every number and equal to itself (as
 *   DataFusion, PostgreSQL and DuckDB do), so `f > 2` keeps a NaN row; as
 *   IEEE compares, it was never greater, and as the equal of every number it
 *   joined every `IN` list (spark_float_nan: NaN alone in a file, beside
 *   numbers and nulls, and as a double partition value).
 * - Partition values with escapes, nulls and every primitive type,
 *   timestamps with and without time zone at the edges of the statistics'
 *   millisecond truncation, checkpoints with stats_parsed only, a table
 *   without statistics and one with deletion vectors.
 */

import { openTable } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { fixturePath } from "../_helpers/fixtures.ts";
import { spark, type SparkSql } from "../_helpers/spark.ts";

const FLOAT_STATS = [
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

const FLOAT_NAN = [
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

const OTHERS: [string, string[]][] = [
  ["spark_partition_special", [
    "part = 'a b'",
    "part = '%20'",
    "part > 'b'",
    "part is null",
    "part = '__HIVE_DEFAULT_PARTITION__x'",
    "part in ('a=b', 'c:d')",
    "part != 'a b'",
    "part < 'a'",
    "part >= 'ünï'",
  ]],
  ["spark_stats_struct_partitioned", [
    "p_ts = '2024-01-01 10:00:00.123456'",
    "p_ts > '2024-01-01 10:00:00.123'",
    "p_date >= '2024-01-01'",
    "p_int > 0",
    "p_str = ''",
    "p_str is null",
    "v > 1",
    "p_ts < '1970-01-01'",
    "id >= 5",
  ]],
  ["spark_timestamp_ntz", [
    "ntz > '2024-03-10 02:30:00.123455'",
    "ntz = '2024-03-10 02:30:00.123456'",
    "utc >= '9999-12-31 23:59:59.999'",
    "ntz < '1901-01-01'",
    "utc > '1969-12-31 23:59:59.9999'",
    "utc <= '1969-12-31 23:59:59.999999'",
  ]],
  ["spark_partition_primitives", [
    "p_float = -1.5",
    "p_double > 1e299",
    "p_long = 9223372036854775807",
    "p_decimal = 0.001",
    "p_bool = true",
    "v_long > 9007199254740992",
    "p_ts_ntz = '2024-01-02 03:04:05.123456'",
    "p_byte < 0",
    "v_double > 0",
    "v_decimal38 < 0",
  ]],
  ["spark_no_stats", ["n > 10", "letter is null", "day = '2021-02-03'"]],
  ["spark_dv_files", ["id > 3"]],
];

const CASES: [string, string[]][] = [
  ["spark_float_stats", FLOAT_STATS],
  ["spark_float_nan", FLOAT_NAN],
  ...OTHERS,
];

/** Spark's answers to every case, in one session, asked once. */
let answers: Promise<Map<string, SparkSql>> | undefined;
function sparkAnswers(): Promise<Map<string, SparkSql>> {
  return answers ??= (async () => {
    const asked = CASES.flatMap(([name, predicates]) => predicates.map((p) => [name, p] as const));
    const answer = await spark({
      sql: asked.map(([name, p]) => `SELECT * FROM delta.\`${fixturePath(name)}\` WHERE ${p}`),
    });
    return new Map(asked.map(([name, p], i) => [`${name}: ${p}`, answer.sql[i]!]));
  })();
}

async function compareWithSpark(name: string, predicates: string[]): Promise<void> {
  const theirs = await sparkAnswers();
  const table = await openTable(fixturePath(name));
  for (const predicate of predicates) {
    const answer = theirs.get(`${name}: ${predicate}`)!;
    if (!answer.ok) throw new Error(`Spark: ${name}: ${predicate}: ${answer.message}`);
    const ours = await readWithNeuralake(table, undefined, undefined, predicate);
    assertEquals(
      canonicalRows(ours.rows),
      canonicalRows(answer.rows),
      `${name}: ${predicate}`,
    );
  }
}

Deno.test("scan --where on float columns keeps the rows Spark's float statistics bound", async () => {
  await compareWithSpark("spark_float_stats", FLOAT_STATS);
});

Deno.test("scan --where orders NaN above every number and equal to itself, as Spark does", async () => {
  await compareWithSpark("spark_float_nan", FLOAT_NAN);
});

Deno.test("scan --where returns Spark's rows over partitions, statistics and deletion vectors", async () => {
  for (const [name, predicates] of OTHERS) await compareWithSpark(name, predicates);
});
