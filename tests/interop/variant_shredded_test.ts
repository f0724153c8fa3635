/**
 * Shredded variants (Parquet's VariantShredding.md, Delta `variantShredding`):
 * Spark 4.0's shredded tables (tests/fixtures/tables/spark_variant_shredded*,
 * one file per shredding schema) read row by row as Spark's `to_json` of each
 * variant; hand-made files cover each rule of the specification (missing
 * against null fields, partially shredded objects, arrays, every primitive
 * type, names the metadata lacks) and the invalid shapes, refused by column;
 * compaction writes the rebuilt variants unshredded, and Spark reads the
 * compacted table as before.
 */

import { parse } from "csv-parse/sync";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { addFor } from "../../src/ops/data_files.ts";
import { openTable } from "../../src/ops/table.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import type { ColumnType } from "../../src/columnar/types.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { spark } from "../_helpers/spark.ts";
import { cli } from "../_helpers/cli.ts";
import { readWithNeuralake } from "../_helpers/delta_rs.ts";
import { expectedRows, fixturePath } from "../_helpers/fixtures.ts";

const SPARK_TABLES = ["spark_variant_shredded", "spark_variant_shredded_types"];

/** Spark's to_json of each row's variant (null for a SQL NULL), by id. */
function sparkToJson(name: string): Map<number, string | null> {
  return new Map(expectedRows(name).map((r) => [r.id as number, r.v as string | null]));
}

Deno.test("scan prints Spark's shredded variants as Spark's to_json of them, row by row", async () => {
  for (const name of SPARK_TABLES) {
    const out = await cli(["scan", fixturePath(name), "--format", "csv", "--columns", "id,v"]);
    assertEquals(out.code, 0, out.stderr);
    const rows: string[][] = parse(out.stdout);
    const expected = sparkToJson(name);
    assertEquals(rows.length - 1, expected.size, name);
    for (const [id, text] of rows.slice(1)) {
      // CSV has no null: a SQL NULL is the empty cell, a variant null the text null.
      assertEquals(text, expected.get(Number(id)) ?? "", `${name} row ${id}`);
    }
  }
});

Deno.test("scan --json gives each shredded variant as the JSON value Spark's to_json holds", async () => {
  const name = "spark_variant_shredded_types";
  const out = await cli(["scan", fixturePath(name), "--json"]);
  assertEquals(out.code, 0, out.stderr);
  const expected = sparkToJson(name);
  const rows = JSON.parse(out.stdout).rows;
  assertEquals(rows.length, expected.size);
  for (const row of rows) {
    const text = expected.get(row.id);
    assertEquals(row.v, text === null ? null : JSON.parse(text!), `row ${row.id} (${row.kind})`);
  }
});

// --- hand-made files ---------------------------------------------------------

const bin = (...bytes: number[]) => new Uint8Array(bytes);
/** Metadata version 1 with the keys "a", "b", "c" (ids 0, 1, 2). */
const ABC = bin(1, 3, 0, 1, 2, 3, 0x61, 0x62, 0x63);
/** Metadata version 1 with no keys. */
const EMPTY = bin(1, 0, 0);
/** Variant null, true, and the short string "no". */
const NULL = bin(0);
const TRUE = bin(1 << 2);
const NO = bin((2 << 2) | 1, 0x6e, 0x6f);

/** A shredded field group: optional value and typed_value. */
function field(typed: ColumnType) {
  return {
    type: "struct" as const,
    fields: [
      { name: "value", type: "binary" as const, nullable: true },
      { name: "typed_value", type: typed, nullable: true },
    ],
  };
}

/** A shredded variant column's group: metadata, value and typed_value. */
function shredded(typed: ColumnType): ColumnType {
  return {
    type: "struct",
    fields: [
      { name: "metadata", type: "binary", nullable: false },
      { name: "value", type: "binary", nullable: true },
      { name: "typed_value", type: typed, nullable: true },
    ],
  };
}

/** A one-file table of variant columns `v0`, `v1`, ..., stored as `types` with these rows. */
async function variantTable(
  dir: string,
  types: ColumnType[],
  columns: unknown[][],
  features = ["variantType", "variantShredding-preview"],
): Promise<void> {
  const fields = types.map((type, i) => ({ name: `v${i}`, nullable: true, type }));
  const length = columns[0]!.length;
  const file = encodeParquet({ fields, columns: columns.map((values) => ({ values })), length });
  await Deno.writeFile(`${dir}/part-0.parquet`, file.bytes);
  const schema = {
    type: "struct",
    fields: fields.map((f) => ({ name: f.name, type: "variant", nullable: true, metadata: {} })),
  };
  const protocol = {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: features,
    writerFeatures: features,
  };
  const metaData = {
    id: "v",
    format: { provider: "parquet", options: {} },
    schemaString: JSON.stringify(schema),
    partitionColumns: [],
    configuration: {},
  };
  const actions = [{ protocol }, { metaData }, { add: addFor("part-0.parquet", file, {}, []) }];
  await Deno.mkdir(`${dir}/_delta_log`);
  await Deno.writeTextFile(
    `${dir}/_delta_log/00000000000000000000.json`,
    actions.map((a) => JSON.stringify(a)).join("\n") + "\n",
  );
}

/** Each row's columns as neuralake prints them (Spark's to_json form). */
async function printed(dir: string): Promise<(string | null)[][]> {
  const { rows } = await readWithNeuralake(await openTable(dir));
  return rows.map((r) => Object.values(r) as (string | null)[]);
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a shredded object: missing fields left out, null fields kept, unshredded fields merged", async () => {
  await withDir(async (dir) => {
    const object: ColumnType = {
      type: "struct",
      fields: [
        { name: "b", type: field("string"), nullable: false },
        { name: "a", type: field("long"), nullable: false },
      ],
    };
    const both = (a: unknown, b: unknown) => ({ a, b });
    const missing = { value: null, typed_value: null };
    const rows = [
      // Fully shredded.
      { metadata: ABC, value: null, typed_value: both({ typed_value: 1n }, { typed_value: "x" }) },
      // Partially shredded: b is missing, c lives in value ({"c":true}).
      {
        metadata: ABC,
        value: bin(2, 1, 2, 0, 1, ...TRUE),
        typed_value: both({ typed_value: 2n }, missing),
      },
      // a is present and null (a variant null in its value); b is shredded.
      { metadata: ABC, value: null, typed_value: both({ value: NULL }, { typed_value: "y" }) },
      // a does not fit its typed_value: it stays in its value.
      { metadata: ABC, value: null, typed_value: both({ value: NO }, missing) },
      // Every shredded field missing: the empty object.
      { metadata: ABC, value: null, typed_value: both(missing, missing) },
      // Not an object: value alone.
      { metadata: ABC, value: NO, typed_value: null },
      // Missing at the top: a variant null.
      { metadata: ABC, value: null, typed_value: null },
      // The column is null: SQL NULL.
      null,
    ];
    await variantTable(dir, [shredded(object)], [rows]);
    assertEquals(await printed(dir), [
      ['{"a":1,"b":"x"}'],
      ['{"a":2,"c":true}'],
      ['{"a":null,"b":"y"}'],
      ['{"a":"no"}'],
      ["{}"],
      ['"no"'],
      ["null"],
      [null],
    ]);
  });
});

Deno.test("a shredded array: elements rebuilt one by one, objects inside arrays inside objects", async () => {
  await withDir(async (dir) => {
    const longs: ColumnType = { type: "array", elementType: field("long"), containsNull: false };
    const inner: ColumnType = {
      type: "struct",
      fields: [{ name: "c", type: field("boolean"), nullable: false }],
    };
    const nested: ColumnType = {
      type: "struct",
      fields: [{
        name: "a",
        type: field({ type: "array", elementType: field(inner), containsNull: false }),
        nullable: false,
      }],
    };
    await variantTable(dir, [shredded(longs), shredded(nested)], [
      [
        {
          metadata: EMPTY,
          value: null,
          typed_value: [{ typed_value: 1n }, { value: NULL }, { value: NO }, { typed_value: -2n }],
        },
        { metadata: EMPTY, value: null, typed_value: [] },
        { metadata: EMPTY, value: bin(3 << 2, 5), typed_value: null },
      ],
      [
        {
          metadata: ABC,
          value: null,
          typed_value: {
            a: {
              typed_value: [
                { typed_value: { c: { typed_value: true } } },
                { typed_value: { c: { value: NO } } },
                { value: TRUE },
              ],
            },
          },
        },
        { metadata: ABC, value: null, typed_value: { a: { value: null, typed_value: null } } },
        { metadata: ABC, value: null, typed_value: { a: { value: bin(3 << 2, 7) } } },
      ],
    ]);
    assertEquals(await printed(dir), [
      ['[1,null,"no",-2]', '{"a":[{"c":true},{"c":"no"},true]}'],
      ["[]", "{}"],
      ["5", '{"a":7}'],
    ]);
  });
});

Deno.test("every shredded primitive type prints as the variant type it maps to", async () => {
  await withDir(async (dir) => {
    const day = Date.UTC(2024, 1, 29) / 86_400_000;
    const micros = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 123_456n;
    const cases: [ColumnType, unknown, string][] = [
      ["byte", -5, "-5"],
      ["short", 300, "300"],
      ["integer", -70_000, "-70000"],
      ["long", -9223372036854775808n, "-9223372036854775808"],
      ["float", Math.fround(1.1), "1.1"],
      ["double", 1.5e10, "1.5E10"],
      ["boolean", false, "false"],
      ["string", "hi", '"hi"'],
      ["string", "x".repeat(70), `"${"x".repeat(70)}"`],
      ["binary", bin(0xde, 0xad), '"3q0="'],
      ["date", day, '"2024-02-29"'],
      ["timestamp", micros, '"2024-01-02 03:04:05.123456+00:00"'],
      ["timestamp_ntz", micros, '"2024-01-02 03:04:05.123456"'],
      ["decimal(9,2)", 150n, "1.5"],
      ["decimal(18,4)", -10n, "-0.001"],
      ["decimal(38,10)", -123456789012345678901234567n, "-12345678901234567.8901234567"],
    ];
    await variantTable(
      dir,
      cases.map(([type]) => shredded(type)),
      cases.map(([, typed]) => [{ metadata: EMPTY, value: null, typed_value: typed }]),
    );
    assertEquals(await printed(dir), [cases.map(([, , json]) => json)]);
  });
});

Deno.test("a shredded field name the metadata lacks is added to it, keeping the ids in use", async () => {
  await withDir(async (dir) => {
    // The dictionary holds "c" only; the shredded field is "a", the unshredded one "c".
    const onlyC = bin(1, 1, 0, 1, 0x63);
    const object: ColumnType = {
      type: "struct",
      fields: [{ name: "a", type: field("long"), nullable: false }],
    };
    await variantTable(dir, [shredded(object)], [[
      {
        metadata: onlyC,
        value: bin(2, 1, 0, 0, 1, ...TRUE),
        typed_value: { a: { typed_value: 3n } },
      },
    ]]);
    assertEquals(await printed(dir), [['{"a":3,"c":true}']]);
  });
});

Deno.test("invalid shredding is refused naming the column and the rule, never guessed", async () => {
  const object: ColumnType = {
    type: "struct",
    fields: [{ name: "a", type: field("long"), nullable: false }],
  };
  const cases: [ColumnType, unknown, string][] = [
    [shredded("long"), { metadata: EMPTY, value: NO, typed_value: 1n }, "a primitive is shredded"],
    [
      shredded({ type: "array", elementType: field("long"), containsNull: false }),
      { metadata: EMPTY, value: NO, typed_value: [] },
      "an array is shredded",
    ],
    [
      shredded(object),
      { metadata: ABC, value: NO, typed_value: { a: { typed_value: 1n } } },
      "its value is not an object",
    ],
  ];
  for (const [type, row, rule] of cases) {
    await withDir(async (dir) => {
      await variantTable(dir, [type], [[row]]);
      const error = await assertRejects(async () => readWithNeuralake(await openTable(dir)));
      assert(error.message.includes('column "v0"'), error.message);
      assert(error.message.includes(rule), error.message);
    });
  }
});

// --- compaction --------------------------------------------------------------

Deno.test("compaction writes shredded variants unshredded, and Spark reads the same rows", async () => {
  await withDir(async (dir) => {
    const name = "spark_variant_shredded_types";
    await copyDir(fixturePath(name), dir);
    const before = await readWithNeuralake(await openTable(dir));
    let decoded = 0;
    const result = await optimizeTable(await openTable(dir), {
      targetFileSize: 64 << 20,
      minFiles: 2,
      minRowGroupRows: 1,
      onBin: (bin) => decoded += bin.decodedRowGroups,
    });
    assertEquals(result.after.files, 1);
    // Shredded row groups differ in schema from the output: none is copied.
    assertEquals(decoded, result.before.files);
    const after = await readWithNeuralake(await openTable(dir));
    const byId = (rows: Record<string, unknown>[]) => rows.map((r) => `${r.id}:${r.v}`).sort();
    assertEquals(byId(after.rows), byId(before.rows));
    const answer = await spark({ sql: [`SELECT id, to_json(v) AS v FROM delta.\`${dir}\``] });
    const sql = answer.sql[0]!;
    assert(sql.ok, JSON.stringify(sql));
    const want = [...sparkToJson(name)].map(([id, v]) => `${id}:${v}`).sort();
    assertEquals(sql.rows.map((r: Record<string, unknown>) => `${r.id}:${r.v}`).sort(), want);
  });
});

async function copyDir(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await Deno.mkdir(`${to}/${entry.name}`, { recursive: true });
      await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
