/**
 * The column-by-column record reader gives exactly what the row reader
 * gives, on checkpoints written by Spark and delta-rs and on nested records
 * with null structs, empty and null maps, null map values and lists.
 */

import { openParquet, readRecords } from "../../src/parquet/decode.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { encodeRecords, type NestedField } from "../../src/parquet/nested.ts";
import { readRecordsByColumns } from "../../src/parquet/records.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { parquetTool } from "../_helpers/pyarrow.ts";
import { logParquetFiles } from "../_helpers/fixtures.ts";

function canonical(value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

async function compare(bytes: Uint8Array, name: string, columns: string[], skip: string[] = []) {
  const file = await openParquet(bytesSource(bytes, name));
  const byRows = await readRecords(file, columns);
  const byColumns = await readRecordsByColumns(file, columns, { skipFields: skip });
  assert(byColumns, `${name}: the column reader refused it`);
  for (const row of byRows) {
    for (const c of columns) {
      const v = row[c] as Record<string, unknown> | null;
      if (v) { for (const s of skip) delete v[s]; }
    }
  }
  assertEquals(byColumns.length, byRows.length, name);
  for (let i = 0; i < byRows.length; i++) {
    assertEquals(canonical(byColumns[i]), canonical(byRows[i]), `${name} row ${i}`);
  }
}

Deno.test("readRecordsByColumns() reads every fixture checkpoint and sidecar as the row reader does", async () => {
  let checked = 0;
  for (const path of logParquetFiles()) {
    const name = path.slice(path.indexOf("/tables/") + 8);
    const bytes = await Deno.readFile(path);
    const file = await openParquet(bytesSource(bytes, name));
    const columns = ["txn", "add", "remove", "metaData", "protocol"].filter((c) =>
      file.columns.some((f) => f.name === c)
    );
    await compare(bytes, name, columns, ["stats_parsed", "partitionValues_parsed"]);
    checked++;
  }
  assert(checked >= 10, `only ${checked} checkpoints checked`);
});

Deno.test("readRecordsByColumns() assembles null structs, maps and lists exactly", async () => {
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
  const rows = await readRecordsByColumns(file, ["add"]);
  assertEquals(rows![0]!.add, {
    path: "a",
    size: 1n,
    partitionValues: { x: "1", y: null },
    flag: true,
  });
  assertEquals(rows![1]!.add, null);
});

Deno.test("readRecordsByColumns() reads a v1 page without nulls (a checkpoint part of only adds)", async () => {
  // hyparquet returns no definition levels for such a page; Spark's parquet-mr writes them.
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
  const rows = await readRecordsByColumns(file, ["add"]);
  assertEquals(rows!.map((r) => (r.add as { path: string } | null)?.path), [
    "f1.parquet",
    "f2.parquet",
    "f3.parquet",
  ]);
  await compare(await Deno.readFile(`${dir}/part.parquet`), "part", ["add"]);
});
