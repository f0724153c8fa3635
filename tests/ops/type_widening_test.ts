/**
 * Tables whose column types were widened (the typeWidening feature): files
 * written before the change are read at the new type (delta-rs refuses the
 * feature, so pyarrow over the table's file list is the oracle), compaction
 * rewrites them at the new type, and a change the reader does not widen is
 * refused by name.
 */

import type { Action } from "../../src/delta/actions.ts";
import { readsWidened, UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { rowObject } from "../../src/cli/cells.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { addFor, dataFileKey } from "../../src/ops/data_files.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, deltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { fixturePath } from "../_helpers/fixtures.ts";
import { writeCommit } from "../_helpers/log.ts";

const PROTOCOL: Action = {
  protocol: {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: ["typeWidening"],
    writerFeatures: ["typeWidening"],
  },
};

function metaData(type: string, typeChanges?: unknown[]): Action {
  const field = {
    name: "n",
    type,
    nullable: true,
    metadata: typeChanges ? { "delta.typeChanges": typeChanges } : {},
  };
  return {
    metaData: {
      id: "widened",
      format: { provider: "parquet", options: {} },
      schemaString: JSON.stringify({ type: "struct", fields: [field] }),
      partitionColumns: [],
      configuration: { "delta.enableTypeWidening": "true" },
      createdTime: 0,
    },
  };
}

/** Version 1 adds an integer file; version 2 widens n to long; version 3 adds a long file. */
async function widenedTable(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-widen-" });
  const store = new LocalStore(dir);
  await writeCommit(store, 0, [PROTOCOL, metaData("integer")]);
  const ints = encodeParquet({
    fields: [{ name: "n", type: "integer", nullable: true }],
    columns: [{ values: new Int32Array([1, -2, 2_000_000_000]) }],
    length: 3,
  });
  const intKey = dataFileKey("", 0);
  await store.put(intKey, ints.bytes);
  await writeCommit(store, 1, [{
    add: addFor(intKey, ints, {}, [{ name: "n", type: "integer", nullable: true }]),
  }]);
  await writeCommit(store, 2, [
    metaData("long", [{ fromType: "integer", toType: "long", tableVersion: 2 }]),
  ]);
  const longs = encodeParquet({
    fields: [{ name: "n", type: "long", nullable: true }],
    columns: [{ values: new BigInt64Array([9_000_000_000n]) }],
    length: 1,
  });
  const longKey = dataFileKey("", 1);
  await store.put(longKey, longs.bytes);
  await writeCommit(store, 3, [{
    add: addFor(longKey, longs, {}, [{ name: "n", type: "long", nullable: true }]),
  }]);
  return dir;
}

Deno.test("files written before an integer-to-long change are read widened, as pyarrow reads them", async () => {
  const dir = await widenedTable();
  const ours = await readWithNeuralake(await openTable(dir));
  assertEquals(
    ours.rows.map((r) => String(r.n)).sort(),
    ["-2", "1", "2000000000", "9000000000"],
  );
  assertEquals(canonicalRows(ours.rows), await pyarrowRows(dir));
});

/**
 * The rows pyarrow reads from the table's active files (as delta-rs lists
 * them), each cast to the table's schema: delta-rs itself refuses to read
 * typeWidening tables.
 */
async function pyarrowRows(dir: string): Promise<string[]> {
  const theirs = await deltaRs({ op: "read_files", uri: dir });
  assert(theirs.ok, JSON.stringify(theirs));
  return canonicalRows(theirs.rows);
}

Deno.test("compaction rewrites widened files at the table's type", async () => {
  const dir = await widenedTable();
  const table = await openTable(dir);
  const before = await readWithNeuralake(table);
  const outcomes = await compactOnce(table, await snapshotOf(table), {
    targetFileSize: 1 << 20,
    minFiles: 2,
  });
  assertEquals(outcomes.map((o) => o.kind), ["committed"]);
  const after = await readWithNeuralake(table);
  assertEquals(canonicalRows(after.rows), canonicalRows(before.rows));
  assertEquals(await pyarrowRows(dir), canonicalRows(before.rows));
});

Deno.test("a type change that is not a widening PROTOCOL.md allows is refused by name", async () => {
  for (
    const [from, to] of [["long", "integer"], ["double", "float"], [
      "decimal(10,2)",
      "decimal(10,3)",
    ]]
  ) {
    const dir = await Deno.makeTempDir({ prefix: "neuralake-widen-" });
    await writeCommit(new LocalStore(dir), 0, [
      PROTOCOL,
      metaData(to!, [{ fromType: from, toType: to }]),
    ]);
    const error = await assertRejects(
      async () => snapshotOf(await openTable(dir)),
      `column "n" changed type from ${from} to ${to} (typeWidening)`,
    );
    assert(error instanceof UnsupportedFeatureError && error.feature === "typeWidening");
  }
});

Deno.test("every widening PROTOCOL.md lists is read, and a narrower or lossy change is not", () => {
  const allowed = [
    ["byte", "short"],
    ["short", "long"],
    ["integer", "long"],
    ["float", "double"],
    ["byte", "double"],
    ["integer", "double"],
    ["date", "timestamp_ntz"],
    ["decimal(5,2)", "decimal(10,4)"],
    ["decimal(5,2)", "decimal(6,2)"],
    ["integer", "decimal(10,0)"],
    ["short", "decimal(12,2)"],
    ["long", "decimal(20,0)"],
  ];
  const refused = [
    ["long", "integer"],
    ["long", "double"],
    ["double", "float"],
    ["date", "timestamp"],
    ["decimal(5,2)", "decimal(5,3)"],
    ["decimal(5,2)", "decimal(6,1)"],
    ["integer", "decimal(9,0)"],
    ["long", "decimal(19,0)"],
    ["integer", "decimal(11,2)"],
    ["string", "binary"],
  ];
  for (const [from, to] of allowed) assert(readsWidened(from!, to!), `${from} -> ${to}`);
  for (const [from, to] of refused) assert(!readsWidened(from!, to!), `${from} -> ${to}`);
});

Deno.test("predicates on widened columns skip by the older files' bounds only where those order the new type", async () => {
  // Spark's table: row 1 written before every widening, row 3 after (row 2 all nulls).
  const table = await openTable(fixturePath("spark_type_widening_all"));
  const cases: [string, number[]][] = [
    ["d >= '2024-02-29T00:00:00'", [1, 3]],
    ["d = '2024-02-29T00:00:00'", [1]],
    ["d < '2024-03-01T00:00:00'", [1]],
    ["dec > 2", [1, 3]],
    ["dec = 123.45", [1]],
    ["i_dec > 5", [1, 3]],
    ["s_dbl < 0", [1]],
    ["b_long >= 127", [1, 3]],
    ["f = 1.5", [1]],
  ];
  for (const [where, ids] of cases) {
    const scan = await scanTable(table, { where, columns: ["id"] });
    const got: number[] = [];
    for await (const batch of scan.batches) {
      for (let i = 0; i < batch.length; i++) got.push(Number(rowObject(batch, i).id));
    }
    assertEquals(got.sort(), ids, where);
  }
});
