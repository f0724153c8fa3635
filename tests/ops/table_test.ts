import type { Field } from "../../src/columnar/batch.ts";
import { latestSnapshotOf, openTable } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { writeCommit } from "../_helpers/log.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { assertEquals, assertRejects } from "../_helpers/assert.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

Deno.test("latestSnapshotOf() follows commits made through other handles", async () => {
  const dir = await Deno.makeTempDir();
  const mine = await openTable(dir);
  const other = await openTable(dir);
  await writeTable(mine, sourceOf(batchOf(FIELDS, [{ n: 1n }])));
  await writeTable(other, sourceOf(batchOf(FIELDS, [{ n: 2n }])));
  const first = await latestSnapshotOf(mine);
  assertEquals([first.version, first.files.size], [1, 2]);
  await writeTable(other, sourceOf(batchOf(FIELDS, [{ n: 3n }])));
  const second = await latestSnapshotOf(mine);
  assertEquals([second.version, second.files.size], [2, 3]);
  assertEquals(first.files.size, 2, "an earlier result is the caller's own copy");
  // An overwrite through the first handle replaces what the other wrote too.
  await writeTable(mine, sourceOf(batchOf(FIELDS, [{ n: 4n }])), { mode: "overwrite" });
  assertEquals((await latestSnapshotOf(other)).files.size, 1);
});

Deno.test("latestSnapshotOf() refuses a table whose protocol became unreadable", async () => {
  const dir = await Deno.makeTempDir();
  const table = await openTable(dir);
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 1n }])));
  await latestSnapshotOf(table);
  await writeCommit(table.store, 1, [{
    protocol: {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["catalogManaged"],
      writerFeatures: ["catalogManaged"],
    },
  }]);
  await assertRejects(() => latestSnapshotOf(table), "catalogManaged");
});
