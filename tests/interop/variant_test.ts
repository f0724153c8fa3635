/**
 * Variant columns of a table Spark 4.0 wrote (tests/fixtures/tables/
 * spark_variant, one row per encoding): `scan` prints each row's variant as
 * Spark's `to_json` of it in CSV and tables, and as that JSON value in
 * `--json`, row by row against the `to_json` Spark gave; appends and
 * overwrites are refused by name, while checkpoints and vacuum run;
 * compaction keeps every variant's bytes (Spark reads the result as before).
 * Shredded variants: variant_shredded_test.ts.
 */

import { parse } from "csv-parse/sync";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { addFor } from "../../src/ops/data_files.ts";
import { openTable } from "../../src/ops/table.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { cellAt } from "../../src/cli/cells.ts";
import { ndjsonWriter, TextSink } from "../../src/cli/scan_output.ts";
import { type ColumnType, variantType } from "../../src/columnar/types.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { spark } from "../_helpers/spark.ts";
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

Deno.test("appends and overwrites of a variant table are refused by name; checkpoints and vacuum run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await copyDir(TABLE, dir);
    const input = `${dir}/../${dir.split("/").at(-1)}.ndjson`;
    await Deno.writeTextFile(input, '{"id":99,"kind":"x"}\n');
    for (const mode of ["append", "overwrite"]) {
      const write = await cli(["write", dir, "--input", input, "--mode", mode]);
      assertEquals(write.code === 0, false, mode);
      assert(write.stderr.includes('"variantType"'), write.stderr);
    }
    await Deno.remove(input);
    await checkpointTable(await openTable(dir));
    const vacuum = await cli(["vacuum", dir]);
    assertEquals(vacuum.code, 0, vacuum.stderr);
    // Read back through the checkpoint: the same rows.
    const ours = await readWithNeuralake(await openTable(dir));
    assertEquals(ours.version, 1);
    const expected = sparkToJson();
    assertEquals(ours.rows.length, expected.size);
    for (const row of ours.rows) assertEquals(row.v, expected.get(row.id as number), `${row.id}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describe, history and verify read both Spark variant tables", async () => {
  for (const name of ["spark_variant", "spark_variant_nested"]) {
    const dir = fixturePath(name);
    const describe = await cli(["describe", dir, "--json"]);
    assertEquals(describe.code, 0, describe.stderr);
    const fields = JSON.parse(describe.stdout).schema.fields;
    assertEquals(fields.at(-1).type, "variant", name);
    const history = await cli(["history", dir, "--json"]);
    assertEquals(history.code, 0, history.stderr);
    assertEquals(
      JSON.parse(history.stdout).commits[0].engine_info.startsWith("Apache-Spark/4.0"),
      true,
    );
    const verify = await cli(["verify", dir, "--json"]);
    assertEquals(verify.code, 0, verify.stderr);
    assertEquals(JSON.parse(verify.stdout).passed, true, name);
  }
});

Deno.test("NDJSON keeps a variant object's keys in stored order, integer-like ones too, at any depth", async () => {
  // {"10":1,"9":2}: keys sorted by their bytes, as VariantEncoding.md stores them.
  const metadata = new Uint8Array([1, 2, 0, 2, 3, 0x31, 0x30, 0x39]);
  const value = new Uint8Array([2, 2, 0, 1, 0, 2, 4, 3 << 2, 1, 3 << 2, 2]);
  const variant = { value, metadata };
  const fields = [
    { name: "v", type: variantType(), nullable: true },
    {
      name: "s",
      type: {
        type: "struct" as const,
        fields: [{ name: "w", type: variantType(), nullable: true }],
      },
      nullable: true,
    },
    {
      name: "a",
      type: { type: "array" as const, elementType: variantType(), containsNull: true },
      nullable: true,
    },
  ];
  const chunks: Uint8Array[] = [];
  const sink = new TextSink({ write: (b) => Promise.resolve(chunks.push(b.slice()) && b.length) });
  const writer = ndjsonWriter(sink, fields);
  const columns = [{ values: [variant] }, { values: [{ w: variant }] }, {
    values: [[variant, null]],
  }];
  await writer.batch({ fields, columns, length: 1 });
  await writer.end();
  const text = new TextDecoder().decode(chunks[0]);
  const object = '{"10":1,"9":2}';
  assertEquals(text, `{"v":${object},"s":{"w":${object}},"a":[${object},null]}\n`);
});

/**
 * A copy of the fixture with its data file added a second time (commit 2),
 * so that compaction has two files of every variant encoding to merge.
 */
async function twoFileCopy(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await copyDir(TABLE, dir);
  const log = await Deno.readTextFile(`${dir}/_delta_log/00000000000000000001.json`);
  const add = log.split("\n").map((l) => l && JSON.parse(l)).find((a) => a?.add);
  await Deno.copyFile(`${dir}/${add.add.path}`, `${dir}/part-00001-copy.snappy.parquet`);
  add.add.path = "part-00001-copy.snappy.parquet";
  const commit = { commitInfo: { timestamp: add.add.modificationTime + 1, operation: "WRITE" } };
  await Deno.writeTextFile(
    `${dir}/_delta_log/00000000000000000002.json`,
    `${JSON.stringify(commit)}\n${JSON.stringify(add)}\n`,
  );
  return dir;
}

/** Each row's variant binaries, by id, as hex `value/metadata` (SQL NULL: null). */
async function variantBytes(dir: string): Promise<Map<number, (string | null)[]>> {
  const out = new Map<number, (string | null)[]>();
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const scan = await scanTable(await openTable(dir), { columns: ["id", "v"] });
  for await (const batch of scan.batches) {
    for (let i = 0; i < batch.length; i++) {
      const id = Number(cellAt(batch.columns[0]!, "long", i));
      const v = cellAt(batch.columns[1]!, batch.fields[1]!.type, i) as
        | { value: Uint8Array; metadata: Uint8Array }
        | null;
      const list = out.get(id) ?? [];
      list.push(v === null ? null : `${hex(v.value)}/${hex(v.metadata)}`);
      out.set(id, list);
    }
  }
  return out;
}

Deno.test("compaction keeps every variant's bytes, copied or re-encoded, and Spark reads the result", async () => {
  const dirs: string[] = [];
  try {
    const before = await variantBytes(TABLE);
    assertEquals(before.size, sparkToJson().size);
    for (const minRowGroupRows of [1, 16_384]) {
      const dir = await twoFileCopy();
      dirs.push(dir);
      const table = await openTable(dir);
      let copied = -1;
      const result = await optimizeTable(table, {
        targetFileSize: 1 << 20,
        minFiles: 2,
        minRowGroupRows,
        onBin: (bin) => copied = bin.copiedRowGroups,
      });
      // Both paths: whole row groups copied, and rows decoded and re-encoded.
      assertEquals(copied, minRowGroupRows === 1 ? 2 : 0, "row groups copied");
      assertEquals([result.before.files, result.after.files], [2, 1], `${minRowGroupRows}`);
      const after = await variantBytes(dir);
      for (const [id, [bytes]] of before) assertEquals(after.get(id), [bytes, bytes], `row ${id}`);
      // The variant column's statistics are a null count only, as Spark writes them.
      const log = await Deno.readTextFile(`${dir}/_delta_log/00000000000000000003.json`);
      const add = log.split("\n").filter((l) => l).map((l) => JSON.parse(l)).find((a) => a.add);
      const stats = JSON.parse(add.add.stats);
      assertEquals(stats.nullCount.v, 2);
      assertEquals("v" in stats.minValues || "v" in stats.maxValues, false);
    }
    const answer = await spark({
      sql: dirs.map((d) => `SELECT id, to_json(v) AS v FROM delta.\`${d}\``),
    });
    const expected = sparkToJson();
    for (const [k, result] of answer.sql.entries()) {
      assert(result.ok, JSON.stringify(result));
      const rows = result.rows.map((r) => `${r.id}:${r.v}`).sort();
      const want = [...expected].flatMap(([id, v]) => [`${id}:${v}`, `${id}:${v}`]).sort();
      assertEquals(rows, want, dirs[k]);
    }
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

/** A one-file table whose column `v` is a variant, stored as `type` with these values. */
async function variantTable(dir: string, type: ColumnType, values: unknown[]): Promise<void> {
  const file = encodeParquet({
    fields: [{ name: "v", nullable: true, type }],
    columns: [{ values }],
    length: values.length,
  });
  await Deno.writeFile(`${dir}/part-0.parquet`, file.bytes);
  const schema = {
    type: "struct",
    fields: [{ name: "v", type: "variant", nullable: true, metadata: {} }],
  };
  const protocol = {
    minReaderVersion: 3,
    minWriterVersion: 7,
    readerFeatures: ["variantType"],
    writerFeatures: ["variantType"],
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

Deno.test("scan names the column of a malformed variant, in every output format", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Metadata version 2, which VariantEncoding.md does not define.
    const bad = { value: new Uint8Array([0]), metadata: new Uint8Array([2, 0, 0]) };
    await variantTable(dir, variantType(), [bad]);
    for (const format of ["ndjson", "csv", "table"]) {
      const out = await cli(["scan", dir, "--format", format]);
      assertEquals(out.code === 0, false, format);
      assert(out.stderr.includes('Cannot print column "v": Malformed variant'), out.stderr);
      assert(out.stderr.includes("version is 2"), out.stderr);
    }
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
