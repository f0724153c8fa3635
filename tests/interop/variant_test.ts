/**
 * Variant columns of a table Spark 4.0 wrote (tests/fixtures/tables/
 * spark_variant, one row per encoding): `scan` prints each row's variant as
 * Spark's `to_json` of it in CSV and tables, and as that JSON value in
 * `--json`, row by row against the `to_json` Spark gave; writes that would
 * make or move variants are refused by name, while checkpoints and vacuum
 * run; a shredded variant in a file is refused, never read as null.
 */

import { parse } from "csv-parse/sync";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { addFor } from "../../src/ops/data_files.ts";
import { openTable } from "../../src/ops/table.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { readWithNeuralake } from "../_helpers/delta_rs.ts";
import { expectedRows, fixturePath } from "../_helpers/fixtures.ts";

const TABLE = fixturePath("spark_variant");

/** Spark's to_json of each row's variant (null for a SQL NULL), by id. */
function sparkToJson(): Map<number, string | null> {
  const rows = expectedRows("spark_variant");
  assert(rows.length > 40, "the fixture has a row per encoding");
  return new Map(rows.map((r) => [r.id as number, r.v as string | null]));
}

Deno.test("scan --format csv prints each variant as Spark's to_json of it, row by row", async () => {
  const out = await cli(["scan", TABLE, "--format", "csv", "--columns", "id,v"]);
  assertEquals(out.code, 0, out.stderr);
  const rows: string[][] = parse(out.stdout);
  assertEquals(rows[0], ["id", "v"]);
  const expected = sparkToJson();
  assertEquals(rows.length - 1, expected.size);
  for (const [id, text] of rows.slice(1)) {
    // CSV has no null: a SQL NULL is the empty cell, a variant null the text null.
    assertEquals(text, expected.get(Number(id)) ?? "", `row ${id}`);
  }
});

Deno.test("scan --json gives each variant as the JSON value Spark's to_json holds", async () => {
  const out = await cli(["scan", TABLE, "--json"]);
  assertEquals(out.code, 0, out.stderr);
  const doc = JSON.parse(out.stdout);
  assertEquals(doc.columns[2], { name: "v", type: "variant", nullable: true });
  const expected = sparkToJson();
  assertEquals(doc.rows.length, expected.size);
  for (const row of doc.rows) {
    const text = expected.get(row.id);
    assertEquals(row.v, text === null ? null : JSON.parse(text!), `row ${row.id} (${row.kind})`);
  }
  // Numbers a JS number would change are printed exactly.
  for (const exact of ["-9223372036854775808", "-12345678901234567890.123456", "1.5E10"]) {
    assert(out.stdout.includes(`"v":${exact}}`), exact);
  }
});

Deno.test("writes that add or move variant rows are refused by name; checkpoints and vacuum run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await copyDir(TABLE, dir);
    const table = await openTable(dir);
    const input = `${dir}.ndjson`;
    await Deno.writeTextFile(input, '{"id":99,"kind":"x"}\n');
    const write = await cli(["write", dir, "--input", input]);
    assertEquals(write.code === 0, false);
    assert(write.stderr.includes('"variantType"'), write.stderr);
    const refused = await assertRejects(() => optimizeTable(table, { targetFileSize: 1 << 20 }));
    assert(refused instanceof UnsupportedFeatureError, refused.message);
    assertEquals(refused.feature, "variantType");
    await checkpointTable(table);
    const vacuum = await cli(["vacuum", dir]);
    assertEquals(vacuum.code, 0, vacuum.stderr);
    // Read back through the checkpoint: the same rows.
    const ours = await readWithNeuralake(await openTable(dir));
    const expected = sparkToJson();
    assertEquals(ours.rows.length, expected.size);
    for (const row of ours.rows) assertEquals(row.v, expected.get(row.id as number), `${row.id}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(`${dir}.ndjson`).catch(() => {});
  }
});

Deno.test("a variant shredded into typed_value is refused, not read as null", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const meta = new Uint8Array([1, 0, 0]);
    // Spark's shredded form of the integer 7: value null, typed_value 7.
    const file = encodeParquet({
      fields: [{
        name: "v",
        nullable: true,
        type: {
          type: "struct",
          fields: [
            { name: "metadata", type: "binary", nullable: false },
            { name: "value", type: "binary", nullable: true },
            { name: "typed_value", type: "long", nullable: true },
          ],
        },
      }],
      columns: [{ values: [{ metadata: meta, value: null, typed_value: 7n }] }],
      length: 1,
    });
    await Deno.writeFile(`${dir}/part-0.parquet`, file.bytes);
    const schema = {
      type: "struct",
      fields: [{ name: "v", type: "variant", nullable: true, metadata: {} }],
    };
    const actions = [
      {
        protocol: {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ["variantType"],
          writerFeatures: ["variantType"],
        },
      },
      {
        metaData: {
          id: "shredded",
          format: { provider: "parquet", options: {} },
          schemaString: JSON.stringify(schema),
          partitionColumns: [],
          configuration: {},
        },
      },
      { add: addFor("part-0.parquet", file, {}, []) },
    ];
    await Deno.mkdir(`${dir}/_delta_log`);
    await Deno.writeTextFile(
      `${dir}/_delta_log/00000000000000000000.json`,
      actions.map((a) => JSON.stringify(a)).join("\n") + "\n",
    );
    const table = await openTable(dir);
    const error = await assertRejects(() => readWithNeuralake(table));
    assert(error.message.includes("typed_value"), error.message);
    assert(error.message.includes("variantShredding"), error.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function copyDir(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await Deno.mkdir(`${to}/${entry.name}`, { recursive: true });
      await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
