/**
 * `optimize` checkpoints as every other commit does: a bin committed at a
 * multiple of the table's `delta.checkpointInterval` is followed by a
 * checkpoint of that version (Spark checkpoints after OPTIMIZE's commits).
 */

import type { Field } from "../../src/columnar/batch.ts";
import { checkpointKey } from "../../src/delta/log_path.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

Deno.test("optimize writes a checkpoint when a bin commits at a multiple of delta.checkpointInterval", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-optimize-checkpoint-" });
  try {
    const table = await openTable(dir);
    // Versions 0 to 5, one small file each, no checkpoint yet.
    for (let v = 0n; v <= 5n; v++) {
      await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: v }])), {
        autoCheckpoint: false,
        properties: { "delta.checkpointInterval": "3" },
      });
    }
    assert(await table.store.head(checkpointKey(3)) === undefined);
    const result = await optimizeTable(table, { targetFileSize: 1 << 20, minFiles: 2 });
    assertEquals([result.committed, result.versionAfter, result.checkpointed], [1, 6, 6]);
    assert(await table.store.head(checkpointKey(6)) !== undefined, "no checkpoint at 6");
    const snapshot = await snapshotOf({ ...table });
    assertEquals([snapshot.segment.checkpoint?.version, snapshot.files.size], [6, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("optimize writes no checkpoint when no bin commits at a multiple of the interval", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-optimize-checkpoint-" });
  try {
    const table = await openTable(dir);
    for (let v = 0n; v <= 4n; v++) {
      await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: v }])), {
        autoCheckpoint: false,
        properties: { "delta.checkpointInterval": "3" },
      });
    }
    const result = await optimizeTable(table, { targetFileSize: 1 << 20, minFiles: 2 });
    assertEquals([result.committed, result.versionAfter, result.checkpointed], [1, 5, undefined]);
    assert(await table.store.head(checkpointKey(5)) === undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
