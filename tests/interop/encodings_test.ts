/**
 * Every encoding and codec the writer can choose is read row for row alike by
 * delta-rs (its Rust reader, through DataFusion), pyarrow (delta-rs's
 * `to_pyarrow_table`), Spark and our own scan. Each table's footers are
 * checked first, so that a case cannot pass by writing something other than
 * what it names. Spark runs twice for the whole file: with its default,
 * vectorized reader, and without it for BYTE_STREAM_SPLIT, which that reader
 * refuses (which is why it is not our default).
 */

import { parquetMetadata } from "hyparquet";
import type { Field } from "../../src/columnar/batch.ts";
import type { EncodeOptions } from "../../src/parquet/encode.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { writeTable } from "../../src/ops/write.ts";
import { openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { decodeFilePath } from "../../src/delta/partition.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { rowObject } from "../../src/cli/cells.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { spark } from "../_helpers/spark.ts";

/** One table written with some encoding choices. */
interface EncodingCase {
  name: string;
  /** Writes the table; returns its rows as written, or undefined to compare readers only. */
  build(table: Table): Promise<Record<string, unknown>[] | number>;
  /** What every data file's footer must show. */
  codec: string;
  /** A second codec some chunks must have (small chunks under `zstdMinChunkBytes`). */
  smallCodec?: string;
  encodings: Record<string, string>;
  /** Spark's vectorized reader refuses the table. */
  vectorizedRefuses?: boolean;
}

const FLOATS: Field[] = [
  { name: "id", type: "long", nullable: false },
  { name: "f", type: "float", nullable: true },
  { name: "d", type: "double", nullable: true },
];

/** Floats and doubles with nulls, NaN, signed zeros, infinities, extremes and subnormals. */
function floatRows(count: number, from: number): Record<string, unknown>[] {
  const special = [NaN, -0, 0, Infinity, -Infinity, 3.4028234663852886e38, 1.401298464324817e-45];
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const f = i % 17 === 0 ? null : i % 13 === 0 ? special[i % special.length]! : Math.sin(i) * 40;
    const d = i % 11 === 0
      ? null
      : i % 7 === 0
      ? [NaN, -0, Infinity, -Infinity, 5e-324, -1e300][i % 6]!
      : Math.cos(i) * 1e6 + i / 3;
    return { id: BigInt(i), f: f === null ? null : Math.fround(f), d };
  });
}

async function appendFloats(
  table: Table,
  encode: EncodeOptions,
  batches: number,
  rows: number,
): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (let b = 0; b < batches; b++) {
    // deno-lint-ignore no-explicit-any
    const batch = batchOf(FLOATS, floatRows(rows, b * rows) as any);
    await writeTable(table, sourceOf(batch), { encode });
    // As readWithNeuralake gives rows: JSON cells, floats as the stored float32.
    for (let r = 0; r < batch.length; r++) {
      const row = rowObject(batch, r);
      if (typeof row.f === "number") row.f = Math.fround(row.f);
      all.push(row);
    }
  }
  return all;
}

const CASES: EncodingCase[] = [
  {
    name:
      "the defaults (ZSTD, DELTA_BINARY_PACKED timestamps, dictionaries) on neural rows in many pages, appended and optimized",
    codec: "ZSTD",
    encodings: {
      timestamp_us: "DELTA_BINARY_PACKED",
      region: "RLE_DICTIONARY",
      neuron_id: "RLE_DICTIONARY",
      voltage_uv: "PLAIN",
    },
    async build(table) {
      const gen = new NeuralGenerator({ seed: 3, neurons: 64 });
      for (let seq = 0; seq < 3; seq++) {
        const batch = gen.generate({
          writerId: "writer-0",
          sessionId: "s1",
          batchSeq: seq,
          tick0: 1_700_000_000_000,
          startRow: seq * 3000,
          rows: 3000,
        });
        // Small pages: every chunk holds many.
        await writeTable(table, sourceOf(batch), { encode: { pageSize: 2048 } });
      }
      const result = await optimizeTable(table, { targetFileSize: 1 << 30, minFiles: 2 });
      assert(result.committed > 0, JSON.stringify(result.outcomes));
      return 9000;
    },
  },
  {
    name: "ZSTD with chunks under 16 KiB SNAPPY (zstdMinChunkBytes): two codecs in one file",
    codec: "ZSTD",
    smallCodec: "SNAPPY",
    encodings: { timestamp_us: "DELTA_BINARY_PACKED", region: "RLE_DICTIONARY" },
    async build(table) {
      const gen = new NeuralGenerator({ seed: 4, neurons: 64 });
      for (let seq = 0; seq < 2; seq++) {
        const batch = gen.generate({
          writerId: "writer-0",
          sessionId: "s1",
          batchSeq: seq,
          tick0: 1_700_000_000_000,
          startRow: seq * 5000,
          rows: 5000,
        });
        await writeTable(table, sourceOf(batch), { encode: { zstdMinChunkBytes: 16 * 1024 } });
      }
      return 10_000;
    },
  },
  {
    name: "BYTE_STREAM_SPLIT floats and doubles with nulls, NaN, signed zeros and infinities, ZSTD",
    codec: "ZSTD",
    encodings: { f: "BYTE_STREAM_SPLIT", d: "BYTE_STREAM_SPLIT" },
    vectorizedRefuses: true,
    build: (table) =>
      appendFloats(
        table,
        { floatEncoding: "BYTE_STREAM_SPLIT", pageSize: 1000, zstdMinChunkBytes: 0 },
        2,
        1500,
      ),
  },
  {
    name: "BYTE_STREAM_SPLIT under GZIP, without dictionaries",
    codec: "GZIP",
    encodings: { f: "BYTE_STREAM_SPLIT", id: "PLAIN" },
    vectorizedRefuses: true,
    async build(table) {
      const rows = await appendFloats(
        table,
        { codec: "GZIP", floatEncoding: "BYTE_STREAM_SPLIT", dictionary: false },
        1,
        700,
      );
      return rows;
    },
  },
];

interface Built {
  uri: string;
  table: Table;
  written: Record<string, unknown>[] | number;
  spark: { ok: boolean; rows?: Record<string, unknown>[]; message?: string };
  sparkVectorized: { ok: boolean; message?: string };
}

let built: Promise<Built[]> | undefined;
let pending = CASES.length;
let dir: string | undefined;

/** Writes every table, then reads them with Spark, with and without its vectorized reader. */
function buildAll(): Promise<Built[]> {
  return built ??= (async () => {
    dir = await Deno.makeTempDir({ prefix: "neuralake-encodings-" });
    const tables = [];
    for (const [i, c] of CASES.entries()) {
      const uri = `${dir}/table-${i}`;
      const table = await openTable(uri);
      tables.push({ uri, table, written: await c.build(table) });
    }
    const reads = tables.map((t) => ({ uri: t.uri }));
    const vectorized = await spark({ reads });
    const rowwise = await spark({
      reads: CASES.map((c, i) => c.vectorizedRefuses ? reads[i]! : undefined).filter((r) =>
        r !== undefined
      ),
      conf: { "spark.sql.parquet.enableVectorizedReader": "false" },
    });
    let next = 0;
    return tables.map((t, i) => ({
      ...t,
      sparkVectorized: vectorized.reads[i]!,
      spark: CASES[i]!.vectorizedRefuses ? rowwise.reads[next++]! : vectorized.reads[i]!,
    }));
  })();
}

/** Checks every data file's footer: the codec and each named column's value encoding. */
async function checkFooters(table: Table, c: EncodingCase): Promise<void> {
  const snapshot = await snapshotOf(table);
  assert(snapshot.files.size > 0, "the table has files");
  let codecs = 0;
  let smallCodecs = 0;
  for (const path of snapshot.files.keys()) {
    const bytes = (await table.store.get(decodeFilePath(path)))!;
    const meta = parquetMetadata(bytes.slice().buffer);
    for (const group of meta.row_groups) {
      for (const chunk of group.columns) {
        const m = chunk.meta_data!;
        const column = m.path_in_schema[0]!;
        const allowed = c.smallCodec ? [c.codec, c.smallCodec] : [c.codec];
        assert(allowed.includes(m.codec), `codec of ${column} in ${path} is ${m.codec}`);
        if (m.codec === c.codec) codecs++;
        if (m.codec === c.smallCodec) smallCodecs++;
        const want = c.encodings[column];
        if (want) {
          const used = m.encoding_stats?.filter((s) =>
            s.page_type === "DATA_PAGE"
          ).map((s) => s.encoding) ?? m.encodings;
          assert(used.includes(want as never), `${column} in ${path} is ${used}, not ${want}`);
        }
      }
    }
  }
  assert(codecs > 0, `no chunk is ${c.codec}`);
  if (c.smallCodec) assert(smallCodecs > 0, `no chunk is ${c.smallCodec}`);
}

for (const [i, c] of CASES.entries()) {
  Deno.test(`delta-rs, pyarrow, Spark and scan read ${c.name} as written`, async () => {
    try {
      const t = (await buildAll())[i]!;
      await checkFooters(t.table, c);
      const ours = await readWithNeuralake(t.table);
      const rust = await readWithDeltaRs(t.uri, { engine: "datafusion" });
      const pyarrow = await readWithDeltaRs(t.uri);
      assert(t.spark.ok, `Spark cannot read ${c.name}: ${t.spark.message}`);
      const expected = canonicalRows(ours.rows);
      if (typeof t.written === "number") assertEquals(ours.rows.length, t.written);
      else assertEquals(expected, canonicalRows(t.written), "scan returns the rows written");
      assertEquals(canonicalRows(rust.rows), expected, "delta-rs (DataFusion)");
      assertEquals(canonicalRows(pyarrow.rows), expected, "pyarrow");
      assertEquals(canonicalRows(t.spark.rows!), expected, "Spark");
      // Spark's vectorized reader refuses BYTE_STREAM_SPLIT; if it starts to
      // read it, the encoding may become the default for floats.
      assertEquals(!t.sparkVectorized.ok, c.vectorizedRefuses === true, "Spark, vectorized");
    } finally {
      if (--pending === 0 && dir) await Deno.remove(dir, { recursive: true });
    }
  });
}
