/**
 * Row tracking: `write` gives new files fresh row ids after the table's high
 * water mark (also after a concurrent winner's) and the commit version, and
 * raises the mark; compaction keeps every row's id and commit version in the
 * materialized columns and gives its file fresh ids (also after a winner's
 * mark); while row tracking is suspended, compaction keeps the ids rows
 * have and assigns none; stream writers refuse such tables by name.
 * (tests/interop/spark_row_tracking_test.ts has Spark read the ids.)
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import {
  ROW_TRACKING_DOMAIN,
  rowIdHighWaterMark,
  rowTrackingActions,
} from "../../src/delta/row_tracking.ts";
import { commit, newIntent } from "../../src/delta/transaction.ts";
import { compactOnce, rowTrackingFields } from "../../src/ops/compaction.ts";
import { activeFiles } from "../../src/delta/replay.ts";
import { decodeFilePath } from "../../src/delta/partition.ts";
import { readColumns } from "../../src/parquet/decode.ts";
import { openParquet } from "../../src/parquet/metadata.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { LocalStore } from "../../src/storage/local.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { writeCommit } from "../_helpers/log.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: true },
  { name: "name", type: "string", nullable: true },
];

/** A copy of Spark's row-tracking fixture (an INSERT, then an UPDATE). */
function sparkRowTrackingTable(): Promise<string> {
  return copyFixture("spark_feature_row_tracking");
}

async function commitAt(dir: string, version: number): Promise<Action[]> {
  const bytes = await new LocalStore(dir).get(commitKey(version));
  return parseCommit(new TextDecoder().decode(bytes!), `commit ${version}`);
}

Deno.test("write assigns row ids after the high water mark and raises it", async () => {
  const dir = await sparkRowTrackingTable();
  const table = await openTable(dir);
  const before = await snapshotOf(table);
  const mark = rowIdHighWaterMark(before.domains.get(ROW_TRACKING_DOMAIN));
  assert(mark >= 1, `the fixture's mark is ${mark}`);
  await writeTable(
    table,
    sourceOf(batchOf(FIELDS, [{ id: 10n, name: "x" }, { id: 11n, name: "y" }])),
  );
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ id: 12n, name: "z" }])));
  const first = await commitAt(dir, before.version + 1);
  const second = await commitAt(dir, before.version + 2);
  const adds = (c: Action[]) => c.flatMap((a) => ("add" in a ? [a.add] : []));
  const marks = (c: Action[]) =>
    c.flatMap((a) =>
      "domainMetadata" in a && a.domainMetadata.domain === ROW_TRACKING_DOMAIN
        ? [JSON.parse(a.domainMetadata.configuration).rowIdHighWaterMark]
        : []
    );
  assertEquals(adds(first).map((a) => [a.baseRowId, a.defaultRowCommitVersion]), [[
    mark + 1,
    before.version + 1,
  ]]);
  assertEquals(marks(first), [mark + 2]);
  assertEquals(adds(second).map((a) => [a.baseRowId, a.defaultRowCommitVersion]), [[
    mark + 3,
    before.version + 2,
  ]]);
  assertEquals(marks(second), [mark + 3]);
  const theirs = await readWithDeltaRs(dir);
  const ours = await readWithNeuralake(table);
  assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
  assertEquals(ours.rows.length, 5);
});

Deno.test("a commit that loses its version assigns ids after the winner's mark, at the new version", async () => {
  const dir = await sparkRowTrackingTable();
  const store = new LocalStore(dir);
  const state = await snapshotOf(await openTable(dir));
  // A concurrent append took the next version and raised the mark to 9.
  await writeCommit(store, state.version + 1, [{
    domainMetadata: {
      domain: ROW_TRACKING_DOMAIN,
      configuration: JSON.stringify({ rowIdHighWaterMark: 9 }),
      removed: false,
    },
  }]);
  const add: Action = {
    add: {
      path: "late.parquet",
      partitionValues: {},
      size: 1,
      modificationTime: 0,
      dataChange: true,
      stats: '{"numRecords":3}',
    },
  };
  const outcome = await commit(store, [add], newIntent(state.version), { operation: "WRITE" }, {
    actionsFor: rowTrackingActions(state.domains.get(ROW_TRACKING_DOMAIN)),
  });
  assertEquals([outcome.kind, "version" in outcome && outcome.version], [
    "committed",
    state.version + 2,
  ]);
  const committed = await commitAt(dir, state.version + 2);
  const added = committed.flatMap((a) => ("add" in a ? [a.add] : []));
  assertEquals(added.map((a) => [a.baseRowId, a.defaultRowCommitVersion]), [[
    10,
    state.version + 2,
  ]]);
});

/** Each row's [row id, row commit version] in the table's one data file, keyed by `id`. */
async function materializedIds(
  dir: string,
  allowNull = false,
): Promise<Map<number, [number | null, number | null]>> {
  const state = await snapshotOf(await openTable(dir));
  const files = [...activeFiles(state)];
  assertEquals(files.length, 1, "one file after compaction");
  const add = files[0]!;
  const fields: Field[] = [
    { name: "id", type: "long", nullable: true },
    ...rowTrackingFields(state.metadata.configuration, []),
  ];
  const bytes = await Deno.readFile(`${dir}/${decodeFilePath(add.path)}`);
  const batch = await readColumns(await openParquet(bytesSource(bytes, add.path)), { fields });
  const out = new Map<number, [number | null, number | null]>();
  const at = (c: number, i: number) =>
    batch.columns[c]!.nulls?.[i] ? null : Number(batch.columns[c]!.values[i]);
  for (let i = 0; i < batch.length; i++) {
    assert(allowNull || (at(1, i) !== null && at(2, i) !== null), `row ${i} is null`);
    out.set(Number(batch.columns[0]!.values[i]), [at(1, i), at(2, i)]);
  }
  return out;
}

Deno.test("compaction keeps row ids and commit versions in the materialized columns", async () => {
  const dir = await sparkRowTrackingTable();
  const table = await openTable(dir);
  // Spark's rows: id 1 from its file's baseRowId 0 (version 1); id 2 was
  // UPDATEd, so its file (baseRowId 2, version 2) holds the materialized id 1.
  await writeTable(
    table,
    sourceOf(batchOf(FIELDS, [{ id: 10n, name: "x" }, { id: 11n, name: "y" }])),
  );
  const before = await snapshotOf(table);
  const mark = rowIdHighWaterMark(before.domains.get(ROW_TRACKING_DOMAIN));
  assertEquals(mark, 4);
  const outcomes = await compactOnce(table, before, { targetFileSize: 1 << 20, minFiles: 2 });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const version = outcomes[0]!.version!;
  assertEquals(
    [...(await materializedIds(dir)).entries()].sort((a, b) => a[0] - b[0]),
    [[1, [0, 1]], [2, [1, 2]], [10, [3, before.version]], [11, [4, before.version]]],
  );
  // The merged file gets fresh ids and the commit's version; the mark rises by its rows.
  const committed = await commitAt(dir, version);
  const added = committed.flatMap((a) => ("add" in a ? [a.add] : []));
  assertEquals(added.map((a) => [a.dataChange, a.baseRowId, a.defaultRowCommitVersion]), [[
    false,
    5,
    version,
  ]]);
  const domain = committed.flatMap((a) => ("domainMetadata" in a ? [a.domainMetadata] : []));
  assertEquals(domain.map((d) => rowIdHighWaterMark(d)), [8]);
  const info = committed.flatMap((a) => ("commitInfo" in a ? [a.commitInfo] : []));
  assertEquals(info[0]!.tags, { "delta.rowTracking.preserved": "true" });
  // Every reader still sees the same rows.
  assertEquals(
    canonicalRows((await readWithNeuralake(await openTable(dir))).rows),
    canonicalRows((await readWithDeltaRs(dir)).rows),
  );
});

/** Commits `delta.enableRowTracking=false, delta.rowTrackingSuspended=true`, as Spark's ALTER TABLE does. */
async function suspendRowTracking(dir: string): Promise<number> {
  const table = await openTable(dir);
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
  return state.version + 1;
}

Deno.test("while row tracking is suspended, compaction keeps the rows' ids and assigns no fresh ones", async () => {
  const dir = await sparkRowTrackingTable();
  const table = await openTable(dir);
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ id: 10n, name: "x" }])));
  const tracked = await snapshotOf(table);
  const mark = rowIdHighWaterMark(tracked.domains.get(ROW_TRACKING_DOMAIN));
  await suspendRowTracking(dir);
  // Written while suspended: no baseRowId, no defaultRowCommitVersion, no new mark.
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ id: 20n, name: "z" }])));
  const before = await snapshotOf(table);
  const unassigned = [...activeFiles(before)].filter((f) => f.baseRowId == null);
  assertEquals(unassigned.map((f) => f.defaultRowCommitVersion ?? null), [null]);
  const outcomes = await compactOnce(table, before, { targetFileSize: 1 << 20, minFiles: 2 });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const committed = await commitAt(dir, outcomes[0]!.version!);
  const added = committed.flatMap((a) => ("add" in a ? [a.add] : []));
  assertEquals(added.map((a) => [a.baseRowId ?? null, a.defaultRowCommitVersion ?? null]), [[
    null,
    null,
  ]]);
  assertEquals(committed.filter((a) => "domainMetadata" in a), []);
  const info = committed.flatMap((a) => ("commitInfo" in a ? [a.commitInfo] : []));
  assertEquals(info[0]!.tags, undefined);
  assertEquals(
    rowIdHighWaterMark((await snapshotOf(table)).domains.get(ROW_TRACKING_DOMAIN)),
    mark,
  );
  // Rows that had ids keep them (materialized, or from their file's baseRowId);
  // the row written while suspended has none.
  assertEquals(
    [...(await materializedIds(dir, true)).entries()].sort((a, b) => a[0] - b[0]),
    [[1, [0, 1]], [2, [1, 2]], [10, [3, tracked.version]], [20, [null, null]]],
  );
  assertEquals(
    canonicalRows((await readWithNeuralake(await openTable(dir))).rows),
    canonicalRows((await readWithDeltaRs(dir)).rows),
  );
});

Deno.test("a compaction that loses a race to an append takes fresh ids after the winner's mark", async () => {
  const dir = await sparkRowTrackingTable();
  const table = await openTable(dir);
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ id: 10n, name: "x" }])));
  const stale = await snapshotOf(table);
  // A concurrent append commits first: its row gets id 4, the mark rises to 4.
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ id: 20n, name: "z" }])));
  const outcomes = await compactOnce(table, stale, { targetFileSize: 1 << 20, minFiles: 2 });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const version = outcomes[0]!.version!;
  assertEquals(version, stale.version + 2);
  const committed = await commitAt(dir, version);
  const added = committed.flatMap((a) => ("add" in a ? [a.add] : []));
  // Computed from the stale snapshot's mark (3), the ids would start at 4, the winner's.
  assertEquals(added.map((a) => [a.baseRowId, a.defaultRowCommitVersion]), [[5, version]]);
  const domain = committed.flatMap((a) => ("domainMetadata" in a ? [a.domainMetadata] : []));
  assertEquals(domain.map((d) => rowIdHighWaterMark(d)), [7]);
  const state = await snapshotOf(table);
  assertEquals(
    [...activeFiles(state)].map((f) => f.baseRowId).sort(),
    [4, 5],
    "the winner's file and the merged one",
  );
});

Deno.test("a row-tracking table without materialized column names is refused by key", () => {
  const error = assertThrows(() =>
    rowTrackingFields({ "delta.rowTracking.materializedRowIdColumnName": "_r" }, [])
  );
  assert(
    error.message.includes("delta.rowTracking.materializedRowCommitVersionColumnName"),
    error.message,
  );
});
