/**
 * Nested columns end to end: NDJSON with structs, arrays and maps (nulls at
 * every level) written by `neuralake write`, read back by `scan` in every
 * format and by delta-rs row for row, with Delta statistics for struct
 * leaves only, and compacted without changing a row. Column mapping (name
 * and id modes): files keyed by physical names and field ids, logical names
 * on the way out, partition values and stats under physical names.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Add } from "../../src/delta/actions.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { parseSchemaString } from "../../src/delta/schema.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { openParquet } from "../../src/parquet/decode.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { canonicalRows, readWithDeltaRs } from "../_helpers/delta_rs.ts";

const ROWS = [
  {
    id: 1,
    meta: { gain: 2.5, probe: { name: "A", depth: 120 } },
    wave: [0.5, null, -1.25],
    spikes: [{ t: "2024-05-01T12:00:00.000001Z", ch: 3 }, null],
    labels: { "1": "good", "2": null },
  },
  { id: 2, meta: { gain: null, probe: null }, wave: [], spikes: [], labels: {} },
  { id: 3, meta: null, wave: null, spikes: null, labels: null },
  {
    id: 4,
    meta: { gain: -0.5, probe: { name: null, depth: 90 } },
    wave: [3],
    spikes: [{ t: null, ch: null }],
    labels: { "7": "mua" },
  },
];

const SCHEMA = {
  type: "struct",
  fields: [
    { name: "id", type: "long", nullable: true, metadata: {} },
    {
      name: "meta",
      type: {
        type: "struct",
        fields: [
          { name: "gain", type: "double", nullable: true, metadata: {} },
          {
            name: "probe",
            type: {
              type: "struct",
              fields: [
                { name: "name", type: "string", nullable: true, metadata: {} },
                { name: "depth", type: "integer", nullable: true, metadata: {} },
              ],
            },
            nullable: true,
            metadata: {},
          },
        ],
      },
      nullable: true,
      metadata: {},
    },
    {
      name: "wave",
      type: { type: "array", elementType: "float", containsNull: true },
      nullable: true,
      metadata: {},
    },
    {
      name: "spikes",
      type: {
        type: "array",
        elementType: {
          type: "struct",
          fields: [
            { name: "t", type: "timestamp", nullable: true, metadata: {} },
            { name: "ch", type: "short", nullable: true, metadata: {} },
          ],
        },
        containsNull: true,
      },
      nullable: true,
      metadata: {},
    },
    {
      name: "labels",
      type: { type: "map", keyType: "integer", valueType: "string", valueContainsNull: true },
      nullable: true,
      metadata: {},
    },
  ],
};

/** The rows as `scan --format ndjson` prints them (maps as `[key, value]` pairs). */
const EXPECTED = ROWS.map((r) => ({
  ...r,
  labels: r.labels && Object.entries(r.labels).map(([k, v]) => [Number(k), v]),
}));

async function writeNested(dir: string, extra: string[] = []): Promise<string> {
  const table = `${dir}/t`;
  await Deno.writeTextFile(`${dir}/schema.json`, JSON.stringify(SCHEMA));
  await Deno.writeTextFile(`${dir}/a.ndjson`, ROWS.map((r) => JSON.stringify(r)).join("\n"));
  const written = await cli([
    "write",
    table,
    "--input",
    `${dir}/a.ndjson`,
    "--schema",
    `${dir}/schema.json`,
    ...extra,
  ]);
  assertEquals(written.code, 0, written.stderr);
  return table;
}

async function scanNdjson(table: string): Promise<Record<string, unknown>[]> {
  const out = await cli(["scan", table, "--format", "ndjson"]);
  assertEquals(out.code, 0, out.stderr);
  return out.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

async function latestAdds(table: string): Promise<Add[]> {
  const snapshot = await snapshotOf(await openTable(table));
  return [...snapshot.files.values()];
}

Deno.test("nested columns written by neuralake read the same in scan and in delta-rs, row for row", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await writeNested(dir);
    assertEquals(canonicalRows(await scanNdjson(table)), canonicalRows(EXPECTED));
    const theirs = await readWithDeltaRs(table);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(EXPECTED));

    const csv = await cli(["scan", table, "--format", "csv", "--columns", "id,labels"]);
    assertEquals(csv.code, 0, csv.stderr);
    assertEquals(csv.stdout.split("\n")[1], '1,"[[1,""good""],[2,null]]"');
    const text = await cli([
      "scan",
      table,
      "--format",
      "table",
      "--columns",
      "meta",
      "--limit",
      "1",
    ]);
    assert(text.stdout.includes('{"gain":2.5,"probe":{"name":"A","depth":120}}'), text.stdout);

    // Parquet output keeps the nesting: pyarrow-free check through our reader.
    const out = `${dir}/out.parquet`;
    const pq = await cli(["scan", table, "--format", "parquet", "--output", out]);
    assertEquals(pq.code, 0, pq.stderr);
    const file = await openParquet(bytesSource(await Deno.readFile(out), "out.parquet"));
    assertEquals(file.schema.children.map((c) => c.element.name), [
      "id",
      "meta",
      "wave",
      "spikes",
      "labels",
    ]);
    assertEquals(file.numRows, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Delta stats of a nested table cover struct leaves only, nested under their struct", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await writeNested(dir);
    const [add] = await latestAdds(table);
    const stats = JSON.parse(add!.stats!);
    assertEquals(stats.numRecords, 4);
    assertEquals(stats.minValues, {
      id: 1,
      meta: { gain: -0.5, probe: { name: "A", depth: 90 } },
    });
    assertEquals(stats.maxValues, {
      id: 4,
      meta: { gain: 2.5, probe: { name: "A", depth: 120 } },
    });
    assertEquals(stats.nullCount, {
      id: 0,
      meta: { gain: 2, probe: { name: 3, depth: 2 } },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compaction merges nested files, by copy and by re-encoding, without changing a row", async () => {
  for (const minRowGroupRows of [1, 1_000_000]) {
    const dir = await Deno.makeTempDir();
    try {
      const table = await writeNested(dir);
      for (let i = 0; i < 2; i++) {
        const again = await cli(["write", table, "--input", `${dir}/a.ndjson`]);
        assertEquals(again.code, 0, again.stderr);
      }
      const t = await openTable(table);
      const state = await snapshotOf(t);
      const outcomes = await compactOnce(
        t,
        state,
        {
          targetFileSize: 1 << 30,
          minFiles: 2,
          minRowGroupRows,
        },
      );
      assertEquals(outcomes.map((o) => o.kind), ["committed"]);
      if (minRowGroupRows === 1) assertEquals(outcomes[0]!.copiedRowGroups, 3);
      else assertEquals(outcomes[0]!.decodedRowGroups, 3);
      const tripled = [...EXPECTED, ...EXPECTED, ...EXPECTED];
      assertEquals(canonicalRows(await scanNdjson(table)), canonicalRows(tripled));
      assertEquals(canonicalRows((await readWithDeltaRs(table)).rows), canonicalRows(tripled));
      const [add] = await latestAdds(table);
      const stats = JSON.parse(add!.stats!);
      assertEquals(stats.numRecords, 12);
      assertEquals(stats.nullCount.meta, { gain: 6, probe: { name: 9, depth: 6 } });
      assertEquals(stats.maxValues.meta, { gain: 2.5, probe: { name: "A", depth: 120 } });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("write refuses NDJSON that does not fit the table's nested schema, naming line, column and path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await writeNested(dir);
    await Deno.writeTextFile(
      `${dir}/bad.ndjson`,
      '{"id":5}\n{"id":6,"spikes":[{"t":"2024-01-01T00:00:00Z","ch":70000}]}\n',
    );
    const out = await cli(["write", table, "--input", `${dir}/bad.ndjson`]);
    assertEquals(out.code, 1);
    assert(out.stderr.includes("bad.ndjson:2"), out.stderr);
    assert(out.stderr.includes("spikes[0].ch: cannot read the number 70000 as short"), out.stderr);
    assertEquals((await snapshotOf(await openTable(table))).version, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const mode of ["name", "id"] as const) {
  Deno.test(`column mapping by ${mode}: physical names in files, logical names out, delta-rs agrees`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const table = await writeNested(dir, [
        "--property",
        `delta.columnMapping.mode=${mode}`,
        "--partition-by",
        "id",
      ]);
      const snapshot = await snapshotOf(await openTable(table));
      const schema = parseSchemaString(snapshot.metadata.schemaString);
      const physical = (f: { metadata: Record<string, unknown> }) =>
        f.metadata["delta.columnMapping.physicalName"] as string;
      const ids: number[] = [];
      // deno-lint-ignore no-explicit-any
      const visit = (type: any): void => {
        if (typeof type !== "object") return;
        if (type.type === "array") return visit(type.elementType);
        if (type.type === "map") return (visit(type.keyType), visit(type.valueType));
        for (const f of type.fields) {
          ids.push(f.metadata["delta.columnMapping.id"] as number);
          visit(f.type);
        }
      };
      visit(schema);
      assertEquals(ids.toSorted((a, b) => a - b), ids.map((_, i) => i + 1));
      assertEquals(
        snapshot.metadata.configuration["delta.columnMapping.maxColumnId"],
        String(ids.length),
      );
      const idField = schema.fields[0]!;
      const meta = schema.fields[1]!;
      const adds = [...snapshot.files.values()];
      for (const add of adds) {
        assertEquals(Object.keys(add.partitionValues), [physical(idField)]);
        const stats = JSON.parse(add.stats!);
        assert(physical(meta) in stats.nullCount, add.stats!);
        const bytes = await Deno.readFile(`${table}/${decodeURIComponent(add.path)}`);
        const file = await openParquet(bytesSource(bytes, add.path));
        const top = file.schema.children.map((c) => c.element.name);
        assert(top.includes(physical(meta)) && !top.includes("meta"), top.join(","));
        const metaTree = file.schema.children.find((c) => c.element.name === physical(meta))!;
        if (mode === "id") {
          assertEquals(metaTree.element.field_id, meta.metadata["delta.columnMapping.id"]);
        }
      }
      assertEquals(canonicalRows(await scanNdjson(table)), canonicalRows(EXPECTED));
      assertEquals(
        canonicalRows((await readWithDeltaRs(table, { engine: "datafusion" })).rows),
        canonicalRows(EXPECTED),
      );

      // Appends and compaction keep physical names and field ids.
      const again = await cli(["write", table, "--input", `${dir}/a.ndjson`]);
      assertEquals(again.code, 0, again.stderr);
      const t = await openTable(table);
      const outcomes = await compactOnce(
        t,
        await snapshotOf(t),
        {
          targetFileSize: 1 << 30,
          minFiles: 2,
          minRowGroupRows: 1_000_000,
        },
      );
      assert(outcomes.every((o) => o.kind === "committed"), JSON.stringify(outcomes));
      const doubled = [...EXPECTED, ...EXPECTED];
      assertEquals(canonicalRows(await scanNdjson(table)), canonicalRows(doubled));
      assertEquals(
        canonicalRows((await readWithDeltaRs(table, { engine: "datafusion" })).rows),
        canonicalRows(doubled),
      );
      const where = await cli(["scan", table, "--where", "id = 4", "--columns", "meta"]);
      assertEquals(where.code, 0, where.stderr);
      assertEquals(where.stdout.trim().split("\n").length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("write takes nested Parquet input that fits the table, and names the path that does not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await writeNested(dir);
    const probe = (depth: "integer" | "long"): Field => ({
      name: "meta",
      type: {
        type: "struct",
        fields: [
          { name: "gain", type: "double", nullable: false },
          {
            name: "probe",
            type: {
              type: "struct",
              fields: [
                { name: "name", type: "string", nullable: true },
                { name: "depth", type: depth, nullable: true },
              ],
            },
            nullable: true,
          },
        ],
      },
      nullable: true,
    });
    const fits = encodeParquet({
      fields: [{ name: "id", type: "long", nullable: false }, probe("integer")],
      length: 1,
      columns: [
        { values: new BigInt64Array([9n]) },
        { values: [{ gain: 1, probe: { name: "Z", depth: 7 } }] },
      ],
    });
    await Deno.writeFile(`${dir}/fits.parquet`, fits.bytes);
    const ok = await cli(["write", table, "--input", `${dir}/fits.parquet`]);
    assertEquals(ok.code, 0, ok.stderr);
    const rows = await scanNdjson(table);
    assertEquals(rows.find((r) => r.id === 9), {
      id: 9,
      meta: { gain: 1, probe: { name: "Z", depth: 7 } },
      wave: null,
      spikes: null,
      labels: null,
    });
    const wrong = encodeParquet({
      fields: [{ name: "id", type: "long", nullable: true }, probe("long")],
      length: 1,
      columns: [
        { values: new BigInt64Array([10n]) },
        { values: [{ gain: 1, probe: { name: "Z", depth: 7n } }] },
      ],
    });
    await Deno.writeFile(`${dir}/wrong.parquet`, wrong.bytes);
    const bad = await cli(["write", table, "--input", `${dir}/wrong.parquet`]);
    assertEquals(bad.code, 1);
    assert(
      bad.stderr.includes("meta.probe.depth is integer in the table but long in the input"),
      bad.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write refuses a --schema whose nested fields differ from the table's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await writeNested(dir);
    const other = structuredClone(SCHEMA);
    other.fields[1]!.type = {
      type: "struct",
      fields: [{ name: "gain", type: "float", nullable: true, metadata: {} }],
    } as never;
    await Deno.writeTextFile(`${dir}/other.json`, JSON.stringify(other));
    const out = await cli([
      "write",
      table,
      "--input",
      `${dir}/a.ndjson`,
      "--schema",
      `${dir}/other.json`,
    ]);
    assert(out.code !== 0, out.stderr);
    assert(out.stderr.includes("struct<gain:float>"), out.stderr);
    assertEquals((await snapshotOf(await openTable(table))).version, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
