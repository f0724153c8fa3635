/** `scanTable` with `orderBy` reads files by their smallest value of a column. */

import type { Field } from "../../src/columnar/batch.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";

const FIELDS: Field[] = [
  { name: "seq", type: "long", nullable: true },
  { name: "tag", type: "string", nullable: true },
];

Deno.test("scanTable({ orderBy }) reads files in ascending order of the column's minimum", async () => {
  const dir = await Deno.makeTempDir({ prefix: "scan-order-" });
  try {
    const table = await openTable(dir);
    // Six files written out of order, under random names.
    for (const start of [50, 10, 40, 0, 30, 20]) {
      const rows = [0, 1, 2].map((i) => ({ seq: BigInt(start + i), tag: `f${start}` }));
      await writeTable(table, sourceOf(batchOf(FIELDS, rows)));
    }
    const firstOf = async (orderBy?: string) => {
      const scan = await scanTable(table, {
        columns: ["seq"],
        ...(orderBy ? { orderBy } : {}),
      });
      const firsts: bigint[] = [];
      let file: string | undefined;
      for await (const piece of scan.pieces) {
        if (piece.file !== file) firsts.push((piece.batch.columns[0]!.values as BigInt64Array)[0]!);
        file = piece.file;
      }
      return firsts;
    };
    assertEquals(await firstOf("seq"), [0n, 10n, 20n, 30n, 40n, 50n]);
    // Without it, by path: the same files, whatever their values.
    assertEquals((await firstOf()).sort((a, b) => Number(a - b)), [0n, 10n, 20n, 30n, 40n, 50n]);
    assertEquals((await snapshotOf(table)).files.size, 6);
    await assertRejects(
      () => scanTable(table, { orderBy: "nope" }),
      'Cannot order a scan by "nope"',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
