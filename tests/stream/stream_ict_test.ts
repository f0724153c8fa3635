/**
 * `neuralake stream` on a table Spark made with in-commit timestamps on (as
 * Databricks makes new tables): the run verifies, every commit it adds puts
 * `commitInfo` first with an `inCommitTimestamp` above the previous
 * version's, and delta-rs reads the same rows as neuralake.
 */

import type { Action } from "../../src/delta/actions.ts";
import { activeFiles } from "../../src/delta/replay.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { NEURAL_FIELDS } from "../../src/sources/neural.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { assertIncreasingTimestamps, inCommitTimestampAt } from "../_helpers/ict.ts";
import { writeCommit } from "../_helpers/log.ts";
import { checkRun, checkWithDeltaRs, everyRoleWorked, stream } from "../_helpers/stream_run.ts";

const HOUR = 3_600_000;

Deno.test("stream on a Spark table with in-commit timestamps verifies, and delta-rs agrees", async () => {
  const dir = await copyFixture("spark_feature_in_commit_timestamp");
  try {
    const store = new LocalStore(dir);
    const table = await openTable(dir);
    const spark = await snapshotOf(table);
    assertEquals(spark.metadata.configuration["delta.enableInCommitTimestamps"], "true");
    const sparkIct = await inCommitTimestampAt(store, spark.version);
    // The Spark table's columns are not the neural schema: replace the
    // table, as `CREATE OR REPLACE TABLE` does (its files removed, its id,
    // protocol and properties kept), with a timestamp an hour ahead, so
    // that the stream's commits must go above it rather than use the clock.
    const neural = createTableActions({ schema: schemaFromFields(NEURAL_FIELDS) })
      .find((a) => "metaData" in a);
    assert(neural && "metaData" in neural);
    const future = Math.max(Date.now(), sparkIct) + HOUR;
    const replaced = spark.version + 1;
    await writeCommit(store, replaced, [
      {
        commitInfo: {
          timestamp: future,
          inCommitTimestamp: future,
          operation: "CREATE OR REPLACE TABLE",
        },
      },
      ...[...activeFiles(spark)].map((f): Action => ({
        remove: { path: f.path, deletionTimestamp: future, dataChange: true },
      })),
      {
        metaData: {
          ...spark.metadata,
          schemaString: neural.metaData.schemaString,
          partitionColumns: [],
        },
      },
    ]);

    const out = await Deno.makeTempDir({ prefix: "neuralake-stream-ict-" });
    // Paced: delta-rs's rows come back as one JSON document, and an unpaced
    // stream on an idle machine writes more rows than a string can hold.
    const run = await stream(dir, out, [
      "--duration",
      "120s",
      "--writers",
      "2",
      "--rate",
      "10000",
      "--batch-rows",
      "1000",
      "--min-files",
      "4",
    ], {
      stopWhen: everyRoleWorked(2),
    });
    checkRun(run, 2);
    await checkWithDeltaRs(dir, run);

    // Every commit after the replace: commitInfo first, timestamps strictly increasing.
    const end = await snapshotOf(table);
    assert(end.version > replaced + 2, `the stream made ${end.version - replaced} commits`);
    await assertIncreasingTimestamps(store, replaced + 1, end.version, future);

    const ours = await readWithNeuralake(table);
    const theirs = await readWithDeltaRs(dir);
    assertEquals(theirs.version, end.version);
    assert(ours.rows.length > 0);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
    await Deno.remove(out, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
