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

/** `files` files of `rows` rows: a low-cardinality string with nulls, and `names` names per file. */
function namedFiles(files: number, rows: number, names: number): ColumnBatch[] {
  const fields = [
    { name: "id", type: "long" as const, nullable: false },
    { name: "region", type: "string" as const, nullable: true },
    { name: "name", type: "string" as const, nullable: false },
  ];
  return Array.from({ length: files }, (_, f) => {
    const ids = new BigInt64Array(rows);
    const regions: string[] = [];
    const strings: string[] = [];
    const nulls = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      ids[i] = BigInt(f * rows + i);
      regions.push(["M1", "S1", "PMd", "é-PPC"][(f + i) % 4]!);
      nulls[i] = (f + i) % 7 === 0 ? 1 : 0;
      strings.push(`f${f}-n${i % names}`);
    }
    return {
      fields,
      columns: [{ values: ids }, { values: regions, nulls }, { values: strings }],
      length: rows,
    };
  });
}

/** Rows of a Parquet file as delta-rs reads them (the file converted to a table). */
async function deltaRsRows(bytes: Uint8Array): Promise<Record<string, Tagged>[]> {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/merged.parquet`;
    await Deno.writeFile(path, bytes);
    return (await parquetTool({ cmd: "delta_rs", path })).rows;
  } finally {
    await dir.remove();
  }
}

Deno.test("mergeParquet carries dictionary-encoded strings as codes, and delta-rs reads every row", async () => {
  const parts = namedFiles(40, 500, 50);
  // Rows 0 and 3 of the second file are dropped: those rows are decoded on the side.
  const keep = Uint32Array.from({ length: 498 }, (_, i) => (i < 2 ? i + 1 : i + 2));
  const merged = await mergeParquet(
    parts.map((p, i) => ({ bytes: encodeParquet(p).bytes, name: `p${i}` })),
    {
      minRowGroupRows: 100_000,
      // Row groups that end inside a file, and hold different sets of names.
      rowGroupRows: 7_001,
      rowFilters: parts.map((_, i) => i === 1 ? () => keep : undefined),
    },
  );
  const out = await openParquet(bytesSource(merged.bytes));
  for (const group of out.metadata.row_groups) {
    for (const c of [1, 2]) {
      const meta = group.columns[c]!.meta_data!;
      assert(meta.encodings.includes("RLE_DICTIONARY"), meta.encodings.join(", "));
    }
  }
  const expected = [
    ...rowsOf(parts[0]!),
    ...rowsOf(parts[1]!).filter((_, i) => i !== 0 && i !== 3),
    ...parts.slice(2).flatMap(rowsOf),
  ];
  const theirs = await deltaRsRows(merged.bytes);
  assertEquals(sortedRows(theirs), sortedRows(expected));
  const read = await readColumns(out, { fields: parts[0]!.fields });
  assertEquals(rowsOf(read).map((r) => JSON.stringify(r)), expected.map((r) => JSON.stringify(r)));
  // Statistics are those of the strings each row group uses, and of the file.
  const whole = encodeParquet(concatBatches(parts));
  assertEquals(merged.columns[1], {
    ...whole.columns[1]!,
    nullCount: merged.columns[1]!.nullCount,
  });
  assertEquals(merged.columns[2]!.min, "f0-n0");
  assertEquals(merged.columns[2]!.max, "f9-n9");
  assertEquals(out.rowGroups[1]!.stats.name!.min, "f14-n0");
});

Deno.test("mergeParquet turns codes back into strings past a dictionary's size, and delta-rs reads every row", async () => {
  // 70,000 distinct names, each file's dictionary-encoded.
  const parts = namedFiles(700, 200, 100);
  const merged = await mergeParquet(
    parts.map((p, i) => ({ bytes: encodeParquet(p).bytes, name: `p${i}` })),
    { minRowGroupRows: 100_000, rowGroupRows: 100_000 },
  );
  const out = await openParquet(bytesSource(merged.bytes));
  assertEquals(out.rowGroups.map((g) => g.numRows), [100_000, 40_000]);
  const expected = parts.flatMap(rowsOf);
  const read = await readColumns(out, { fields: parts[0]!.fields });
  assertEquals(rowsOf(read).map((r) => JSON.stringify(r)), expected.map((r) => JSON.stringify(r)));
  const theirs = await deltaRsRows(merged.bytes);
  assertEquals(sortedRows(theirs), sortedRows(expected));
});

Deno.test("mergeParquet merges strings that pyarrow wrote with dictionaries overflowing to PLAIN, or without", async () => {
  const dir = await tempDir();
  try {
    const inputs: { bytes: Uint8Array; name: string }[] = [];
    const expected: Record<string, Tagged>[] = [];
    for (
      const [f, options] of [{}, { dictionary_pagesize_limit: 256, data_page_size: 256 }, {
        use_dictionary: false,
      }, {}].entries()
    ) {
      const values = Array.from({ length: 600 }, (_, i) => i % 9 === 0 ? null : `v${f}-${i % 150}`);
      const path = `${dir.path}/p${f}.parquet`;
      await parquetTool({
        cmd: "write",
        path,
        columns: [{
          name: "s",
          type: "string",
          values: values.map((s) => s === null ? null : { s }),
        }],
        options,
      });
      inputs.push({ bytes: await Deno.readFile(path), name: path });
      expected.push(
        ...values.map((s): Record<string, Tagged> => ({ s: s === null ? null : { s } })),
      );
    }
    const fields = [{ name: "s", type: "string" as const, nullable: true }];
    // With the PLAIN file, and without it (then every chunk has a dictionary).
    for (const use of [inputs, [inputs[0]!, inputs[1]!, inputs[3]!]]) {
      const merged = await mergeParquet(use, { minRowGroupRows: 100_000, fields });
      const rows = use === inputs ? expected : [
        ...expected.slice(0, 1200),
        ...expected.slice(1800),
      ];
      const theirs = await deltaRsRows(merged.bytes);
      assertEquals(sortedRows(theirs), sortedRows(rows));
      const read = await readColumns(await openParquet(bytesSource(merged.bytes)), { fields });
      assertEquals(tagColumn(read, 0), rows.map((r) => r.s as Tagged));
    }
  } finally {
    await dir.remove();
  }
});
