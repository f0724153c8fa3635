/**
 * Spark reads the row ids (`_metadata.row_id`) that neuralake assigned when
 * it appended to a Spark row-tracking table: Spark's rows keep theirs, ours
 * follow the table's high water mark, and every id is unique. After
 * neuralake compacts Spark's table of several files (materialized ids,
 * deletion vectors), Spark reads every row's id and commit version as it
 * read them before, and a stream writer's rows after the mark. Rows it
 * compacts while row tracking is suspended keep their ids when Spark lifts
 * the suspension.
 */

import { ROW_TRACKING_DOMAIN, rowIdHighWaterMark } from "../../src/delta/row_tracking.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows } from "../_helpers/delta_rs.ts";
import { expectedRows, fixture } from "../_helpers/fixtures.ts";
import { spark } from "../_helpers/spark.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { appendBatch, appendTarget, rowIdMarkOf } from "../../src/ops/append.ts";
import { tableFields } from "../../src/delta/schema.ts";
import { writeCommit } from "../_helpers/log.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: true },
  { name: "name", type: "string", nullable: true },
];

Deno.test("Spark reads the row ids neuralake assigned", async () => {
  const dir = await copyFixture("spark_feature_row_tracking");
  const table = await openTable(dir);
  const mark = rowIdHighWaterMark((await snapshotOf(table)).domains.get(ROW_TRACKING_DOMAIN));
  await writeTable(
    table,
    sourceOf(batchOf(FIELDS, [{ id: 10n, name: "x" }, { id: 11n, name: "y" }])),
  );
  const answer = await spark({
    sql: [`SELECT id, _metadata.row_id AS row_id FROM delta.\`${dir}\` ORDER BY id`],
  });
  const result = answer.sql[0]!;
  assert(result.ok, JSON.stringify(result));
  const ids = result.rows.map((r) => [Number(r.id), Number(r.row_id)]);
  // Spark's own rows keep their ids; ours follow the mark, in file order.
  const spark_ = ids.filter(([id]) => id! < 10);
  assertEquals(spark_.length, fixture("spark_feature_row_tracking").rows);
  assertEquals(ids.filter(([id]) => id! >= 10), [[10, mark + 1], [11, mark + 2]]);
  assertEquals(new Set(ids.map(([, r]) => r)).size, ids.length, "row ids are unique");
  assertEquals(
    canonicalRows(expectedRows("spark_feature_row_tracking")).length,
    spark_.length,
  );
});

Deno.test("Spark reads the same row ids and commit versions after neuralake compacts, then a stream append's", async () => {
  const name = "spark_row_tracking_compact";
  const dir = await copyFixture(name);
  const table = await openTable(dir);
  const outcomes = await compactOnce(table, await snapshotOf(table), {
    targetFileSize: 1 << 30,
    minFiles: 2,
    maxDeletedRowsRatio: 1,
    // Every row group large enough: plain files are copied with the two
    // columns encoded beside them, the others decoded.
    minRowGroupRows: 1,
  });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const compacted = await snapshotOf(table);
  assertEquals(compacted.files.size, 1);
  // Then a stream writer's append: its rows follow the mark, at its version.
  const appended = await appendBatch(
    appendTarget(table.store, tableFields(compacted.schema, compacted.metadata.configuration), []),
    batchOf(tableFields(compacted.schema, compacted.metadata.configuration), [
      { id: 900n, name: "s", value: 1 },
      { id: 901n, name: "s", value: 2 },
    ]),
    {
      readVersion: compacted.version,
      rowIds: rowIdMarkOf(compacted)!,
      description: { operation: "STREAMING UPDATE" },
    },
  );
  assert(appended.outcome.kind === "committed", appended.outcome.kind);
  const mark = rowIdHighWaterMark(compacted.domains.get(ROW_TRACKING_DOMAIN));
  const answer = await spark({
    sql: [
      `SELECT id, _metadata.row_id AS row_id, _metadata.row_commit_version AS row_commit_version FROM delta.\`${dir}\` ORDER BY id`,
    ],
  });
  const result = answer.sql[0]!;
  assert(result.ok, JSON.stringify(result));
  // Spark's own read of the table before compaction, made with the fixture.
  const before = (await Deno.readTextFile(
    new URL(`../fixtures/expected/${name}.row_ids.ndjson`, import.meta.url),
  )).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const rows = (list: Record<string, unknown>[]) =>
    list.map((r) => [Number(r.id), Number(r.row_id), Number(r.row_commit_version)])
      .sort((a, b) => a[0]! - b[0]!);
  const v = appended.outcome.version;
  assertEquals(rows(result.rows), [
    ...rows(before),
    [900, mark + 1, v],
    [901, mark + 2, v],
  ]);
});

Deno.test("rows neuralake compacted while row tracking was suspended keep their ids when Spark lifts the suspension", async () => {
  const name = "spark_row_tracking_compact";
  const dir = await copyFixture(name);
  const table = await openTable(dir);
  // Suspend as Spark's ALTER TABLE does (the first step of dropping the feature).
  const state = await snapshotOf(table);
  const configuration = {
    ...state.metadata.configuration,
    "delta.enableRowTracking": "false",
    "delta.rowTrackingSuspended": "true",
  };
  await writeCommit(table.store, state.version + 1, [
    { commitInfo: { timestamp: Date.now(), operation: "SET TBLPROPERTIES" } },
    { metaData: { ...state.metadata, configuration } },
  ]);
  const outcomes = await compactOnce(table, await snapshotOf(table), {
    targetFileSize: 1 << 30,
    minFiles: 2,
    maxDeletedRowsRatio: 1,
    minRowGroupRows: 1,
  });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const compacted = await snapshotOf(table);
  assertEquals(compacted.files.size, 1);
  assertEquals([...compacted.files.values()][0]!.baseRowId ?? null, null, "no fresh ids");
  // The suspension is lifted (delta-spark 4.0 does not know the property, so
  // the commit is ours, as a newer Delta's ALTER TABLE writes it), then Spark
  // enables row tracking again, which backfills fresh ids into our file; each
  // row's stable id is still the one it had.
  const lifted = await snapshotOf(table);
  const { "delta.rowTrackingSuspended": _, ...unsuspended } = lifted.metadata.configuration;
  await writeCommit(table.store, lifted.version + 1, [
    { commitInfo: { timestamp: Date.now(), operation: "SET TBLPROPERTIES" } },
    { metaData: { ...lifted.metadata, configuration: unsuspended } },
  ]);
  const t = `delta.\`${dir}\``;
  const answer = await spark({
    sql: [
      `ALTER TABLE ${t} SET TBLPROPERTIES ('delta.enableRowTracking' = 'true')`,
      `SELECT id, _metadata.row_id AS row_id, _metadata.row_commit_version AS row_commit_version FROM ${t} ORDER BY id`,
    ],
  });
  for (const result of answer.sql) assert(result.ok, JSON.stringify(result));
  const result = answer.sql[1]!;
  assert(result.ok);
  const before = (await Deno.readTextFile(
    new URL(`../fixtures/expected/${name}.row_ids.ndjson`, import.meta.url),
  )).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const rows = (list: Record<string, unknown>[]) =>
    list.map((r) => [Number(r.id), Number(r.row_id), Number(r.row_commit_version)])
      .sort((a, b) => a[0]! - b[0]!);
  assertEquals(rows(result.rows), rows(before));
});
