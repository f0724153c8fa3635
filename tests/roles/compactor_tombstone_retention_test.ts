/**
 * A stream's compactor keeps `remove` tombstones in its checkpoints for the
 * table's `delta.deletedFileRetentionDuration` (Delta's week where the table
 * declares none) when that is longer than the run's retention, as
 * PROTOCOL.md keeps them until the retention expires; a tombstone past both
 * still leaves.
 */

import { assertEquals } from "../_helpers/assert.ts";
import { addAction, removeAction, writeCommit } from "../_helpers/log.ts";
import { checkpointKey } from "../../src/delta/log_path.ts";
import { readCheckpointActions } from "../../src/delta/snapshot.ts";
import { createTable } from "../../src/ops/create.ts";
import { openTable, schemaFromFields } from "../../src/ops/table.ts";
import { NEURAL_FIELDS } from "../../src/sources/neural.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import { compactorPass } from "../_helpers/compactor.ts";
import { tombstoneRetentionMs } from "../../src/roles/table_setup.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A neural table with `properties`, whose files were removed 1 hour,
 * 3 hours and 8 days ago; then one compactor pass of a local-profile run
 * (a retention of seconds) that checkpoints. Returns the tombstones of the
 * checkpoint it wrote.
 */
async function checkpointedTombstones(properties: Record<string, string>): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-compactor-tombstones-" });
  try {
    const base = { ...resolveConfig({}), table: `${dir}/t` };
    const table = await openTable(base.table);
    await createTable(table, {
      schema: schemaFromFields(NEURAL_FIELDS),
      properties: { "delta.checkpointInterval": "1", ...properties },
    });
    const now = Date.now();
    await writeCommit(table.store, 1, [
      addAction("hour.parquet"),
      addAction("hours.parquet"),
      addAction("days.parquet"),
    ]);
    await writeCommit(table.store, 2, [
      removeAction("hour.parquet", now - HOUR),
      removeAction("hours.parquet", now - 3 * HOUR),
      removeAction("days.parquet", now - 8 * DAY),
    ]);
    const config = { ...base, compaction: { ...base.compaction, intervalMs: 0 } };
    // The run itself keeps tombstones for seconds only.
    assertEquals(tombstoneRetentionMs(config) < HOUR, true);
    const checkpoints = await compactorPass(config);
    assertEquals(checkpoints, [2]);
    const actions = await readCheckpointActions(table.store, table.codec, checkpointKey(2));
    return actions.flatMap((a) => "remove" in a ? [a.remove.path] : []).sort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the compactor's checkpoints keep tombstones for the table's deletedFileRetentionDuration when the run's retention is shorter", async () => {
  const kept = await checkpointedTombstones({
    "delta.deletedFileRetentionDuration": "interval 2 hours",
  });
  assertEquals(kept, ["hour.parquet"]);
});

Deno.test("the compactor's checkpoints keep tombstones for Delta's week on a table that declares no deletedFileRetentionDuration", async () => {
  const kept = await checkpointedTombstones({});
  assertEquals(kept, ["hour.parquet", "hours.parquet"]);
});
