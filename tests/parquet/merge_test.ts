/**
 * mergeParquet: large row groups are copied byte for byte, small ones are
 * re-encoded together, and pyarrow reads exactly the input rows from the
 * merged file, for every codec, with nulls and dictionary-encoded strings.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { parquetTool, sortedRows, tagColumn, type Tagged } from "../_helpers/pyarrow.ts";
import { type ColumnBatch, concatBatches } from "../../src/columnar/batch.ts";
import { bytesSource, openParquet, readColumns } from "../../src/parquet/decode.ts";
import { type Codec, encodeParquet } from "../../src/parquet/encode.ts";
import { mergeParquet } from "../../src/parquet/merge.ts";
import { neuralBatch, tempDir } from "./_fixtures.ts";

/** A neural batch with nulls in a dictionary column and a float column. */
function withNulls(rows: number, tick0: number): ColumnBatch {
  const batch = neuralBatch(rows, { neurons: 50, tick0 });
  const nulls = new Uint8Array(rows);
  for (let i = tick0 % 5; i < rows; i += 5) nulls[i] = 1;
  batch.fields = batch.fields.map((f, i) => (i === 4 || i === 8 ? { ...f, nullable: true } : f));
  batch.columns[4] = { ...batch.columns[4]!, nulls };
  batch.columns[8] = { ...batch.columns[8]!, nulls };
  return batch;
}

function rowsOf(batch: ColumnBatch): Record<string, Tagged>[] {
  const tagged = batch.fields.map((_, c) => tagColumn(batch, c));
  return Array.from(
    { length: batch.length },
    (_, r) => Object.fromEntries(batch.fields.map((f, c) => [f.name, tagged[c]![r]!])),
  );
}

async function pyRows(bytes: Uint8Array): Promise<Record<string, Tagged>[]> {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/merged.parquet`;
    await Deno.writeFile(path, bytes);
    const read = await parquetTool({ cmd: "read", path });
    const names = Object.keys(read.columns);
    return Array.from(
      { length: read.num_rows },
      (_, r) => Object.fromEntries(names.map((n) => [n, read.columns[n][r]])),
    );
  } finally {
    await dir.remove();
  }
}

for (const codec of ["SNAPPY", "UNCOMPRESSED", "ZSTD", "GZIP"] as Codec[]) {
  Deno.test(`mergeParquet copies large ${codec} row groups and re-encodes small ones`, async () => {
    // a: two large groups; b: one small group; c: a large and a small group.
    const a = withNulls(4000, 0);
    const b = withNulls(300, 4000);
    const c = withNulls(2600, 5000);
    const inputs = [
      { bytes: encodeParquet(a, { codec, rowGroupRows: 2000 }).bytes, name: "a.parquet" },
      { bytes: encodeParquet(b, { codec }).bytes, name: "b.parquet" },
      { bytes: encodeParquet(c, { codec: "SNAPPY", rowGroupRows: 2000 }).bytes, name: "c.parquet" },
    ];
    const merged = await mergeParquet(inputs, { minRowGroupRows: 1000, codec, rowGroupRows: 5000 });
    assertEquals(merged.copiedRowGroups, 3);
    assertEquals(merged.decodedRowGroups, 2);
    assertEquals(merged.numRows, 6900);
    const all = concatBatches([a, b, c]);
    const expected = rowsOf(all);
    const read = await pyRows(merged.bytes);
    assertEquals(sortedRows(read), sortedRows(expected));
    // Copied groups come first where they were met, the small ones at the end.
    const order = [
      ...rowsOf(a),
      ...rowsOf(c).slice(0, 2000),
      ...rowsOf(b),
      ...rowsOf(c).slice(2000),
    ];
    assertEquals(read.map((r) => JSON.stringify(r)), order.map((r) => JSON.stringify(r)));
    // Exact statistics of the merged file.
    const whole = encodeParquet(all);
    all.fields.forEach((f, i) => {
      const { nanCount: _, ...expect } = whole.columns[i]!;
      assertEquals(merged.columns[i], expect, `stats of ${f.name}`);
    });
    // The copied chunks keep their bytes: the first group's first chunk is identical.
    const src = await openParquet(bytesSource(inputs[0]!.bytes));
    const out = await openParquet(bytesSource(merged.bytes));
    const chunk = (file: typeof src, g: number, col: number) => {
      const meta = file.metadata.row_groups[g]!.columns[col]!.meta_data!;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      return [start, start + Number(meta.total_compressed_size)];
    };
    const [s0, s1] = chunk(src, 1, 4);
    const [o0, o1] = chunk(out, 1, 4);
    assertEquals(merged.bytes.subarray(o0, o1), inputs[0]!.bytes.subarray(s0, s1));
    assertEquals(out.metadata.row_groups.map((g) => Number(g.num_rows)), [2000, 2000, 2000, 900]);
    assertEquals(out.metadata.row_groups[2]!.columns[0]!.meta_data!.codec, "SNAPPY");
  });
}

Deno.test("mergeParquet re-encodes everything below the threshold into full row groups", async () => {
  const parts = [0, 1, 2, 3].map((i) => neuralBatch(700, { tick0: i * 700 }));
  const merged = await mergeParquet(
    parts.map((p, i) => ({ bytes: encodeParquet(p).bytes, name: `p${i}` })),
    { minRowGroupRows: 100_000, rowGroupRows: 1000 },
  );
  assertEquals([merged.copiedRowGroups, merged.decodedRowGroups], [0, 4]);
  const out = await openParquet(bytesSource(merged.bytes));
  assertEquals(out.rowGroups.map((g) => g.numRows), [1000, 1000, 800]);
  const read = await readColumns(out, { fields: parts[0]!.fields });
  const all = concatBatches(parts);
  all.fields.forEach((_, i) => assertEquals(tagColumn(read, i), tagColumn(all, i)));
  assertEquals(merged.columns[6]!.nanCount, 0, "NaN counts are known when nothing was copied");
});

Deno.test("mergeParquet re-encodes files whose schema differs from the output", async () => {
  const full = neuralBatch(1500);
  const narrow = { ...full, fields: full.fields.slice(0, 5), columns: full.columns.slice(0, 5) };
  const merged = await mergeParquet(
    [{ bytes: encodeParquet(full).bytes }, { bytes: encodeParquet(narrow).bytes }],
    { minRowGroupRows: 10, fields: full.fields.map((f) => ({ ...f, nullable: true })) },
  );
  assertEquals([merged.copiedRowGroups, merged.decodedRowGroups], [0, 2]);
  const read = await pyRows(merged.bytes);
  assertEquals(read.length, 3000);
  assertEquals(read[2999]!.neuron_id, null, "columns the narrow file lacks are null");
  assertEquals(merged.columns[5]!.nullCount, 1500);
  await assertRejects(() => mergeParquet([], { minRowGroupRows: 1 }), "no inputs");
  assert(merged.bytes.length > 0);
});

Deno.test("mergeParquet copies BYTE_STREAM_SPLIT row groups as they are, and pyarrow reads every row", async () => {
  const a = withNulls(3000, 0);
  const b = withNulls(400, 3000);
  const split = encodeParquet(a, {
    codec: "ZSTD",
    floatEncoding: "BYTE_STREAM_SPLIT",
    zstdMinChunkBytes: 0,
  }).bytes;
  const merged = await mergeParquet(
    [{ bytes: split, name: "split.parquet" }, { bytes: encodeParquet(b).bytes, name: "b.parquet" }],
    { minRowGroupRows: 1000 },
  );
  assertEquals([merged.copiedRowGroups, merged.decodedRowGroups], [1, 1]);
  const out = await openParquet(bytesSource(merged.bytes));
  const voltage = out.metadata.row_groups[0]!.columns[6]!.meta_data!;
  assert(voltage.encodings.includes("BYTE_STREAM_SPLIT"), voltage.encodings.join(", "));
  assertEquals(voltage.codec, "ZSTD");
  const read = await pyRows(merged.bytes);
  assertEquals(
    read.map((r) => JSON.stringify(r)),
    [...rowsOf(a), ...rowsOf(b)].map((r) => JSON.stringify(r)),
  );
});
