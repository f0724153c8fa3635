/**
 * Throughput of the Parquet layer on the 10-column neural schema, single
 * threaded: our encoder against hyparquet-writer's own path on the same data,
 * the cost of each encoding choice, the snappy compressors, decoding, and
 * merging by copy versus by re-encoding.
 *
 * Run: `deno run -A bench/parquet_encode.ts [--reps N] [--neurons N] [--section S]`
 * (sections: sizes, zstd, gzip, options, snappy, decode, merge; default all)
 * ("tuned" hyparquet-writer: hysnappy, DELTA_BINARY_PACKED timestamps, no
 * statistics, row groups of 100k rows.)
 * Prints medians (with min and max) over the repetitions, and the median of
 * the process's CPU seconds per million units (rows, or bytes for MB/s
 * lines), which a loaded machine disturbs far less than the rates; every
 * repetition encodes at least 1M rows, so small files are timed over many calls.
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import { snappyCompress as jsSnappy } from "../src/parquet/_hyparquet.ts";
import type { ColumnBatch } from "../src/columnar/batch.ts";
import { bytesSource, openParquet, readColumns } from "../src/parquet/decode.ts";
import { compressorFor } from "../src/parquet/codecs.ts";
import { type EncodeOptions, encodeParquet } from "../src/parquet/encode.ts";
import { mergeParquet } from "../src/parquet/merge.ts";
import { MICRO_FLAGS, neuralSource, repsOf, type Spread, spreadOf } from "./micro.ts";
import { differingFromOneShot, reusedGzip } from "./gzip_reuse.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { ...MICRO_FLAGS, section: { type: "string", multiple: true } },
  strict: true,
});
const reps = repsOf(values);
const neurons = Number(values.neurons);
const SECTIONS = ["sizes", "zstd", "gzip", "options", "snappy", "decode", "merge"];
const sections = new Set(values.section ?? SECTIONS);
for (const s of sections) {
  if (!SECTIONS.includes(s)) {
    throw new RangeError(`--section must be one of ${SECTIONS.join(", ")}`);
  }
}

const MIN_ROWS_PER_REP = 1_000_000;
const { generator, tick0 } = neuralSource(neurons);

/** `count` distinct consecutive batches of `rows` rows. */
function batches(rows: number, count: number): ColumnBatch[] {
  const out: ColumnBatch[] = [];
  for (let i = 0; i < count; i++) {
    const batch: ColumnBatch = { fields: [], columns: [], length: 0 };
    generator.generate(
      { writerId: "writer-0", sessionId: "bench", batchSeq: i, tick0, startRow: i * rows, rows },
      batch,
    );
    out.push(batch);
  }
  return out;
}

/** Rates per second, and the process's CPU seconds per million units (steadier under load). */
type Measured = Spread & { cpu: number };

/** User plus system CPU seconds of this process. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs `fn` (which handles `units` units) `reps` times after a warm-up. */
function measure(units: number, fn: () => void): Measured {
  fn();
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const begin = performance.now();
    const cpu0 = cpuSeconds();
    fn();
    cpu.push((cpuSeconds() - cpu0) / units * 1e6);
    rates.push(units / ((performance.now() - begin) / 1000));
  }
  return { ...spreadOf(rates), cpu: spreadOf(cpu).median };
}

async function measureAsync(units: number, fn: () => Promise<void>): Promise<Measured> {
  await fn();
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const begin = performance.now();
    const cpu0 = cpuSeconds();
    await fn();
    cpu.push((cpuSeconds() - cpu0) / units * 1e6);
    rates.push(units / ((performance.now() - begin) / 1000));
  }
  return { ...spreadOf(rates), cpu: spreadOf(cpu).median };
}

const M = (v: number) => `${(v / 1e6).toFixed(2)}M`;
const MB = (v: number) => (v / 1e6).toFixed(1);

/** One result: the rate's median, min and max, the median CPU-s per million units. */
function line(label: string, r: Measured, extra = "", unit = M): void {
  console.log(
    `${label.padEnd(44)} ${unit(r.median).padStart(8)} ${unit(r.min).padStart(8)} ${
      unit(r.max).padStart(8)
    } ${r.cpu.toFixed(3).padStart(8)}  ${extra}`,
  );
}

/** hyparquet-writer's own path, fed the same typed arrays. */
function hyparquetWrite(batch: ColumnBatch, tuned: boolean): ArrayBuffer {
  const typeOf: Record<string, "TIMESTAMP" | "STRING" | "INT64" | "INT32" | "FLOAT" | "BOOLEAN"> = {
    timestamp: "TIMESTAMP",
    string: "STRING",
    long: "INT64",
    integer: "INT32",
    float: "FLOAT",
    boolean: "BOOLEAN",
  };
  return parquetWriteBuffer({
    columnData: batch.fields.map((f, i) => {
      const data = batch.columns[i]!.values;
      return {
        name: f.name,
        data: f.type === "boolean" ? Array.from(data as Uint8Array, (v) => v === 1) : data,
        type: typeOf[f.type as string]!,
        nullable: false,
        ...(tuned && f.type === "timestamp" ? { encoding: "DELTA_BINARY_PACKED" as const } : {}),
      };
    }),
    ...(tuned
      ? {
        statistics: false,
        compressors: { SNAPPY: compressorFor("SNAPPY")! },
        rowGroupSize: 100_000,
      }
      : {}),
  });
}

console.log(
  `parquet layer, neural schema (${neurons} neurons), ${reps} repetitions, median/min/max`,
);

// 1. Encode throughput by file size: ours against hyparquet-writer.
if (sections.has("sizes")) {
  console.log(
    "\n== encode, rows/s (SNAPPY on both sides)          median      min      max  CPU-s/M  file size",
  );
}
for (const rows of sections.has("sizes") ? [500, 5_000, 50_000, 100_000, 1_000_000] : []) {
  const count = Math.max(1, Math.ceil(MIN_ROWS_PER_REP / rows));
  const files = batches(rows, Math.min(count, 40));
  const total = rows * count;
  const snappy = { codec: "SNAPPY" } as const;
  const size = encodeParquet(files[0]!, snappy).bytes.length;
  line(
    `ours, ${rows} rows per file`,
    measure(total, () => {
      for (let i = 0; i < count; i++) encodeParquet(files[i % files.length]!, snappy);
    }),
    `${(size / 1024).toFixed(1)} KiB (${(size / rows).toFixed(2)} B/row)`,
  );
  if (rows >= 50_000) {
    const hsize = hyparquetWrite(files[0]!, false).byteLength;
    line(
      `hyparquet-writer defaults, ${rows} rows`,
      measure(total, () => {
        for (let i = 0; i < count; i++) hyparquetWrite(files[i % files.length]!, false);
      }),
      `${(hsize / 1024).toFixed(1)} KiB`,
    );
    line(
      `hyparquet-writer tuned, ${rows} rows`,
      measure(total, () => {
        for (let i = 0; i < count; i++) hyparquetWrite(files[i % files.length]!, true);
      }),
    );
  }
}

// 1b. By file size: the default, ZSTD with smaller chunks SNAPPY or none, SNAPPY.
if (sections.has("zstd")) {
  console.log(
    "\n== encode by file size, rows/s                    median      min      max  CPU-s/M  file size",
  );
}
const zstdVariants: [string, EncodeOptions][] = [
  ["default", {}],
  ["ZSTD, chunks < 16 KiB SNAPPY", { zstdMinChunkBytes: 16_384 }],
  ["ZSTD, chunks < 4 KiB SNAPPY", { zstdMinChunkBytes: 4_096 }],
  ["ZSTD, every chunk", { zstdMinChunkBytes: 0 }],
  ["SNAPPY", { codec: "SNAPPY" }],
];
for (const rows of sections.has("zstd") ? [500, 5_000, 50_000, 1_000_000] : []) {
  const count = Math.max(1, Math.ceil(MIN_ROWS_PER_REP / rows));
  const files = batches(rows, Math.min(count, 40));
  for (const [label, options] of zstdVariants) {
    const size = encodeParquet(files[0]!, options).bytes.length;
    line(
      `${rows} rows, ${label}`,
      measure(rows * count, () => {
        for (let i = 0; i < count; i++) encodeParquet(files[i % files.length]!, options);
      }),
      `${(size / 1024).toFixed(1)} KiB (${(size / rows).toFixed(2)} B/row)`,
    );
  }
}

// 1c. GZIP pages through one reused deflate context (bench/gzip_reuse.ts,
// an experiment neuralake does not use) against gzipSync's stream and
// context per call, on the pages of files of each size (each column's values
// as one page); how many pages' bytes differ from gzipSync's after the pages
// before them; then whole files with GZIP as neuralake writes them.
if (sections.has("gzip")) {
  console.log(
    "\n== GZIP (level 6), pages and rows                  median      min      max  CPU-s/M",
  );
}
for (const rows of sections.has("gzip") ? [500, 5_000, 50_000] : []) {
  const count = Math.max(1, Math.ceil(MIN_ROWS_PER_REP / rows));
  const files = batches(rows, Math.min(count, 40));
  const pages = files.flatMap((b) =>
    b.columns.filter((c) => ArrayBuffer.isView(c.values)).map((c) => {
      const v = c.values as ArrayBufferView;
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    })
  );
  const calls = Math.max(pages.length, Math.min(20_000, count * 10));
  const reused = reusedGzip(6);
  if (reused) {
    line(
      `${rows} rows, pages, one context`,
      measure(calls, () => {
        for (let i = 0; i < calls; i++) reused(pages[i % pages.length]!);
      }),
      `${differingFromOneShot(pages, reused, 6)} of ${pages.length} pages differ from gzipSync`,
    );
  }
  line(
    `${rows} rows, pages, gzipSync`,
    measure(calls, () => {
      for (let i = 0; i < calls; i++) gzipSync(pages[i % pages.length]!, { level: 6 });
    }),
  );
  const size = encodeParquet(files[0]!, { codec: "GZIP" }).bytes.length;
  line(
    `${rows} rows, files, GZIP`,
    measure(rows * count, () => {
      for (let i = 0; i < count; i++) encodeParquet(files[i % files.length]!, { codec: "GZIP" });
    }),
    `${(size / 1024).toFixed(1)} KiB (${(size / rows).toFixed(2)} B/row)`,
  );
}

// 2. What each choice costs, on 100k-row files.
const hundred = ["options", "snappy", "merge"].some((s) => sections.has(s))
  ? batches(100_000, 10)
  : [];
if (sections.has("options")) {
  console.log(
    "\n== encode options, 100k rows per file, rows/s      median      min      max  CPU-s/M  file size",
  );
  const variants: [string, EncodeOptions][] = [
    ["default (ZSTD 1, DBP timestamps, dictionary)", {}],
    ["SNAPPY", { codec: "SNAPPY" }],
    ["UNCOMPRESSED", { codec: "UNCOMPRESSED" }],
    ["ZSTD 3", { codec: "ZSTD", level: 3 }],
    ["ZSTD 1, BYTE_STREAM_SPLIT floats", { floatEncoding: "BYTE_STREAM_SPLIT" }],
    ["GZIP", { codec: "GZIP" }],
    ["PLAIN timestamps", { timestampEncoding: "PLAIN" }],
    ["no dictionaries", { dictionary: false }],
    ["row groups of 10k rows", { rowGroupRows: 10_000 }],
  ];
  for (const [label, options] of variants) {
    const size = encodeParquet(hundred[0]!, options).bytes.length;
    line(
      label,
      measure(1_000_000, () => {
        for (const b of hundred) encodeParquet(b, options);
      }),
      `${(size / 1024).toFixed(1)} KiB`,
    );
  }
}

// 3. Snappy compressors on a page of float samples.
if (sections.has("snappy")) {
  console.log(
    "\n== snappy on a 400 KB float page, MB/s              median      min      max  CPU-s/M",
  );
  const page = new Uint8Array(
    (hundred[0]!.columns[6]!.values as Float32Array).buffer.slice(0, 400_000),
  );
  const wasm = compressorFor("SNAPPY")!;
  line(
    "hysnappy (WASM)",
    measure(page.length * 20, () => {
      for (let i = 0; i < 20; i++) wasm(page);
    }),
    "",
    MB,
  );
  line(
    "hyparquet-writer snappy (JS)",
    measure(page.length * 20, () => {
      for (let i = 0; i < 20; i++) jsSnappy(page);
    }),
    "",
    MB,
  );
}

// 4. Decode.
if (sections.has("decode")) {
  console.log(
    "\n== decode, rows/s                                  median      min      max  CPU-s/M",
  );
  const million = batches(1_000_000, 1)[0]!;
  const millionBytes = encodeParquet(million, { rowGroupRows: 100_000 }).bytes;
  const millionFile = await openParquet(bytesSource(millionBytes, "million.parquet"));
  line(
    "readColumns, 1M rows, all 10 columns",
    await measureAsync(1_000_000, async () => {
      await readColumns(millionFile, { fields: million.fields });
    }),
  );
  line(
    "readColumns, 1M rows, 2 columns",
    await measureAsync(1_000_000, async () => {
      await readColumns(millionFile, { fields: [million.fields[0]!, million.fields[6]!] });
    }),
  );
  // Small files, every chunk ZSTD: what a fixed cost per page does to reading.
  for (const rows of [5_000, 50_000]) {
    const count = Math.ceil(MIN_ROWS_PER_REP / rows);
    const small = await Promise.all(
      batches(rows, Math.min(count, 40)).map((b, i) =>
        openParquet(bytesSource(encodeParquet(b, { zstdMinChunkBytes: 0 }).bytes, `p${i}`))
      ),
    );
    line(
      `readColumns, ${rows}-row files, every chunk ZSTD`,
      await measureAsync(rows * count, async () => {
        for (let i = 0; i < count; i++) {
          await readColumns(small[i % small.length]!, { fields: million.fields });
        }
      }),
    );
  }
}

// 5. Merge: byte copy against decode and re-encode, 10 files of 100k rows.
if (sections.has("merge")) {
  console.log(
    "\n== merge 10 x 100k-row files, input MB/s           median      min      max  CPU-s/M",
  );
  const inputs = hundred.map((b, i) => ({ bytes: encodeParquet(b).bytes, name: `part-${i}` }));
  const inputBytes = inputs.reduce((n, f) => n + f.bytes.length, 0);
  line(
    "copy row groups (minRowGroupRows 50k)",
    await measureAsync(inputBytes, async () => {
      await mergeParquet(inputs, { minRowGroupRows: 50_000 });
    }),
    `${MB(inputBytes)} MB in`,
    MB,
  );
  line(
    "decode and re-encode (minRowGroupRows 1M)",
    await measureAsync(inputBytes, async () => {
      await mergeParquet(inputs, { minRowGroupRows: 1_000_000 });
    }),
    `${MB(inputBytes)} MB in`,
    MB,
  );
}
