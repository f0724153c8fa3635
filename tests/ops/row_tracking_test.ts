/**
 * Row tracking: `write` gives new files fresh row ids after the table's high
 * water mark (also after a concurrent winner's) and the commit version, and
 * raises the mark; compaction and stream writers refuse such tables by name.
 * (tests/interop/spark_row_tracking_test.ts has Spark read the ids.)
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import {
  ROW_TRACKING_DOMAIN,
  rowIdHighWaterMark,
  rowTrackingActions,
} from "../../src/delta/row_tracking.ts";
import { commit, newIntent } from "../../src/delta/transaction.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { LocalStore } from "../../src/storage/local.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
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

Deno.test("compaction refuses a row-tracking table by name", async () => {
  const dir = await sparkRowTrackingTable();
  const table = await openTable(dir);
  const error = await assertRejects(async () =>
    compactOnce(table, await snapshotOf(table), { targetFileSize: 1 << 20 })
  );
  assert(
    error instanceof UnsupportedFeatureError && error.feature === "rowTracking",
    error.message,
  );
  assert(error.message.includes("would not preserve row ids"), error.message);
});
