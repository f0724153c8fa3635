/**
 * `stream --codec` chooses the codec of every data file the run leaves:
 * the writers' files and the compactor's re-encoded ones.
 */

import { parquetMetadata } from "hyparquet";
import { decodeFilePath } from "../../src/delta/partition.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { checkRun, stream } from "../_helpers/stream_run.ts";

Deno.test("stream --codec snappy writes and compacts SNAPPY data files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-codec-" });
  try {
    const table = `${dir}/table`;
    // The short settings, but batches below compaction's copy threshold (a
    // later flag wins), so that it re-encodes them.
    const run = await stream(table, `${dir}/out`, [
      "--duration",
      "4s",
      "--writers",
      "2",
      "--batch-rows",
      "5000",
      "--codec",
      "snappy",
    ]);
    checkRun(run, 2);
    const t = await openTable(table);
    const snapshot = await snapshotOf(t);
    let compacted = 0;
    for (const [path, add] of snapshot.files) {
      assert(path.endsWith(".snappy.parquet"), path);
      if (!add.dataChange) compacted++;
      const bytes = (await t.store.get(decodeFilePath(path)))!;
      for (const group of parquetMetadata(bytes.slice().buffer).row_groups) {
        for (const chunk of group.columns) assertEquals(chunk.meta_data!.codec, "SNAPPY", path);
      }
    }
    assert(compacted > 0, "the compactor left at least one file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
