/**
 * openParquetSource: streams a file's rows as bounded batches, row group by
 * row group, with fields inferred from the Parquet schema.
 */

import { assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { tagColumn } from "../_helpers/pyarrow.ts";
import { concatBatches } from "../../src/columnar/batch.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { encodeRecords } from "../../src/parquet/nested.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { openParquetSource } from "../../src/sources/parquet_file.ts";
import { edgeBatch, neuralBatch, tempDir } from "./_fixtures.ts";

Deno.test("openParquetSource streams a file as batches of at most batchRows rows", async () => {
  const batch = neuralBatch(5000);
  const dir = await tempDir();
  try {
    const path = `${dir.path}/rec.parquet`;
    await Deno.writeFile(path, encodeParquet(batch, { rowGroupRows: 2000 }).bytes);
    const source = await openParquetSource(path, { batchRows: 1500 });
    assertEquals(source.fields, batch.fields);
    assertEquals(source.numRows, 5000);
    const batches = [];
    for await (const b of source.batches()) batches.push(b);
    assertEquals(batches.map((b) => b.length), [1500, 500, 1500, 500, 1000]);
    const all = concatBatches(batches);
    batch.fields.forEach((_, i) => assertEquals(tagColumn(all, i), tagColumn(batch, i)));
    assertThrows(() => source.batches(), "batches() iterates once");
  } finally {
    await dir.remove();
  }
});

Deno.test("openParquetSource infers every primitive type from the Parquet schema", async () => {
  const batch = edgeBatch();
  const source = await openParquetSource(bytesSource(encodeParquet(batch).bytes, "edge.parquet"));
  assertEquals(source.fields, batch.fields);
  const [only] = await Array.fromAsync(source.batches());
  batch.fields.forEach((_, i) => assertEquals(tagColumn(only!, i), tagColumn(batch, i)));
});

Deno.test("openParquetSource reads nested columns as structs, lists and maps", async () => {
  const bytes = encodeRecords([{
    name: "add",
    type: {
      struct: [
        { name: "path", type: "string" },
        { name: "partitionValues", type: { map: { key: "string", value: "string" } } },
        { name: "sizes", type: { list: "long" } },
      ],
    },
  }], [
    { add: { path: "x", partitionValues: { d: "1", e: null }, sizes: [1n, null] } },
    { add: null },
  ]).bytes;
  const source = await openParquetSource(bytesSource(bytes, "checkpoint.parquet"));
  assertEquals(source.fields.map((f) => f.name), ["add"]);
  const [only] = await Array.fromAsync(source.batches());
  assertEquals((only!.columns[0]!.values as unknown[])[0], {
    path: "x",
    partitionValues: new Map([["d", "1"], ["e", null]]),
    sizes: [1n, null],
  });
  assertEquals(only!.columns[0]!.nulls?.[1], 1);
  await assertRejects(
    () => openParquetSource("/nonexistent/file.parquet"),
    "Cannot open /nonexistent/file.parquet",
  );
});
