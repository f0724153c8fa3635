/**
 * encodeParquet: every value round-trips exactly through pyarrow (and
 * delta-rs), the footer types are the ones Spark writes, and the statistics
 * are exact.
 */

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import {
  floatHex,
  hex,
  parquetTool,
  sortedRows,
  tagColumn,
  type Tagged,
} from "../_helpers/pyarrow.ts";
import type { ColumnBatch } from "../../src/columnar/batch.ts";
import { DECOMPRESSORS, snappyLiteral } from "../../src/parquet/codecs.ts";
import { type Codec, encodeParquet, ParquetFileBuilder } from "../../src/parquet/encode.ts";
import { compareStatValues, type StatValue } from "../../src/parquet/stats.ts";
import { edgeBatch, neuralBatch, tempDir } from "./_fixtures.ts";

async function pyRead(bytes: Uint8Array) {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/file.parquet`;
    await Deno.writeFile(path, bytes);
    return await parquetTool({ cmd: "read", path });
  } finally {
    await dir.remove();
  }
}

function assertSameColumns(batch: ColumnBatch, read: { columns: Record<string, Tagged[]> }) {
  batch.fields.forEach((field, i) => {
    assertEquals(read.columns[field.name], tagColumn(batch, i), `column ${field.name}`);
  });
}

/** Exact statistics computed the slow, obvious way. */
function expectedStats(batch: ColumnBatch, index: number) {
  const column = batch.columns[index]!;
  const values = column.values as ArrayLike<unknown>;
  const type = batch.fields[index]!.type;
  let nullCount = 0;
  let nanCount = 0;
  let min: StatValue | undefined;
  let max: StatValue | undefined;
  for (let i = 0; i < batch.length; i++) {
    if (column.nulls?.[i]) {
      nullCount++;
      continue;
    }
    let v = values[i] as StatValue;
    if (type === "boolean") v = v === 1;
    if (typeof v === "number" && Number.isNaN(v)) {
      nanCount++;
      continue;
    }
    if (min === undefined || compareStatValues(v, min) < 0) min = v;
    if (max === undefined || compareStatValues(v, max) > 0) max = v;
  }
  const float = type === "float" || type === "double";
  return { nullCount, min, max, ...(float ? { nanCount } : {}) };
}

Deno.test("encodeParquet writes every primitive type so that pyarrow reads back the exact values", async () => {
  const batch = edgeBatch();
  const file = encodeParquet(batch);
  const read = await pyRead(file.bytes);
  assertEquals(read.num_rows, batch.length);
  assertSameColumns(batch, read);
});

Deno.test("encodeParquet maps our types to the Parquet types Spark and delta-rs expect", async () => {
  const read = await pyRead(encodeParquet(edgeBatch()).bytes);
  const byName = Object.fromEntries(
    read.parquet_schema.map((c: { path: string }) => [c.path, c]),
  );
  const expect = (
    name: string,
    physical: string,
    logical: string,
    extra: Record<string, unknown> = {},
  ) => {
    const c = byName[name];
    assertEquals(
      {
        physical: c.physical_type,
        logical: c.logical_type,
        ...Object.fromEntries(Object.keys(extra).map((k) => [k, c[k]])),
      },
      { physical, logical, ...extra },
      name,
    );
  };
  expect("b", "INT32", "Int(bitWidth=8, isSigned=true)");
  expect("s", "INT32", "Int(bitWidth=16, isSigned=true)");
  expect("i", "INT32", "None");
  expect("l", "INT64", "None");
  expect("f", "FLOAT", "None");
  expect("d", "DOUBLE", "None");
  expect("bool", "BOOLEAN", "None");
  expect("str", "BYTE_ARRAY", "String");
  expect("bin", "BYTE_ARRAY", "None");
  expect("date", "INT32", "Date");
  expect(
    "ts",
    "INT64",
    "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, is_from_converted_type=false, force_set_converted_type=false)",
  );
  expect(
    "ntz",
    "INT64",
    "Timestamp(isAdjustedToUTC=false, timeUnit=microseconds, is_from_converted_type=false, force_set_converted_type=false)",
  );
  expect("dec9", "INT32", "Decimal(precision=9, scale=2)");
  expect("dec18", "INT64", "Decimal(precision=18, scale=6)");
  expect("dec38", "FIXED_LEN_BYTE_ARRAY", "Decimal(precision=38, scale=10)", { length: 16 });
  expect("dec20", "FIXED_LEN_BYTE_ARRAY", "Decimal(precision=20, scale=0)", { length: 9 });
  assertEquals(byName["s"].max_definition_level, 0, "a non-nullable field is REQUIRED");
  assertEquals(byName["b"].max_definition_level, 1, "a nullable field is OPTIONAL");
  const arrow = Object.fromEntries(
    read.schema.map((f: { name: string; type: string }) => [f.name, f.type]),
  );
  assertEquals(arrow["ts"], "timestamp[us, tz=UTC]");
  assertEquals(arrow["ntz"], "timestamp[us]");
});

Deno.test("encodeParquet returns exact statistics, with NaN counted and never a bound", () => {
  const batch = edgeBatch();
  const file = encodeParquet(batch);
  batch.fields.forEach((field, i) => {
    assertEquals(file.columns[i], expectedStats(batch, i), `stats of ${field.name}`);
  });
  // Spot checks of what the slow path computes, so a shared bug cannot hide.
  assertEquals(file.columns[3]!.min, -(2n ** 63n));
  assertEquals(file.columns[4]!.nanCount, 1);
  assertEquals(file.columns[4]!.min, -Infinity);
  assertEquals(file.columns[7]!.max, "😀 emoji", "a supplementary character sorts after U+FFFF");
  assertEquals(file.columns[14]!.min, -(10n ** 38n - 1n));
});

Deno.test("encodeParquet writes footer statistics that pyarrow reads as exact, untruncated bounds", async () => {
  const batch = edgeBatch();
  const read = await pyRead(encodeParquet(batch).bytes);
  const columns = read.metadata.row_groups[0].columns;
  const stat = (name: string) => columns.find((c: { path: string }) => c.path === name).stats;
  assertEquals(stat("str").min, { b: "" });
  assertEquals(stat("str").max, { b: hex(new TextEncoder().encode("😀 emoji")) });
  assertEquals(stat("str").null_count, 1);
  assertEquals(stat("l").min, { i: String(-(2n ** 63n)) });
  assertEquals(stat("f").min, { f: floatHex(-Infinity) });
  assertEquals(stat("d").min, { f: floatHex(-Number.MAX_VALUE) });
  assertEquals(stat("bool").max, true);
  assertEquals(stat("bin").max, { b: "ff" });
  const long = neuralBatch(10);
  long.columns[1] = { values: Array.from({ length: 10 }, (_, i) => `${"x".repeat(40)}-${i}`) };
  const longRead = await pyRead(encodeParquet(long).bytes);
  const session = longRead.metadata.row_groups[0].columns[1].stats;
  assertEquals(session.max, { b: hex(new TextEncoder().encode(`${"x".repeat(40)}-9`)) });
});

Deno.test("encodeParquet writes zero rows and one row", async () => {
  const empty = neuralBatch(0);
  const file = encodeParquet(empty);
  const read = await pyRead(file.bytes);
  assertEquals(read.num_rows, 0);
  assertEquals(read.schema.length, 10);
  assertEquals(file.columns[0], { nullCount: 0 });
  const one = neuralBatch(1);
  const oneFile = encodeParquet(one);
  assertSameColumns(one, await pyRead(oneFile.bytes));
  assertEquals(oneFile.columns[0]!.min, oneFile.columns[0]!.max);
});

for (const codec of ["SNAPPY", "UNCOMPRESSED", "ZSTD", "GZIP"] as Codec[]) {
  Deno.test(`encodeParquet with ${codec} splits row groups and pages that pyarrow reads back`, async () => {
    const batch = neuralBatch(5000, { neurons: 100 });
    // Nulls in a dictionary column and in a plain column, across page cuts.
    const nulls = new Uint8Array(batch.length);
    for (let i = 0; i < batch.length; i += 3) nulls[i] = 1;
    batch.fields[4] = { ...batch.fields[4]!, nullable: true };
    batch.fields[8] = { ...batch.fields[8]!, nullable: true };
    batch.columns[4] = { ...batch.columns[4]!, nulls };
    batch.columns[8] = { ...batch.columns[8]!, nulls };
    const file = encodeParquet(batch, {
      codec,
      rowGroupRows: 1800,
      pageSize: 1024,
      zstdMinChunkBytes: 0,
    });
    const read = await pyRead(file.bytes);
    assertSameColumns(batch, read);
    assertEquals(read.metadata.row_groups.map((g: { num_rows: number }) => g.num_rows), [
      1800,
      1800,
      1400,
    ]);
    const first = read.metadata.row_groups[0].columns;
    assertEquals(first[0].compression, codec);
    assertEquals(
      first[0].encodings.includes("DELTA_BINARY_PACKED"),
      true,
      "timestamps are delta encoded",
    );
    assertEquals(first[4].has_dictionary_page, true, "region is dictionary encoded");
    assertEquals(first[6].encodings.includes("PLAIN"), true, "voltage is plain");
    batch.fields.forEach((_, i) => assertEquals(file.columns[i], expectedStats(batch, i)));
  });
}

Deno.test("under ZSTD, chunks below zstdMinChunkBytes are SNAPPY and the rest ZSTD, all read back", async () => {
  // 5,000 rows: the 20 KB voltage chunk is ZSTD, the dictionary-encoded ids are small.
  const batch = neuralBatch(5000);
  const read = await pyRead(encodeParquet(batch, { zstdMinChunkBytes: 16 * 1024 }).bytes);
  const chunks = read.metadata.row_groups[0].columns as { compression: string }[];
  const codecOf = (name: string) => chunks[batch.fields.findIndex((f) => f.name === name)]!;
  assertEquals(codecOf("voltage_uv").compression, "ZSTD");
  assertEquals(codecOf("region").compression, "SNAPPY");
  assertSameColumns(batch, read);
});

Deno.test("encodeParquet writes PLAIN timestamps when asked", async () => {
  const batch = neuralBatch(300);
  const read = await pyRead(encodeParquet(batch, { timestampEncoding: "PLAIN" }).bytes);
  assertEquals(
    read.metadata.row_groups[0].columns[0].encodings.includes("DELTA_BINARY_PACKED"),
    false,
  );
  assertSameColumns(batch, read);
});

Deno.test("encodeParquet writes BYTE_STREAM_SPLIT floats and doubles that pyarrow reads back exactly", async () => {
  // Nulls, NaN, signed zeros, infinities and extremes, over several pages.
  const batch = edgeBatch();
  for (const codec of ["ZSTD", "SNAPPY", "UNCOMPRESSED"] as Codec[]) {
    const bytes = encodeParquet(batch, { codec, floatEncoding: "BYTE_STREAM_SPLIT", pageSize: 16 })
      .bytes;
    const read = await pyRead(bytes);
    const chunks = read.metadata.row_groups[0].columns as { encodings: string[] }[];
    batch.fields.forEach((f, i) => {
      const split = chunks[i]!.encodings.includes("BYTE_STREAM_SPLIT");
      assertEquals(split, f.type === "float" || f.type === "double", `${codec} ${f.name}`);
    });
    assertSameColumns(batch, read);
  }
});

Deno.test("BYTE_STREAM_SPLIT pages hold byte k of every value, then byte k + 1", () => {
  const values = new Float32Array([1.5, -2.25, 3e-39]);
  const raw = new Uint8Array(values.buffer);
  const batch = {
    length: 3,
    fields: [{ name: "v", type: "float" as const, nullable: false }],
    columns: [{ values }],
  };
  const bytes = encodeParquet(batch, { codec: "UNCOMPRESSED", floatEncoding: "BYTE_STREAM_SPLIT" })
    .bytes;
  const split = Uint8Array.from({ length: 12 }, (_, j) => raw[(j % 3) * 4 + Math.floor(j / 3)]!);
  const at = bytes.findIndex((_, i) => split.every((b, k) => bytes[i + k] === b));
  assert(at > 0, "the page body is the values' bytes, stream by stream");
});

Deno.test("encodeParquet delta-encodes timestamps that need all 64 bits", async () => {
  const n = 1000;
  const values = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    values[i] = i % 3 === 0
      ? -(2n ** 63n) + BigInt(i)
      : i % 3 === 1
      ? 2n ** 63n - BigInt(i)
      : BigInt(i) << 40n;
  }
  const wide = {
    length: n,
    fields: [{ name: "t", type: "timestamp" as const, nullable: false }],
    columns: [{ values }],
  };
  assertSameColumns(wide, await pyRead(encodeParquet(wide).bytes));
  // Deltas of up to 52 bits take the exact-double path with wide miniblocks.
  for (let i = 0; i < n; i++) values[i] = BigInt(Math.floor(Math.sin(i) * 2 ** 50));
  assertSameColumns(wide, await pyRead(encodeParquet(wide).bytes));
});

Deno.test("encodeParquet output is read by delta-rs as the same rows", async () => {
  const dir = await tempDir();
  try {
    for (const batch of [neuralBatch(3000), edgeBatch()]) {
      const path = `${dir.path}/part.parquet`;
      await Deno.writeFile(path, encodeParquet(batch, { rowGroupRows: 1000 }).bytes);
      const read = await parquetTool({ cmd: "delta_rs", path });
      const tagged = batch.fields.map((_, c) => tagColumn(batch, c));
      const expected = Array.from(
        { length: batch.length },
        (_, r) => Object.fromEntries(batch.fields.map((f, c) => [f.name, tagged[c]![r]!])),
      );
      assertEquals(sortedRows(read.rows), sortedRows(expected));
    }
  } finally {
    await dir.remove();
  }
});

Deno.test("encodeParquet refuses values that do not fit their column", () => {
  const batch = neuralBatch(20);
  const nulls = new Uint8Array(20);
  nulls[5] = 1;
  batch.columns[5] = { ...batch.columns[5]!, nulls };
  assertThrows(
    () => encodeParquet(batch),
    'Cannot write column "neuron_id": it is not nullable, but row 5 is null',
  );
  const small = (type: "byte" | "short", value: number) => ({
    length: 1,
    fields: [{ name: "x", type, nullable: false }],
    columns: [{ values: new Int32Array([value]) }],
  });
  assertThrows(
    () => encodeParquet(small("byte", 128)),
    "value 128 is outside the byte range -128..127",
  );
  assertThrows(() => encodeParquet(small("short", -32769)), "outside the short range");
  assertThrows(
    () =>
      encodeParquet({
        length: 1,
        fields: [{ name: "d", type: "decimal(5,2)", nullable: false }],
        columns: [{ values: [100000n] }],
      }),
    'Cannot write column "d": value 100000 does not fit decimal(5,2)',
  );
  assertThrows(
    () =>
      encodeParquet({
        length: 1,
        fields: [{ name: "l", type: "long", nullable: false }],
        columns: [{ values: new Int32Array(1) }],
      }),
    'Cannot encode column "l": long values must be a BigInt64Array, got Int32Array',
  );
  assertThrows(
    () => encodeParquet(neuralBatch(1), { rowGroupRows: 0 }),
    "rowGroupRows must be a positive integer",
  );
});

Deno.test("encodeParquet writes the created_by it is given", async () => {
  const read = await pyRead(
    encodeParquet(neuralBatch(2), { createdBy: "neuralake version 9.9" }).bytes,
  );
  assertEquals(read.metadata.created_by, "neuralake version 9.9");
  assert(read.metadata.row_groups.length === 1);
});

Deno.test("snappy pages that do not compress are stored as valid literal streams", async () => {
  for (const n of [0, 1, 59, 60, 61, 300, 70_000]) {
    const input = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
    const packed = snappyLiteral(input);
    assertEquals(DECOMPRESSORS.SNAPPY!(packed, n), input, `${n} bytes`);
  }
  // Random float samples, as in the neural voltage column: a 320 KB page.
  const n = 40_000;
  const values = new Float64Array(n);
  let seed = 7;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    values[i] = seed / 7.3 - 1e8;
  }
  const batch = {
    length: n,
    fields: [{ name: "v", type: "double" as const, nullable: false }],
    columns: [{ values }],
  };
  const bytes = encodeParquet(batch, { codec: "SNAPPY" }).bytes;
  assert(bytes.length > n * 8, "the page was stored, not compressed");
  assertSameColumns(batch, await pyRead(bytes));
});

Deno.test("encodeParquet reuses its output buffer without leaking one file's bytes into the next", () => {
  // A large file first, so that the buffer the next ones are built in holds
  // its bytes; then smaller and different files of every codec. Each must
  // be the file a fresh buffer gives, and must stay intact after later calls.
  const files: { bytes: Uint8Array; copy: Uint8Array }[] = [];
  const batches = [neuralBatch(60_000), edgeBatch(), neuralBatch(5_000, { tick0: 9 })];
  for (const codec of ["ZSTD", "SNAPPY", "GZIP", "UNCOMPRESSED"] as Codec[]) {
    for (const batch of batches) {
      const bytes = encodeParquet(batch, { codec }).bytes;
      const fresh = new ParquetFileBuilder(batch.fields, { codec }, 1024);
      fresh.writeBatch(batch);
      assertEquals(bytes, fresh.finish().bytes, `${codec}, ${batch.length} rows`);
      files.push({ bytes, copy: bytes.slice() });
    }
  }
  for (const { bytes, copy } of files) assertEquals(bytes, copy);
});
