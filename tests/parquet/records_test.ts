/**
 * The record reader (typed-array leaves, assembled from levels) gives what
 * pyarrow gives, on checkpoints written by Spark and delta-rs (see also
 * nested_test.ts) and on nested records with null structs, empty and null
 * maps, null map values and lists; skipped fields are never read.
 */

import { openParquet, type ParquetFile } from "../../src/parquet/decode.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { encodeRecords, type NestedField } from "../../src/parquet/nested.ts";
import { readRecords } from "../../src/parquet/records.ts";
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
