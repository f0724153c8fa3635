/**
 * Tables that neuralake writes are read by Apache Spark with Delta row for
 * row as neuralake and delta-rs read them. Spark runs once for every table
 * of this file (one JVM start, tens of seconds): to add a table, add a case
 * to `CASES`; its test compares Spark's rows with neuralake's and delta-rs's.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { writeTable } from "../../src/ops/write.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { expectedRows, fixture as fixture_, fixturePath } from "../_helpers/fixtures.ts";
import { copyDir } from "../_helpers/fixture_copy.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { sparkReadAll } from "../_helpers/spark.ts";
import { writeCommit } from "../_helpers/log.ts";
import { ndjsonSourceFromStream } from "../../src/sources/ndjson.ts";
import { commitKey } from "../../src/delta/log_path.ts";

/** One neuralake-written table for Spark to read. */
interface SparkCase {
  name: string;
  /** Writes the table; returns how many rows it holds. */
  build(table: Table): Promise<number>;
  /** How delta-rs reads it: `datafusion` for tables whose features `to_pyarrow_table` refuses. */
  deltaRsEngine?: "datafusion";
}

const PRIMITIVES: Field[] = [
  { name: "b", type: "byte", nullable: true },
  { name: "sh", type: "short", nullable: true },
  { name: "i", type: "integer", nullable: true },
  { name: "l", type: "long", nullable: true },
  { name: "f", type: "float", nullable: true },
  { name: "d", type: "double", nullable: true },
  { name: "ok", type: "boolean", nullable: true },
  { name: "s", type: "string", nullable: true },
  { name: "bin", type: "binary", nullable: true },
  { name: "day", type: "date", nullable: true },
  { name: "ts", type: "timestamp", nullable: true },
  { name: "ntz", type: "timestamp_ntz", nullable: true },
  { name: "d9", type: "decimal(9,2)", nullable: true },
  { name: "d38", type: "decimal(38,10)", nullable: true },
];

const NESTED: Field[] = [
  { name: "id", type: "long", nullable: true },
  {
    name: "meta",
    type: {
      type: "struct",
      fields: [
        { name: "gain", type: "double", nullable: true },
        {
          name: "probe",
          type: {
            type: "struct",
            fields: [
              { name: "name", type: "string", nullable: true },
              { name: "depth", type: "integer", nullable: true },
            ],
          },
          nullable: true,
        },
      ],
    },
    nullable: true,
  },
  {
    name: "wave",
    type: { type: "array", elementType: "float", containsNull: true },
    nullable: true,
  },
  {
    name: "spikes",
    type: {
      type: "array",
      elementType: {
        type: "struct",
        fields: [
          { name: "t", type: "timestamp", nullable: true },
          { name: "d", type: "decimal(10,3)", nullable: true },
        ],
      },
      containsNull: true,
    },
    nullable: true,
  },
  {
    name: "series",
    type: {
      type: "map",
      keyType: "string",
      valueType: { type: "array", elementType: "long", containsNull: true },
      valueContainsNull: true,
    },
    nullable: true,
  },
];

// deno-lint-ignore no-explicit-any
const NESTED_ROWS: Record<string, any>[] = [
  {
    id: 1n,
    meta: { gain: 2.5, probe: { name: "A", depth: 120 } },
    wave: [0.5, null, -1.25],
    spikes: [{ t: 1714564800000001n, d: 12345n }, null],
    series: new Map<string, unknown>([["a", [1n, null]], ["b", null]]),
  },
  {
    id: 2n,
    meta: { gain: null, probe: null },
    wave: [],
    spikes: [],
    series: new Map(),
  },
  { id: 3n, meta: null, wave: null, spikes: null, series: null },
  {
    id: 4n,
    meta: { gain: -0.5, probe: { name: null, depth: 90 } },
    wave: [3],
    spikes: [{ t: null, d: null }],
    series: new Map([["z", []]]),
  },
];

export const CASES: SparkCase[] = [
  {
    name: "neural recording, two commits",
    async build(table) {
      const gen = new NeuralGenerator({ seed: 11 });
      for (let seq = 0; seq < 2; seq++) {
        const batch = gen.generate({
          writerId: "writer-0",
          sessionId: "s1",
          batchSeq: seq,
          tick0: 1_700_000_000_000,
          startRow: seq * 500,
          rows: 500,
        });
        await writeTable(table, sourceOf(batch));
      }
      return 1000;
    },
  },
  {
    name: "every primitive type with nulls and extremes",
    async build(table) {
      const rows = [
        {
          b: -128,
          sh: -32768,
          i: -2147483648,
          l: -9223372036854775808n,
          f: -1.5,
          d: -1e300,
          ok: false,
          s: "",
          bin: new Uint8Array([]),
          day: -719162,
          ts: -2208988800000000n,
          ntz: 0n,
          d9: -9999999n,
          d38: -99999999999999999999999999999999999999n,
        },
        {
          b: 127,
          sh: 32767,
          i: 2147483647,
          l: 9223372036854775807n,
          f: 3.4028234663852886e38,
          d: Infinity,
          ok: true,
          s: 'héllo, "world"\n𝄞',
          bin: new Uint8Array([0, 1, 255]),
          day: 2932896,
          ts: 253402300799999999n,
          ntz: 1704067200123456n,
          d9: 9999999n,
          d38: 12345678901234567890n,
        },
        { b: 0, l: 9007199254740993n, f: NaN, d: -0, ts: 1n, d9: 0n },
        {},
      ];
      await writeTable(table, sourceOf(batchOf(PRIMITIVES, rows)));
      return rows.length;
    },
  },
  {
    name: "partitioned, with null and special-character partition values",
    async build(table) {
      const fields: Field[] = [
        { name: "region", type: "string", nullable: true },
        { name: "day", type: "date", nullable: true },
        { name: "v", type: "long", nullable: true },
      ];
      const rows = Array.from({ length: 24 }, (_, i) => ({
        region: i % 5 === 0 ? null : ["M1", "a/b=c", "x y%", "ünï #:"][i % 4]!,
        day: i % 7 === 0 ? null : 19700 + (i % 3),
        v: BigInt(i),
      }));
      await writeTable(table, sourceOf(batchOf(fields, rows)), { partitionBy: ["region", "day"] });
      return rows.length;
    },
  },
  {
    name: "twelve commits and a checkpoint",
    async build(table) {
      const fields: Field[] = [{ name: "n", type: "long", nullable: false }];
      for (let v = 0; v < 12; v++) {
        await writeTable(table, sourceOf(batchOf(fields, [{ n: BigInt(v) }, { n: BigInt(-v) }])));
      }
      await checkpointTable(table);
      await writeTable(table, sourceOf(batchOf(fields, [{ n: 100n }])));
      return 25;
    },
  },
  {
    name:
      "v2Checkpoint feature: a UUID-named checkpoint and its sidecar, without the commits before",
    deltaRsEngine: "datafusion",
    async build(table) {
      const fields: Field[] = [{ name: "n", type: "long", nullable: false }];
      await writeTable(table, sourceOf(batchOf(fields, [{ n: 0n }])));
      await writeCommit(table.store, 1, [{
        protocol: {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ["v2Checkpoint"],
          writerFeatures: ["v2Checkpoint"],
        },
      }]);
      for (let v = 1; v <= 6; v++) {
        await writeTable({ ...table }, sourceOf(batchOf(fields, [{ n: BigInt(v) }])));
      }
      const hint = await checkpointTable({ ...table });
      assert(hint.v2Checkpoint, "a v2 checkpoint was written");
      await table.store.delete(Array.from({ length: hint.version }, (_, v) => commitKey(v)));
      await writeTable({ ...table }, sourceOf(batchOf(fields, [{ n: 7n }])));
      return 8;
    },
  },
  {
    name:
      "Spark's DELETE, UPDATE and MERGE with deletion vectors, after neuralake's optimize and vacuum",
    deltaRsEngine: "datafusion",
    async build(table) {
      const fixture = fixture_("spark_dml_deletion_vectors");
      await copyDir(fixturePath(fixture.name), new URL(table.uri).pathname);
      const before = await snapshotOf(table);
      assert([...before.files.values()].some((f) => f.deletionVector), "the fixture has vectors");
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      await vacuum(table.store, () => snapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        now: () => Date.now() + 30 * 86_400_000,
      });
      const after = await snapshotOf(table);
      assert(![...after.files.values()].some((f) => f.deletionVector), "vectors were purged");
      for await (const entry of Deno.readDir(new URL(table.uri).pathname)) {
        assert(!entry.name.startsWith("deletion_vector_"), `${entry.name} was not vacuumed`);
      }
      // Nothing deleted came back: the rows are the ones Spark wrote.
      const ours = await readWithNeuralake(table);
      assertEquals(canonicalRows(ours.rows), canonicalRows(expectedRows(fixture.name)));
      return fixture.rows;
    },
  },
  {
    name:
      "Spark's column-mapped table with deletion vectors, a renamed and a dropped column, after neuralake's append, optimize and vacuum",
    deltaRsEngine: "datafusion",
    async build(table) {
      const fixture = fixture_("spark_dv_column_mapping");
      await copyDir(fixturePath(fixture.name), new URL(table.uri).pathname);
      const before = await snapshotOf(table);
      assert([...before.files.values()].some((f) => f.deletionVector), "the fixture has vectors");
      const text = '{"id":200,"new_name":"ours","amount":1.25}\n';
      await writeTable(table, (fields) =>
        ndjsonSourceFromStream(
          ReadableStream.from([new TextEncoder().encode(text)]),
          "append.ndjson",
          fields ? { schema: fields } : {},
        ));
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      await vacuum(table.store, () => snapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        now: () => Date.now() + 30 * 86_400_000,
      });
      const after = await snapshotOf(table);
      assert(![...after.files.values()].some((f) => f.deletionVector), "vectors were purged");
      for await (const entry of Deno.readDir(new URL(table.uri).pathname)) {
        assert(!entry.name.startsWith("deletion_vector_"), `${entry.name} was not vacuumed`);
      }
      // No deleted row came back, the renamed column kept its values and the
      // dropped one stayed gone.
      const ours = await readWithNeuralake(table);
      assertEquals(
        canonicalRows(ours.rows),
        canonicalRows([
          ...expectedRows(fixture.name),
          { id: 200, new_name: "ours", amount: 1.25 },
        ]),
      );
      return fixture.rows + 1;
    },
  },
  {
    name: "Spark's in-commit-timestamp table, after neuralake's appends and optimize",
    deltaRsEngine: "datafusion",
    async build(table) {
      const fixture = fixture_("spark_feature_in_commit_timestamp");
      await copyDir(fixturePath(fixture.name), new URL(table.uri).pathname);
      const fields: Field[] = [
        { name: "id", type: "long", nullable: true },
        { name: "name", type: "string", nullable: true },
      ];
      for (const id of [100n, 101n]) {
        await writeTable(table, sourceOf(batchOf(fields, [{ id, name: `row ${id}` }])));
      }
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      return fixture.rows + 2;
    },
  },
  {
    name:
      "nested columns (struct, array, list of structs, map of arrays) with nulls at every level",
    async build(table) {
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS)));
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS.slice(0, 2))));
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      return NESTED_ROWS.length + 2;
    },
  },
  {
    name: "column mapping by id with nested columns, appended and optimized",
    deltaRsEngine: "datafusion",
    async build(table) {
      const options = { properties: { "delta.columnMapping.mode": "id" } };
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS)), options);
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS)));
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      return NESTED_ROWS.length * 2;
    },
  },
  {
    name: "column mapping by name with nested columns, appended, optimized and vacuumed",
    deltaRsEngine: "datafusion",
    async build(table) {
      const options = {
        partitionBy: ["id"],
        properties: { "delta.columnMapping.mode": "name" },
      };
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS)), options);
      await writeTable(table, sourceOf(batchOf(NESTED, NESTED_ROWS)));
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      await vacuum(table.store, () => snapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        now: () => Date.now() + 30 * 86_400_000,
      });
      return NESTED_ROWS.length * 2;
    },
  },
  {
    name:
      "Spark's column-mapped table with a renamed nested field, appended, optimized and vacuumed",
    deltaRsEngine: "datafusion",
    async build(table) {
      const fixture = fixture_("spark_column_mapping_nested");
      await copyDir(fixturePath(fixture.name), new URL(table.uri).pathname);
      const text = '{"id":5,"info":{"new_field":"e","n":5},"events":[{"kind":"k","at":50}],' +
        '"attrs":[["z",5]]}\n';
      for (let i = 0; i < 2; i++) {
        await writeTable(table, (fields) =>
          ndjsonSourceFromStream(
            ReadableStream.from([new TextEncoder().encode(text)]),
            "append.ndjson",
            fields ? { schema: fields } : {},
          ));
      }
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      await vacuum(table.store, () => snapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        now: () => Date.now() + 30 * 86_400_000,
      });
      // The renamed field kept its data, and nothing dropped came back.
      const ours = await readWithNeuralake(table);
      const added = { id: 5, info: { new_field: "e", n: 5 }, events: [{ kind: "k", at: 50 }] };
      assertEquals(
        canonicalRows(ours.rows),
        canonicalRows([
          ...expectedRows(fixture.name),
          { ...added, attrs: [["z", 5]] },
          { ...added, attrs: [["z", 5]] },
        ]),
      );
      return fixture.rows + 2;
    },
  },
  {
    name: "integers beyond int64 in NDJSON, inferred as decimal(p,0), top-level and nested",
    async build(table) {
      const text = '{"id":1,"n":12345678901234567890123,"s":{"m":-99999999999999999999}}\n' +
        '{"id":2,"n":-9223372036854775809,"s":{"m":7}}\n' +
        '{"id":3,"n":5,"s":null}\n';
      await writeTable(
        table,
        await ndjsonSourceFromStream(
          ReadableStream.from([new TextEncoder().encode(text)]),
          "wide.ndjson",
        ),
      );
      const types = (await snapshotOf(table)).schema.fields.map((f) => f.type);
      assertEquals(JSON.stringify(types[1]), '"decimal(23,0)"');
      return 3;
    },
  },
];

interface Built {
  uri: string;
  table: Table;
  rows: number;
  spark: { version: number; rows: Record<string, unknown>[] };
}

let built: Promise<Built[]> | undefined;
let pending = CASES.length;
let dir: string | undefined;

/** Writes every case's table, then reads them all with Spark in one session. */
function buildAll(): Promise<Built[]> {
  return built ??= (async () => {
    dir = await Deno.makeTempDir({ prefix: "neuralake-spark-" });
    const tables = [];
    for (const [i, c] of CASES.entries()) {
      const uri = `${dir}/table-${i}`;
      const table = await openTable(uri);
      tables.push({ uri, table, rows: await c.build(table) });
    }
    const read = await sparkReadAll(tables.map((t) => ({ uri: t.uri })));
    return tables.map((t, i) => ({ ...t, spark: read[i]! }));
  })();
}

for (const [i, c] of CASES.entries()) {
  Deno.test(`Spark reads neuralake's table (${c.name}) as neuralake and delta-rs do`, async () => {
    try {
      const table = (await buildAll())[i]!;
      const ours = await readWithNeuralake(table.table);
      const theirs = await readWithDeltaRs(
        table.uri,
        CASES[i]!.deltaRsEngine ? { engine: CASES[i]!.deltaRsEngine } : {},
      );
      assertEquals(table.spark.rows.length, table.rows);
      assertEquals(table.spark.version, ours.version);
      assertEquals(theirs.version, ours.version);
      const spark = canonicalRows(table.spark.rows);
      assertEquals(canonicalRows(ours.rows), spark);
      assertEquals(canonicalRows(theirs.rows), spark);
      assert(table.rows > 0);
    } finally {
      if (--pending === 0 && dir) await Deno.remove(dir, { recursive: true });
    }
  });
}
