/**
 * The record reader (typed-array leaves, assembled from levels) gives what
 * pyarrow gives, on checkpoints written by Spark and delta-rs (see also
 * nested_test.ts) and on nested records with null structs, empty and null
 * maps, null map values and lists; skipped fields are never read.
 */

import { openParquet, type ParquetFile } from "../../src/parquet/decode.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { encodeRecords, type NestedField } from "../../src/parquet/nested.ts";
import { readRecordColumns, readRecords } from "../../src/parquet/records.ts";
import { stringHash } from "../../src/util/string_hash.ts";
import { parquetHeader } from "../../src/parquet/_hyparquet.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonical, parquetTool, type Tagged, tagNested } from "../_helpers/pyarrow.ts";
import { logParquetFiles } from "../_helpers/fixtures.ts";

function tagRecords(file: ParquetFile, records: Record<string, unknown>[], columns: string[]) {
  return records.map((r) =>
    Object.fromEntries(
      columns.map((name) => {
        const tree = file.schema.children.find((c) => c.element.name === name)!;
        return [name, tagNested(r[name], tree)];
      }),
    )
  );
}

/** Compares our records of `columns` with pyarrow's rows of the same bytes. */
async function compare(bytes: Uint8Array, name: string, columns: string[]) {
  const file = await openParquet(bytesSource(bytes, name));
  const ours = tagRecords(file, await readRecords(file, columns), columns);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/records.parquet`;
    await Deno.writeFile(path, bytes);
    const py = (await parquetTool({ cmd: "rows", path })).rows as Record<string, Tagged>[];
    assertEquals(ours.length, py.length, name);
    for (let i = 0; i < py.length; i++) {
      const want = Object.fromEntries(columns.map((c) => [c, py[i]![c] ?? null]));
      assertEquals(canonical(ours[i]), canonical(want), `${name} row ${i}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readRecords() with skipFields reads every fixture checkpoint as without, less those fields", async () => {
  let checked = 0;
  const skip = ["stats_parsed", "partitionValues_parsed"];
  for (const path of logParquetFiles()) {
    const name = path.slice(path.indexOf("/tables/") + 8);
    const file = await openParquet(bytesSource(await Deno.readFile(path), name));
    const columns = ["txn", "add", "remove", "metaData", "protocol"].filter((c) =>
      file.columns.some((f) => f.name === c)
    );
    const whole = await readRecords(file, columns);
    const skipped = await readRecords(file, columns, { skipFields: skip });
    for (const row of whole) {
      for (const c of columns) {
        const v = row[c] as Record<string, unknown> | null;
        if (v) { for (const s of skip) delete v[s]; }
      }
    }
    assertEquals(skipped, whole, name);
    checked++;
  }
  assert(checked >= 10, `only ${checked} checkpoints checked`);
});

/** The path of every node of a column down to its maps and lists, and whether it repeats. */
function fieldPaths(file: ParquetFile, column: string): { path: string[]; repeats: boolean }[] {
  const out: { path: string[]; repeats: boolean }[] = [];
  const walk = (tree: ParquetFile["schema"], path: string[]) => {
    const el = tree.element;
    const repeats = el.converted_type === "MAP" || el.converted_type === "LIST" ||
      el.repetition_type === "REPEATED";
    out.push({ path, repeats });
    if (repeats) return;
    for (const c of tree.children) walk(c, [...path, c.element.name]);
  };
  walk(file.schema.children.find((c) => c.element.name === column)!, [column]);
  return out;
}

Deno.test("readRecordColumns() reads each field of every fixture checkpoint as the assembled records hold it", async () => {
  let checked = 0;
  for (const path of logParquetFiles()) {
    const name = path.slice(path.indexOf("/tables/") + 8);
    const file = await openParquet(bytesSource(await Deno.readFile(path), name));
    const columns = ["txn", "add", "remove", "metaData", "protocol", "domainMetadata"].filter((
      c,
    ) => file.columns.some((f) => f.name === c));
    const records = await readRecords(file, columns);
    const decoded = await readRecordColumns(file, columns);
    assertEquals(decoded.numRows, records.length, name);
    for (const column of columns) {
      for (const { path: fields, repeats } of fieldPaths(file, column)) {
        const read = decoded.reader(fields)!;
        // Presence is for nodes with no list or map at or above them.
        const present = decoded.presence(fields);
        assertEquals(present === undefined, repeats, fields.join("."));
        const asNumber = decoded.int64AsNumber(fields);
        for (let r = 0; r < records.length; r++) {
          let want: unknown = records[r];
          let parentPresent = true;
          for (const f of fields) {
            parentPresent = want !== null;
            want = (want as Record<string, unknown> | null)?.[f] ?? null;
          }
          const where = `${name} ${fields.join(".")} row ${r}`;
          if (parentPresent) assertEquals(read(r, 0), want, where);
          // A field under a null struct is absent too.
          if (present) assertEquals(present(r), want !== null, where);
          if (asNumber) assertEquals(asNumber(r), want === null ? null : Number(want), where);
        }
        checked++;
      }
    }
  }
  assert(checked >= 100, `only ${checked} fields checked`);
  const any = await openParquet(bytesSource(await Deno.readFile(logParquetFiles()[0]!), "x"));
  const decoded = await readRecordColumns(any, ["add"]);
  assertEquals(decoded.reader(["add", "no_such_field"]), undefined);
  assertEquals(decoded.presence(["add", "partitionValues", "key_value"]), undefined);
  assertEquals(decoded.int64AsNumber(["add", "path"]), undefined);
});

Deno.test("readRecords() reads every value when a footer's null counts claim more nulls than the pages hold", async () => {
  let checked = 0;
  for (const path of logParquetFiles()) {
    const name = path.slice(path.indexOf("/tables/") + 8);
    const bytes = await Deno.readFile(path);
    const file = await openParquet(bytesSource(bytes, name));
    const columns = ["add", "metaData"].filter((c) => file.columns.some((f) => f.name === c));
    const want = await readRecords(file, columns);
    // Values are allocated from the null counts: wrong ones must only cost a larger array.
    const lying = await openParquet(bytesSource(bytes, name));
    for (const group of lying.metadata.row_groups) {
      for (const chunk of group.columns) {
        const meta = chunk.meta_data!;
        meta.statistics = { ...meta.statistics, null_count: meta.num_values };
      }
    }
    assertEquals(await readRecords(lying, columns), want, name);
    checked++;
  }
  assert(checked >= 10, `only ${checked} checkpoints checked`);
});

Deno.test("readRecords() assembles null structs, maps and lists exactly", async () => {
  const schema: NestedField[] = [
    {
      name: "add",
      type: {
        struct: [
          { name: "path", type: "string" },
          { name: "size", type: "long" },
          { name: "partitionValues", type: { map: { key: "string", value: "string" } } },
          { name: "flag", type: "boolean" },
        ],
      },
    },
    {
      name: "meta",
      type: {
        struct: [
          { name: "columns", type: { list: "string" } },
          { name: "inner", type: { struct: [{ name: "n", type: "integer" }] } },
        ],
      },
    },
  ];
  const records = [
    { add: { path: "a", size: 1n, partitionValues: { x: "1", y: null }, flag: true }, meta: null },
    { add: null, meta: { columns: ["p", "q"], inner: { n: 5 } } },
    {
      add: { path: null, size: null, partitionValues: {}, flag: null },
      meta: { columns: [], inner: null },
    },
    {
      add: { path: "é𝄞", size: 9007199254740993n, partitionValues: null, flag: false },
      meta: { columns: null, inner: { n: null } },
    },
  ];
  const bytes = encodeRecords(schema, records).bytes;
  await compare(bytes, "nested", ["add", "meta"]);
  const file = await openParquet(bytesSource(bytes, "nested"));
  const rows = await readRecords(file, ["add"]);
  assertEquals(rows![0]!.add, {
    path: "a",
    size: 1n,
    partitionValues: { x: "1", y: null },
    flag: true,
  });
  assertEquals(rows![1]!.add, null);
});

Deno.test("readRecords() reads a v1 page without nulls (a checkpoint part of only adds)", async () => {
  const dir = await Deno.makeTempDir();
  const adds = [1, 2, 3].map((i) => ({
    path: `f${i}.parquet`,
    partitionValues: {},
    size: i,
    modificationTime: 0,
    dataChange: false,
    stats: "{}",
  }));
  await parquetTool({ cmd: "write_adds", path: `${dir}/part.parquet`, adds });
  const file = await openParquet(bytesSource(await Deno.readFile(`${dir}/part.parquet`), "part"));
  const rows = await readRecords(file, ["add"]);
  assertEquals(rows!.map((r) => (r.add as { path: string } | null)?.path), [
    "f1.parquet",
    "f2.parquet",
    "f3.parquet",
  ]);
  await compare(await Deno.readFile(`${dir}/part.parquet`), "part", ["add"]);
});

Deno.test("readRecords() reads lists of structs and refuses a list of lists, naming the column", async () => {
  const schema: NestedField[] = [
    {
      name: "outer",
      type: {
        list: { struct: [{ name: "k", type: "string" }, { name: "n", type: "long" }] },
      },
    },
    { name: "deep", type: { list: { list: "integer" } } },
  ];
  const records = [
    { outer: [{ k: "a", n: 1n }, null, { k: null, n: 3n }], deep: [[1, 2], [], null] },
    { outer: null, deep: null },
    { outer: [], deep: [] },
  ];
  const bytes = encodeRecords(schema, records).bytes;
  await compare(bytes, "lists", ["outer"]);
  const file = await openParquet(bytesSource(bytes, "lists"));
  assertEquals((await readRecords(file, ["outer"]))[0]!.outer, [
    { k: "a", n: 1n },
    null,
    { k: null, n: 3n },
  ]);
  await assertRejects(
    () => readRecords(file, ["deep"]),
    "Cannot read column deep.list.element.list of lists as records: it repeats 2 levels deep",
  );
});

Deno.test("string values are read exactly from pages all ASCII, with a U+FEFF first, or mixing ASCII with other text", async () => {
  const pages = [
    ["part-00000.parquet", "a", "", "part-00001.parquet"],
    ["\uFEFFfirst", "second", "third"],
    ["abc", "é", "after é", "日本😀", "x", "\uFEFF", "tail"],
  ];
  for (const values of pages) {
    const { bytes } = encodeRecords(
      [{ name: "s", type: "string" }],
      values.map((s) => ({ s })),
    );
    const file = await openParquet(bytesSource(bytes, "strings.parquet"));
    const rows = await readRecords(file, ["s"]);
    // A leading U+FEFF is data, kept as pyarrow and Spark keep it.
    assertEquals(rows.map((r) => r.s), values);
  }
});

Deno.test("a string's leading U+FEFF is kept in values, dictionaries, lists and statistics, as pyarrow reads it", async () => {
  const bom = "\uFEFF";
  const rows = [
    { s: `${bom}first`, d: `${bom}low`, l: [`${bom}a`, "b"] },
    { s: "second", d: `${bom}low`, l: [bom] },
    { s: `${bom}`, d: "z", l: [] },
  ];
  const { bytes } = encodeRecords(
    [
      { name: "s", type: "string" },
      { name: "d", type: "string" },
      { name: "l", type: { list: "string" } } as NestedField,
    ],
    [...rows, ...rows, ...rows],
  );
  const file = await openParquet(bytesSource(bytes, "bom.parquet"));
  const read = await readRecords(file, ["s", "d", "l"]);
  assertEquals(read.slice(0, 3), rows);
  // U+FEFF (EF BB BF) sorts after ASCII, so it is the maximum, not dropped.
  assertEquals(file.rowGroups[0]!.stats.s!.max, `${bom}first`);
  assertEquals(file.rowGroups[0]!.stats.d!.max, `${bom}low`);
  await compare(bytes, "bom.parquet", ["s", "d", "l"]);
});

Deno.test("readRecordColumns() with hashFields gives each string's stringHash: ASCII or not, repeated, null, in every fixture checkpoint's add.path", async () => {
  const values = ["part-0.parquet", "part-0.parquet", "é.parquet", "", null, "日本😀", "a", "a"];
  const rows = values.map((p, i) => ({ add: i === 6 ? null : { path: p, n: i } }));
  const { bytes } = encodeRecords(
    [{
      name: "add",
      type: { struct: [{ name: "path", type: "string" }, { name: "n", type: "integer" }] },
    }],
    rows,
  );
  const files = [await openParquet(bytesSource(bytes, "paths.parquet"))];
  for (const path of logParquetFiles()) {
    const file = await openParquet(bytesSource(await Deno.readFile(path), path));
    if (file.columns.some((c) => c.name === "add")) files.push(file);
  }
  let hashed = 0;
  for (const file of files) {
    const decoded = await readRecordColumns(file, ["add"], { hashFields: ["add.path"] });
    const hash = decoded.stringHash(["add", "path"])!;
    const read = decoded.reader(["add", "path"])!;
    const present = decoded.presence(["add"])!;
    for (let r = 0; r < decoded.numRows; r++) {
      const value = present(r) ? read(r, 0) : null;
      if (typeof value !== "string") continue;
      assertEquals(hash(r), stringHash(value), `${file.name} row ${r}`);
      hashed++;
    }
    // Only the fields named are hashed.
    assertEquals(decoded.stringHash(["add", "n"]), undefined);
    const plain = await readRecordColumns(file, ["add"]);
    assertEquals(plain.stringHash(["add", "path"]), undefined);
  }
  assert(hashed >= 50, `only ${hashed} paths hashed`);
});

Deno.test("a definition level above the column's maximum in an RLE run is refused, naming the column and row group", async () => {
  const { bytes } = encodeRecords(
    [{ name: "s", type: { struct: [{ name: "v", type: "string" }] } }],
    Array.from({ length: 10 }, () => ({ s: { v: "a" } })),
  );
  const file = await openParquet(bytesSource(bytes, "levels.parquet"));
  assertEquals((await readRecords(file, ["s"]))[9], { s: { v: "a" } });
  const meta = file.metadata.row_groups[0]!.columns.find((c) =>
    c.meta_data?.path_in_schema.join(".") === "s.v"
  )!.meta_data!;
  const start = Number(meta.data_page_offset);
  const pages = { view: new DataView(bytes.buffer, bytes.byteOffset), offset: start };
  const header = parquetHeader(pages);
  assertEquals(header.type, "DATA_PAGE_V2");
  // The levels lead the body: one RLE run of ten 2s (header 10 << 1, then the value).
  const def = pages.offset + header.data_page_header_v2!.repetition_levels_byte_length;
  assertEquals([bytes[def], bytes[def + 1]], [20, 2]);
  const broken = bytes.slice();
  broken[def + 1] = 3;
  const bad = await openParquet(bytesSource(broken, "levels.parquet"));
  await assertRejects(
    () => readRecords(bad, ["s"]),
    "Cannot read column s.v of levels.parquet (row group 0): A level of 3 exceeds the maximum of 2",
  );
});
