/**
 * The log as a whole is trusted only when it is whole: a gap after the
 * checkpoint is an error that names the missing commit (never the end of the
 * table, never a hole that the next write fills), on local disk and on S3.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { describeTable } from "../../src/ops/describe.ts";
import { snapshotOf, type Table } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

/** A table of versions 0..last, checkpointed every 5 versions. */
async function tableOfVersions(table: Table, last: number): Promise<void> {
  for (let v = 0; v <= last; v++) {
    await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: BigInt(v) }])), {
      properties: { "delta.checkpointInterval": "5" },
    });
  }
}

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `a missing commit after the checkpoint is an error, and no write fills it (${backend.name})`,
    async fn() {
      const { table } = await backend.newTable("gap");
      await tableOfVersions(table, 7);
      assertEquals((await snapshotOf(table)).segment.checkpoint?.version, 5);
      await table.store.delete([commitKey(6)]);

      await assertRejects(() => snapshotOf(table), "commit 6 is missing");
      await assertRejects(() => describeTable(table), "commit 6 is missing");
      // A new process (a fresh handle, with no snapshot it could follow).
      const fresh: Table = { ...table };
      await assertRejects(
        () => writeTable(fresh, sourceOf(batchOf(FIELDS, [{ n: 99n }]))),
        "commit 6 is missing",
      );
      assert(await table.store.head(commitKey(6)) === undefined, "the hole stays a hole");
      assert(await table.store.head(commitKey(8)) === undefined, "nothing was committed");
      // Time travel to a version before the gap still works.
      assertEquals((await snapshotOf(table, { version: 5 })).files.size, 6);
    },
  });
}
