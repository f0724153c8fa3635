/**
 * openParquet and readColumns: files that pyarrow and Spark wrote are read
 * exactly, with projection, row-group skipping, schema evolution and type
 * widening, and statistics decoded to our representations.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { parquetTool, tagColumn, type Tagged } from "../_helpers/pyarrow.ts";
import {
  allocateValues,
  type Column,
  concatBatches,
  type Field,
} from "../../src/columnar/batch.ts";
import {
  bytesSource,
  openParquet,
  readColumns,
  readColumnsInto,
} from "../../src/parquet/decode.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { neuralBatch, recordingSource, tempDir } from "./_fixtures.ts";
import { filesUnder, fixturePath } from "../_helpers/fixtures.ts";

const I64 = (v: bigint): Tagged => ({ i: String(v) });
const N = (v: number): Tagged => ({ i: String(v) });

/** Columns for pyarrow to write, with the field we read each as and the expected values. */
const COLUMNS: {
  name: string;
  type: string;
  field: Field["type"];
  values: Tagged[];
  expect?: Tagged[];
}[] = [
  { name: "i8", type: "int8", field: "byte", values: [N(-128), N(127), null, N(0)] },
  { name: "i16", type: "int16", field: "short", values: [N(-32768), N(32767), N(1), null] },
  {
    name: "i32",
    type: "int32",
    field: "integer",
    values: [N(-2147483648), N(2147483647), null, N(3)],
  },
  {
    name: "i64",
    type: "int64",
    field: "long",
    values: [I64(-(2n ** 63n)), I64(2n ** 63n - 1n), I64(2n ** 53n + 1n), null],
  },
  { name: "u8", type: "uint8", field: "short", values: [N(0), N(255), null, N(7)] },
  { name: "u16", type: "uint16", field: "integer", values: [N(0), N(65535), N(1), null] },
  {
    name: "u32",
    type: "uint32",
    field: "long",
    values: [N(0), N(4294967295), N(2147483648), null],
  },
  {
    name: "f32",
    type: "float32",
    field: "float",
    values: [{ f: "nan" }, null, { f: "0000000000000080" }, { f: "000000000000f07f" }],
  },
  {
    name: "f64",
    type: "float64",
    field: "double",
    values: [{ f: "9a9999999999b93f" }, { f: "nan" }, null, { f: "0000000000000080" }],
  },
  { name: "b", type: "bool", field: "boolean", values: [true, false, null, true] },
  {
    name: "s",
    type: "string",
    field: "string",
    values: [{ s: "" }, { s: "日本😀" }, null, { s: "x".repeat(100) }],
  },
  {
    name: "bin",
    type: "binary",
    field: "binary",
    values: [{ b: "" }, { b: "00ff" }, null, { b: "80" }],
  },
  {
    name: "fsb",
    type: "fixed_size_binary[4]",
    field: "binary",
    values: [{ b: "00010203" }, null, { b: "ffffffff" }, { b: "00000000" }],
  },
  { name: "d", type: "date32", field: "date", values: [N(-719162), N(2932896), null, N(0)] },
  {
    name: "ts_us",
    type: "timestamp[us, tz=UTC]",
    field: "timestamp",
    values: [I64(-62135596800000000n), I64(253402300799999999n), null, I64(1700000000123456n)],
  },
  {
    name: "ntz",
    type: "timestamp[us]",
    field: "timestamp_ntz",
    values: [I64(-1n), I64(0n), null, I64(1n)],
  },
  {
    name: "ts_ms",
    type: "timestamp[ms, tz=UTC]",
    field: "timestamp",
    values: [I64(-1n), I64(1700000000123n), null, I64(0n)],
    expect: [I64(-1000n), I64(1700000000123000n), null, I64(0n)],
  },
  {
    name: "ts_ns",
    type: "timestamp[ns, tz=UTC]",
    field: "timestamp",
    values: [I64(-1500n), I64(1700000000123456789n), null, I64(999n)],
    expect: [I64(-2n), I64(1700000000123456n), null, I64(0n)],
  },
  {
    name: "dec9",
    type: "decimal128(9, 2)",
    field: "decimal(9,2)",
    values: [{ d: "999999999" }, { d: "-999999999" }, null, { d: "0" }],
  },
  {
    name: "dec18",
    type: "decimal128(18, 3)",
    field: "decimal(18,3)",
    values: [{ d: "999999999999999999" }, { d: "-9007199254740993" }, null, { d: "1" }],
  },
  {
    name: "dec38",
    type: "decimal128(38, 10)",
    field: "decimal(38,10)",
    values: [{ d: String(10n ** 38n - 1n) }, { d: String(-(10n ** 38n - 1n)) }, null, { d: "-1" }],
  },
];

async function writeWithPyarrow(
  dir: string,
  options: Record<string, unknown>,
  name = "py.parquet",
) {
  const path = `${dir}/${name}`;
  await parquetTool({
    cmd: "write",
    path,
    columns: COLUMNS.map(({ name, type, values }) => ({ name, type, values })),
    options,
  });
  return path;
}

const fields: Field[] = COLUMNS.map((c) => ({ name: c.name, type: c.field, nullable: true }));

for (
  const [label, options] of [
    ["dictionary pages v1", {
      use_dictionary: true,
      data_page_version: "1.0",
      compression: "snappy",
    }],
    ["plain pages v2", { use_dictionary: false, data_page_version: "2.0", compression: "zstd" }],
    ["gzip, integer decimals", { compression: "gzip", store_decimal_as_integer: true }],
    ["brotli, row groups of 3", { compression: "brotli", row_group_size: 3 }],
    ["no compression", { compression: "none" }],
  ] as const
) {
  Deno.test(`readColumns reads every type pyarrow writes (${label}) exactly`, async () => {
    const dir = await tempDir();
    try {
      const path = await writeWithPyarrow(dir.path, options);
      const file = await openParquet(bytesSource(await Deno.readFile(path), "py.parquet"));
      const batch = await readColumns(file, { fields });
      assertEquals(batch.length, 4);
      COLUMNS.forEach((c, i) => assertEquals(tagColumn(batch, i), c.expect ?? c.values, c.name));
    } finally {
      await dir.remove();
    }
  });
}

Deno.test("readColumns converts Spark's INT96 timestamps to microseconds", async () => {
  const dir = await tempDir();
  try {
    const path = await writeWithPyarrow(dir.path, { use_deprecated_int96_timestamps: true });
    const file = await openParquet(bytesSource(await Deno.readFile(path), "int96.parquet"));
    assertEquals(file.columns.find((c) => c.name === "ts_us")!.element.type, "INT96");
    const batch = await readColumns(file, {
      fields: [{ name: "ts_us", type: "timestamp", nullable: true }],
    });
    assertEquals(tagColumn(batch, 0), COLUMNS.find((c) => c.name === "ts_us")!.values);
    // Spark writes timestamps as INT96 by default: 1900, just before 1970 and 9999-12-31.
    const [spark] = filesUnder(/\.parquet$/, fixturePath("spark_timestamp_ntz"));
    const sparkFile = await openParquet(bytesSource(await Deno.readFile(spark!), "spark.parquet"));
    assertEquals(sparkFile.columns.find((c) => c.name === "utc")!.element.type, "INT96");
    const sparkBatch = await readColumns(sparkFile, {
      fields: [{ name: "utc", type: "timestamp", nullable: true }],
    });
    const read = await parquetTool({ cmd: "read", path: spark! });
    assertEquals(tagColumn(sparkBatch, 0), read.columns.utc);
    const ids = (await readColumns(sparkFile, {
      fields: [{ name: "id", type: "long", nullable: true }],
    })).columns[0]!.values as BigInt64Array;
    const byId = new Map([...ids].map((id, i) => [Number(id), sparkBatch.columns[0]!.values[i]]));
    assertEquals(byId.get(4), 253402300799999999n, "9999-12-31T23:59:59.999999 stays exact");
    assertEquals(byId.get(3), -2208988800000000n, "1900-01-01 stays exact");
  } finally {
    await dir.remove();
  }
});

Deno.test("readColumns projects, fills missing columns with nulls and widens types", async () => {
  const batch = neuralBatch(500);
  const file = await openParquet(bytesSource(encodeParquet(batch).bytes, "part-0.parquet"));
  const read = await readColumns(file, {
    fields: [
      { name: "neuron_id", type: "long", nullable: true },
      { name: "added_later", type: "string", nullable: true },
      { name: "voltage_uv", type: "double", nullable: true },
      { name: "neuron_id", type: "double", nullable: true },
    ].slice(0, 3) as Field[],
  });
  assertEquals(read.fields.map((f) => f.name), ["neuron_id", "added_later", "voltage_uv"]);
  const ids = batch.columns[5]!.values as Int32Array;
  assertEquals(read.columns[0]!.values, BigInt64Array.from(ids, (v) => BigInt(v)));
  assertEquals(read.columns[1]!.nulls, new Uint8Array(500).fill(1));
  assertEquals(
    read.columns[2]!.values,
    Float64Array.from(batch.columns[6]!.values as Float32Array),
  );
  const widened = await readColumns(file, {
    fields: [
      { name: "neuron_id", type: "double", nullable: true },
      { name: "neuron_id2", type: "decimal(12,2)", nullable: true },
    ],
  });
  assertEquals(widened.columns[0]!.values, Float64Array.from(ids));
  const dates = {
    length: 2,
    fields: [
      { name: "d", type: "date" as const, nullable: false },
      { name: "i", type: "integer" as const, nullable: false },
      { name: "m", type: "decimal(5,2)" as const, nullable: false },
    ],
    columns: [{ values: new Int32Array([-1, 1]) }, { values: new Int32Array([-7, 7]) }, {
      values: [-12345n, 99999n],
    }],
  };
  const dateFile = await openParquet(bytesSource(encodeParquet(dates).bytes, "d.parquet"));
  const evolved = await readColumns(dateFile, {
    fields: [
      { name: "d", type: "timestamp_ntz", nullable: false },
      { name: "i", type: "decimal(12,2)", nullable: false },
      { name: "m", type: "decimal(10,4)", nullable: false },
    ],
  });
  assertEquals(evolved.columns[0]!.values, new BigInt64Array([-86_400_000_000n, 86_400_000_000n]));
  assertEquals(evolved.columns[1]!.values, [-700n, 700n]);
  assertEquals(evolved.columns[2]!.values, [-1234500n, 9999900n]);
});

Deno.test("readColumnsInto decodes file after file into columns the caller owns, nulls where a file lacks a column", async () => {
  const a = neuralBatch(300, { tick0: 0 });
  const b = neuralBatch(200, { tick0: 300 });
  const narrow = { ...b, fields: b.fields.slice(0, 4), columns: b.columns.slice(0, 4) };
  const files = [
    await openParquet(bytesSource(encodeParquet(a).bytes, "a.parquet")),
    await openParquet(bytesSource(encodeParquet(narrow).bytes, "b.parquet")),
  ];
  const fields = a.fields.map((f) => ({ ...f, nullable: true }));
  const length = 600;
  const columns: Column[] = fields.map((f) => ({ values: allocateValues(f.type, length) }));
  let at = 50;
  for (const file of files) at += await readColumnsInto(file, { fields }, { columns, length, at });
  assertEquals(at, 550);
  const whole = concatBatches([a, b]);
  fields.forEach((field, c) => {
    const got = tagColumn({ fields, columns, length }, c).slice(50, 550);
    const want = tagColumn(whole, c);
    if (c < 4) assertEquals(got, want, field.name);
    else {
      assertEquals(got.slice(0, 300), want.slice(0, 300), field.name);
      assertEquals(got.slice(300), new Array(200).fill(null), `${field.name} of b.parquet is null`);
    }
    assertEquals(columns[c]!.nulls?.subarray(0, 50).includes(1) ?? false, false);
  });
  await assertRejects(
    () => readColumnsInto(files[0]!, { fields }, { columns, length, at: 400 }),
    "Cannot read 300 rows of a.parquet into rows 400..",
  );
});

Deno.test("readColumns refuses a column it cannot convert, naming the column and both types", async () => {
  const file = await openParquet(
    bytesSource(encodeParquet(neuralBatch(10)).bytes, "part-0001.parquet"),
  );
  await assertRejects(
    () => readColumns(file, { fields: [{ name: "timestamp_us", type: "date", nullable: true }] }),
    'Cannot read column "timestamp_us" of part-0001.parquet as date: the file stores it as INT64 TIMESTAMP(MICROS, UTC) (timestamp)',
  );
  await assertRejects(
    () => readColumns(file, { fields: [{ name: "batch_seq", type: "integer", nullable: true }] }),
    "as integer: the file stores it as INT64 (long)",
  );
  await assertRejects(
    () =>
      readColumns(file, {
        fields: [{ name: "voltage_uv", type: "decimal(10,2)", nullable: true }],
      }),
    'Cannot read column "voltage_uv" of part-0001.parquet as decimal(10,2)',
  );
});

Deno.test("readColumns skips row groups by their statistics and reads only wanted column chunks", async () => {
  const batch = neuralBatch(60_000, { neurons: 100 });
  const bytes = encodeParquet(batch, { rowGroupRows: 20_000, codec: "UNCOMPRESSED" }).bytes;
  const source = recordingSource(bytes);
  const file = await openParquet(source);
  assertEquals(file.rowGroups.map((g) => [g.rowStart, g.numRows]), [[0, 20000], [20000, 20000], [
    40000,
    20000,
  ]]);
  const ts = batch.columns[0]!.values as BigInt64Array;
  const cutoff = ts[40_000]!;
  source.reads.length = 0;
  const read = await readColumns(file, {
    fields: [{ name: "timestamp_us", type: "timestamp", nullable: false }, {
      name: "snr",
      type: "float",
      nullable: false,
    }],
    rowGroupFilter: (g) => (g.stats.timestamp_us!.max as bigint) >= cutoff,
  });
  assertEquals(read.length, 20_000);
  assertEquals(read.columns[0]!.values, ts.subarray(40_000));
  assertEquals(
    read.columns[1]!.values,
    (batch.columns[9]!.values as Float32Array).subarray(40_000),
  );
  // Every byte read lies inside the wanted chunks of the last row group.
  const chunks = file.metadata.row_groups[2]!.columns.filter((c) =>
    ["timestamp_us", "snr"].includes(c.meta_data!.path_in_schema[0]!)
  ).map((
    c,
  ) => [
    Number(c.meta_data!.data_page_offset),
    Number(c.meta_data!.data_page_offset + c.meta_data!.total_compressed_size),
  ]);
  for (const [start, end] of source.reads) {
    assert(
      chunks.some(([s, e]) => start >= s! && end <= e!),
      `read ${start}..${end} is outside the wanted chunks ${JSON.stringify(chunks)}`,
    );
  }
  const voltage = file.metadata.row_groups[2]!.columns[6]!.meta_data!;
  assert(
    Number(voltage.total_compressed_size) > 50_000,
    "the skipped column is large enough to tell",
  );
  const picked = await readColumns(file, { fields: [batch.fields[5]!], rowGroups: [1] });
  assertEquals(
    picked.columns[0]!.values,
    (batch.columns[5]!.values as Int32Array).subarray(20_000, 40_000),
  );
  await assertRejects(
    () => readColumns(file, { fields: [batch.fields[5]!], rowGroups: [3] }),
    "it has 3 row groups",
  );
});

Deno.test("openParquet decodes footer statistics exactly, including what pyarrow wrote", async () => {
  const dir = await tempDir();
  try {
    const path = await writeWithPyarrow(dir.path, { store_decimal_as_integer: true });
    const file = await openParquet(bytesSource(await Deno.readFile(path), "py.parquet"));
    const stats = file.rowGroups[0]!.stats;
    assertEquals(stats.dec18!.min, -9007199254740993n);
    assertEquals(stats.dec18!.max, 999999999999999999n);
    assertEquals(stats.dec38!.max, 10n ** 38n - 1n);
    assertEquals(stats.ts_ms!.max, 1700000000123000n, "milliseconds become microseconds");
    assertEquals(stats.ts_ns!.min, -2n, "nanoseconds floor to microseconds");
    assertEquals(stats.s!.max, "日本😀");
    assertEquals(stats.s!.min, "");
    assertEquals(stats.i64!.min, -(2n ** 63n));
    assertEquals(stats.u32!.max, 4294967295);
    assertEquals(stats.b!.nullCount, 1);
    assertEquals(stats.d!.min, -719162);
    assertEquals(file.numRows, 4);
    assertEquals(
      file.columns.map((c) => c.kind.type),
      COLUMNS.map((c) => c.field === "short" && c.type === "uint8" ? "short" : c.field),
    );
  } finally {
    await dir.remove();
  }
});

Deno.test("openParquet refuses bytes that are not Parquet", async () => {
  await assertRejects(
    () => openParquet(bytesSource(new TextEncoder().encode("hello, this is not parquet"), "x.txt")),
    "Cannot read x.txt: it does not end with the Parquet magic PAR1",
  );
  await assertRejects(() => openParquet(bytesSource(new Uint8Array(5), "tiny")), "too short");
});
