/**
 * Compaction of Spark's row-tracking table with several files (its own
 * OPTIMIZE output and UPDATE output holding materialized row ids, plain
 * inserts, deletion vectors): every kept row's id and commit version in the
 * merged file equal what Spark read before (the fixture's
 * `row_ids.ndjson`), row by row, keyed by `id`. No Spark is run here
 * (tests/interop/spark_row_tracking_test.ts has Spark read them back).
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Add } from "../../src/delta/actions.ts";
import { writeTable } from "../../src/ops/write.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { decodeFilePath } from "../../src/delta/partition.ts";
import { activeFiles } from "../../src/delta/replay.ts";
import { ROW_TRACKING_DOMAIN, rowIdHighWaterMark } from "../../src/delta/row_tracking.ts";
import { compactOnce, rowTrackingFields } from "../../src/ops/compaction.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { readColumns } from "../../src/parquet/decode.ts";
import { openParquet } from "../../src/parquet/metadata.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { expectedRows } from "../_helpers/fixtures.ts";

const NAME = "spark_row_tracking_compact";

/** Spark's `[row_id, row_commit_version]` of every row before compaction, keyed by `id`. */
async function sparkRowIds(): Promise<Map<number, [number, number]>> {
  const text = await Deno.readTextFile(
    new URL(`../fixtures/expected/${NAME}.row_ids.ndjson`, import.meta.url),
  );
  const out = new Map<number, [number, number]>();
  for (const line of text.split("\n").filter((l) => l.trim())) {
    const row = JSON.parse(line);
    out.set(row.id, [row.row_id, row.row_commit_version]);
  }
  return out;
}

/** `[row id, row commit version]` of every row of a data file, from its materialized columns, keyed by `id`. */
async function idsIn(
  dir: string,
  add: Add,
  configuration: Record<string, string>,
): Promise<Map<number, [number, number]>> {
  const fields: Field[] = [
    { name: "id", type: "long", nullable: true },
    ...rowTrackingFields(configuration, []),
  ];
  const bytes = await Deno.readFile(`${dir}/${decodeFilePath(add.path)}`);
  const batch = await readColumns(await openParquet(bytesSource(bytes, add.path)), { fields });
  const ours = new Map<number, [number, number]>();
  for (let i = 0; i < batch.length; i++) {
    assert(!batch.columns[1]!.nulls?.[i], `row ${i} has no materialized row id`);
    assert(!batch.columns[2]!.nulls?.[i], `row ${i} has no materialized commit version`);
    ours.set(Number(batch.columns[0]!.values[i]), [
      Number(batch.columns[1]!.values[i]),
      Number(batch.columns[2]!.values[i]),
    ]);
  }
  return ours;
}

const sorted = (m: Map<number, [number, number]>) => [...m.entries()].sort((a, b) => a[0] - b[0]);

// Spark's small files are decoded (below minRowGroupRows), or, with every
// row group large enough, copied where they lack both columns and have no
// deletion vector, with only the two columns encoded beside them.
for (const [how, minRowGroupRows, copied] of [["decoded", 16_384, 0], ["copied", 1, 4]] as const) {
  Deno.test(`compacting Spark's row-tracking table keeps every row's id and commit version (row groups ${how})`, async () => {
    const dir = await copyFixture(NAME);
    const table = await openTable(dir);
    const before = await snapshotOf(table);
    const filesBefore = [...activeFiles(before)];
    assert(filesBefore.some((f) => f.deletionVector), "the fixture has a deletion vector");
    const mark = rowIdHighWaterMark(before.domains.get(ROW_TRACKING_DOMAIN));
    const outcomes = await compactOnce(table, before, {
      targetFileSize: 1 << 30,
      minFiles: 2,
      maxDeletedRowsRatio: 1,
      minRowGroupRows,
    });
    assertEquals(outcomes.map((o) => [o.kind, o.filesIn]), [["committed", filesBefore.length]]);
    assertEquals(outcomes[0]!.copiedRowGroups, copied);

    const after = await snapshotOf(table);
    const files = [...activeFiles(after)];
    assertEquals(files.length, 1);
    const add = files[0]!;
    const ours = await idsIn(dir, add, after.metadata.configuration);
    assertEquals(sorted(ours), sorted(await sparkRowIds()));

    // The merged file has fresh ids after the mark and the commit's version,
    // and the mark rises by its rows, as Spark's OPTIMIZE leaves them.
    assertEquals([add.baseRowId, add.defaultRowCommitVersion], [mark + 1, outcomes[0]!.version]);
    assertEquals(
      rowIdHighWaterMark(after.domains.get(ROW_TRACKING_DOMAIN)),
      mark + ours.size,
    );
    // The table's rows are unchanged.
    assertEquals(
      canonicalRows((await readWithNeuralake(table)).rows),
      canonicalRows(expectedRows(NAME)),
    );
  });
}

Deno.test("a file compacted before has its row groups copied, and every row keeps its ids", async () => {
  const dir = await copyFixture(NAME);
  const table = await openTable(dir);
  const all = { targetFileSize: 1 << 30, minFiles: 2, maxDeletedRowsRatio: 1 };
  await compactOnce(table, await snapshotOf(table), all);
  // Two appends: their rows take ids from their files' baseRowIds.
  const fields: Field[] = [
    { name: "id", type: "long", nullable: true },
    { name: "name", type: "string", nullable: true },
    { name: "value", type: "double", nullable: true },
  ];
  const expected = await sparkRowIds();
  for (const id of [500n, 501n]) {
    await writeTable(table, sourceOf(batchOf(fields, [{ id, name: "new", value: 1 }])));
    const state = await snapshotOf(table);
    const add = [...activeFiles(state)].find((f) => f.defaultRowCommitVersion === state.version)!;
    expected.set(Number(id), [add.baseRowId!, state.version]);
  }
  const outcomes = await compactOnce(table, await snapshotOf(table), {
    ...all,
    minRowGroupRows: 1,
  });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  // The compacted file's group as it is; the appended ones with the two columns encoded beside.
  assertEquals(outcomes[0]!.copiedRowGroups, 3, "every row group is copied");
  const after = await snapshotOf(table);
  const files = [...activeFiles(after)];
  assertEquals(files.length, 1);
  assertEquals(
    sorted(await idsIn(dir, files[0]!, after.metadata.configuration)),
    sorted(expected),
  );
});
