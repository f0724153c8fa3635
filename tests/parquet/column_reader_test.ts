/**
 * The typed-array column decoder behind readColumns: for every type,
 * encoding, codec and page layout that our encoder, pyarrow, Spark and
 * delta-rs write, its batch is hyparquet's batch, bit for bit; what it
 * cannot decode is an error naming the file, column and row group.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { parquetTool, tagColumn } from "../_helpers/pyarrow.ts";
import type { ColumnBatch, Field } from "../../src/columnar/batch.ts";
import { bytesSource, openParquet, readColumns } from "../../src/parquet/decode.ts";
import { type Codec, type EncodeOptions, encodeParquet } from "../../src/parquet/encode.ts";
import { parquetHeader } from "../../src/parquet/_hyparquet.ts";
import { neuralBatch, recordingSource, tempDir } from "./_fixtures.ts";
import { dataFiles } from "../_helpers/fixtures.ts";
import {
  allTypesBatch,
  assertSameBatch,
  type PyColumn,
  pyColumns,
  readBoth,
} from "./_fast_fixtures.ts";

const ALL = allTypesBatch(5000);

for (const codec of ["SNAPPY", "UNCOMPRESSED", "ZSTD", "GZIP"] as Codec[]) {
  for (const dictionary of [true, false]) {
    for (const timestampEncoding of ["DELTA_BINARY_PACKED", "PLAIN"] as const) {
      const label = `${codec}, dictionary ${dictionary ? "on" : "off"}, ${timestampEncoding}`;
      Deno.test(`readColumns decodes every type of our files as hyparquet does (${label})`, async () => {
        const options: EncodeOptions = { codec, dictionary, timestampEncoding };
        // Three row groups of several pages each, and one group of one page.
        for (const layout of [{ rowGroupRows: 2000, pageSize: 2048 }, {}]) {
          const bytes = encodeParquet(ALL, { ...options, ...layout }).bytes;
          const { fast, reference } = await readBoth(bytes, ALL.fields);
          assertSameBatch(fast, reference, label);
          assertSameBatch(fast, ALL, "against the written batch");
        }
      });
    }
  }
}

Deno.test("readColumns decodes files of 0 and 1 rows and projected, reordered columns", async () => {
  const empty = {
    ...ALL,
    length: 0,
    columns: ALL.columns.map((c) => ({ values: c.values.slice(0, 0) })),
  };
  const none = await readBoth(encodeParquet(empty).bytes, ALL.fields);
  assertEquals(none.fast.length, 0);
  assertSameBatch(none.fast, none.reference, "0 rows");
  const one = {
    ...ALL,
    length: 1,
    columns: ALL.columns.map((c) => ({
      values: c.values.slice(0, 1),
      nulls: c.nulls?.slice(0, 1),
    })),
  };
  const single = await readBoth(encodeParquet(one as ColumnBatch).bytes, ALL.fields);
  assertSameBatch(single.fast, single.reference, "1 row");
  const picked = [
    ALL.fields[30]!,
    ALL.fields[3]!,
    { name: "absent", type: "long", nullable: true },
    ALL.fields[19]!,
  ] as Field[];
  const projected = await readBoth(encodeParquet(ALL).bytes, picked);
  assertSameBatch(projected.fast, projected.reference, "projection");
  assertEquals(projected.fast.columns[2]!.nulls, new Uint8Array(5000).fill(1));
});

Deno.test("readColumns widens types with the fast decoder exactly as hyparquet does", async () => {
  const bytes = encodeParquet(ALL, { rowGroupRows: 2000, pageSize: 4096 }).bytes;
  const reads: [string, Field["type"]][] = [
    ["byte_n", "short"],
    ["byte", "long"],
    ["short_n", "double"],
    ["int_n", "long"],
    ["int", "double"],
    ["int_low_n", "decimal(12,2)"],
    ["long_n", "decimal(20,1)"],
    ["long_low", "decimal(19,0)"],
    ["float_n", "double"],
    ["date_n", "timestamp_ntz"],
    ["dec9_n", "decimal(12,4)"],
    ["dec9_low", "decimal(10,2)"],
    ["dec18_n", "decimal(25,8)"],
    ["dec38_n", "decimal(38,10)"],
    ["str_n", "binary"],
    ["bin_n", "string"],
  ];
  for (const [name, type] of reads) {
    const { fast, reference } = await readBoth(bytes, [{ name, type, nullable: true }]);
    assertSameBatch(fast, reference, `${name} as ${type}`);
  }
});

/** Writes columns with pyarrow and returns the file's bytes. */
async function pyarrowFile(columns: PyColumn[], options: Record<string, unknown>) {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/py.parquet`;
    await parquetTool({
      cmd: "write",
      path,
      columns: columns.map(({ name, type, values, nullable }) => ({
        name,
        type,
        values,
        nullable,
      })),
      options,
    });
    return await Deno.readFile(path);
  } finally {
    await dir.remove();
  }
}

const PY = pyColumns(3000);
const INTEGERS = [
  "i8",
  "u8",
  "i16",
  "u16",
  "i32",
  "i32_req",
  "u32",
  "i64",
  "d",
  "ts_us",
  "ntz",
  "ts_ms",
  "ts_ns",
  "dec9",
  "dec18",
];

const PY_SETTINGS: [string, Record<string, unknown>][] = [
  ["dictionary pages v1, snappy", {}],
  ["dictionary pages v2, zstd, many pages, dictionaries overflowing to PLAIN", {
    data_page_version: "2.0",
    compression: "zstd",
    data_page_size: 512,
    write_batch_size: 100,
    dictionary_pagesize_limit: 1024,
  }],
  ["plain pages v2, gzip, row groups of 700", {
    use_dictionary: false,
    data_page_version: "2.0",
    compression: "gzip",
    row_group_size: 700,
  }],
  ["plain pages v1, uncompressed, many pages", {
    use_dictionary: false,
    compression: "none",
    data_page_size: 1024,
    write_batch_size: 128,
  }],
  ["DELTA_BINARY_PACKED integers, RLE booleans, v2", {
    use_dictionary: false,
    data_page_version: "2.0",
    store_decimal_as_integer: true,
    column_encoding: {
      ...Object.fromEntries(INTEGERS.map((n) => [n, "DELTA_BINARY_PACKED"])),
      b: "RLE",
    },
    data_page_size: 2048,
    write_batch_size: 256,
  }],
  ["DELTA_BINARY_PACKED integers, RLE booleans, v1, brotli", {
    use_dictionary: false,
    compression: "brotli",
    store_decimal_as_integer: true,
    column_encoding: {
      ...Object.fromEntries(INTEGERS.map((n) => [n, "DELTA_BINARY_PACKED"])),
      b: "RLE",
    },
  }],
  ["INT96 timestamps", { use_deprecated_int96_timestamps: true }],
];

for (const [label, options] of PY_SETTINGS) {
  Deno.test(`readColumns decodes what pyarrow writes as hyparquet does (${label})`, async () => {
    const columns = label.startsWith("INT96") ? PY.filter((c) => c.name !== "ntz") : PY;
    const bytes = await pyarrowFile(columns, options);
    const fields = columns.map((c) => ({ name: c.name, type: c.field, nullable: c.nullable }));
    const { fast, reference } = await readBoth(bytes, fields);
    assertSameBatch(fast, reference, label);
    columns.forEach((c, k) => assertEquals(tagColumn(fast, k), c.expect ?? c.values, c.name));
    if (label.startsWith("INT96")) {
      const file = await openParquet(bytesSource(bytes));
      assertEquals(file.columns.find((c) => c.name === "ts_ns")!.element.type, "INT96");
    }
  });
}

Deno.test("readColumns converts INT96 values whose time of day is out of range as hyparquet does", async () => {
  const values = Array.from(
    { length: 64 },
    (_, k) => ({ i: String(BigInt(k) * 86_399_999_999_999n) }),
  );
  const bytes = await pyarrowFile(
    [{ name: "t", type: "timestamp[ns, tz=UTC]", field: "timestamp", nullable: false, values }],
    { use_deprecated_int96_timestamps: true, use_dictionary: false, compression: "none" },
  );
  const file = await openParquet(bytesSource(bytes));
  const meta = file.metadata.row_groups[0]!.columns[0]!.meta_data!;
  assertEquals([meta.type, meta.encodings.includes("PLAIN")], ["INT96", true]);
  const start = Number(meta.data_page_offset);
  const [at, length] = pageOffsets(bytes, start, start + 1)[0]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at + length, 64 * 12);
  for (let k = 0; k < 64; k += 2) {
    // The high word of the nanoseconds: negative, just past 2^47 ns, or huge; and odd days.
    view.setInt32(k * 12 + 4, [-1, 1 << 15, 0x7fffffff, -0x80000000][k % 4]!, true);
    view.setInt32(k * 12 + 8, [0, -1, 0x7fffffff, 2440588][(k >> 1) % 4]!, true);
  }
  const fields: Field[] = [{ name: "t", type: "timestamp", nullable: false }];
  const { fast, reference } = await readBoth(bytes, fields);
  assertSameBatch(fast, reference, "patched INT96");
  assertEquals((fast.columns[0]!.values as BigInt64Array)[1], 86_399_999_999n, "untouched values");
});

Deno.test("readColumns decodes DELTA_BYTE_ARRAY, DELTA_LENGTH_BYTE_ARRAY and BYTE_STREAM_SPLIT as pyarrow writes them", async () => {
  const bytes = await pyarrowFile(PY, {
    use_dictionary: false,
    column_encoding: {
      su: "DELTA_BYTE_ARRAY",
      s: "DELTA_LENGTH_BYTE_ARRAY",
      bin: "DELTA_LENGTH_BYTE_ARRAY",
      fsb: "DELTA_BYTE_ARRAY",
      f64: "BYTE_STREAM_SPLIT",
      f32: "BYTE_STREAM_SPLIT",
      i32: "BYTE_STREAM_SPLIT",
      i64: "BYTE_STREAM_SPLIT",
    },
    row_group_size: 1000,
  });
  const file = await openParquet(bytesSource(bytes));
  const encodings = (name: string) =>
    file.metadata.row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema[0] === name)!
      .meta_data!.encodings;
  assert(encodings("su").includes("DELTA_BYTE_ARRAY"), `su: ${encodings("su")}`);
  assert(encodings("s").includes("DELTA_LENGTH_BYTE_ARRAY"), `s: ${encodings("s")}`);
  assert(encodings("f32").includes("BYTE_STREAM_SPLIT"), `f32: ${encodings("f32")}`);
  const fields = PY.map((c) => ({ name: c.name, type: c.field, nullable: c.nullable }));
  const { fast, reference } = await readBoth(bytes, fields);
  assertSameBatch(fast, reference, "delta and split encodings");
  PY.forEach((c, k) => assertEquals(tagColumn(fast, k), c.expect ?? c.values, c.name));
});

/** The offsets of the pages of a column chunk, and each header's length. */
function pageOffsets(bytes: Uint8Array, start: number, end: number): [number, number][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pages: [number, number][] = [];
  for (let offset = start; offset < end;) {
    const reader = { view, offset };
    const header = parquetHeader(reader);
    pages.push([offset, reader.offset - offset]);
    offset = reader.offset + header.compressed_page_size;
  }
  return pages;
}

Deno.test("readColumns names the file, column and row group of a page in an encoding it does not decode", async () => {
  const batch = ALL;
  const index = batch.fields.findIndex((f) => f.name === "float_n");
  const bytes = encodeParquet(batch, { codec: "UNCOMPRESSED", pageSize: 2048, rowGroupRows: 2500 })
    .bytes.slice();
  const file = await openParquet(bytesSource(bytes));
  const meta = file.metadata.row_groups[0]!.columns[index]!.meta_data!;
  const start = Number(meta.data_page_offset);
  const pages = pageOffsets(bytes, start, start + Number(meta.total_compressed_size));
  assert(pages.length >= 3, `the chunk has ${pages.length} pages`);
  // Turn PLAIN (0) into RLE (3, zigzag 6) in the second page's header: RLE floats do not exist.
  const [at, length] = pages[1]!;
  const header = bytes.subarray(at, at + length);
  const pattern = [0x15, 0x00, 0x15, 0x06, 0x15, 0x06];
  const found = header.findIndex((_, k) => pattern.every((b, j) => header[k + j] === b));
  assert(found > 0, "the header holds the encodings");
  header[found + 1] = 0x06;
  const patched = await openParquet(bytesSource(bytes, "part-3.parquet"));
  await assertRejects(
    () => readColumns(patched, { fields: [batch.fields[index]!] }),
    'Cannot read column "float_n" of part-3.parquet (row group 0): RLE-encoded FLOAT values cannot be decoded',
  );
});

Deno.test("readColumns names the file, column and row group of a corrupt chunk", async () => {
  const batch = neuralBatch(3000);
  const bytes = encodeParquet(batch, { codec: "UNCOMPRESSED", rowGroupRows: 1000 }).bytes.slice();
  const file = await openParquet(bytesSource(bytes));
  const meta = file.metadata.row_groups[1]!.columns[5]!.meta_data!;
  assertEquals(meta.path_in_schema, ["neuron_id"]);
  const start = Number(meta.data_page_offset);
  const [at, length] = pageOffsets(bytes, start, start + 1)[0]!;
  bytes[at + length] = 40; // the bit width of the dictionary indexes
  const corrupt = await openParquet(bytesSource(bytes, "part-7.parquet"));
  await assertRejects(
    () => readColumns(corrupt, { fields: [batch.fields[5]!] }),
    'Cannot read column "neuron_id" of part-7.parquet (row group 1): A bit width of 40 exceeds 32',
  );
});

Deno.test("readColumns decodes every flat column of the Spark and delta-rs fixture tables itself", async () => {
  const paths = dataFiles();
  assert(paths.length > 50, `found ${paths.length} files`);
  let chunks = 0;
  for (const path of paths) {
    const bytes = await Deno.readFile(path);
    const file = await openParquet(bytesSource(bytes, path));
    const fields = file.columns.filter((c) => !c.nested && c.kind.type).map((c) => ({
      name: c.name,
      type: c.kind.type!,
      nullable: true,
    }));
    const { fast, reference } = await readBoth(bytes, fields);
    chunks += fields.length * file.metadata.row_groups.length;
    assertSameBatch(fast, reference, path);
  }
  assert(chunks > 150, `${chunks} chunks were read`);
});

Deno.test("readColumns reads exactly the wanted chunks of the selected row groups, adjacent ones at once", async () => {
  const batch = neuralBatch(30_000, { neurons: 100 });
  const bytes = encodeParquet(batch, { rowGroupRows: 10_000 }).bytes;
  const source = recordingSource(bytes);
  const file = await openParquet(source);
  source.reads.length = 0;
  const wanted = [1, 2, 3, 9];
  const read = await readColumns(file, {
    fields: wanted.map((c) => batch.fields[c]!),
    rowGroups: [0, 2],
  });
  assertEquals(read.length, 20_000);
  const span = (g: number, c: number) => {
    const meta = file.metadata.row_groups[g]!.columns[c]!.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    return [start, start + Number(meta.total_compressed_size)];
  };
  const expected = [0, 2].flatMap((g) => [[span(g, 1)[0], span(g, 3)[1]], span(g, 9)]);
  assertEquals(source.reads.sort((a, b) => a[0]! - b[0]!), expected);
  assertEquals(
    read.columns[3]!.values,
    Float32Array.from([
      ...(batch.columns[9]!.values as Float32Array).subarray(0, 10_000),
      ...(batch.columns[9]!.values as Float32Array).subarray(20_000),
    ]),
  );
});
