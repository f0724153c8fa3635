/**
 * Throughput of `readColumns` on the 10-column neural schema, single
 * threaded: the typed-array decoder against hyparquet's reader with the same
 * conversions (`tests/_helpers/hyparquet_reference.ts`, the oracle the tests
 * compare it with), on the same files in the same run, for all
 * columns and for the 4 columns a run verification reads (writer_id,
 * batch_seq, neuron_id, timestamp_us).
 *
 * Run: `deno run -A bench/parquet_decode.ts [--reps N] [--files N] [--rows N] [--neurons N]`
 * The data is `--files` files of `--rows` rows (default 10 x 100,000, as the
 * streaming writer cuts them), encoded with our encoder's defaults and held
 * in memory; footers are opened once, outside the timing. Prints medians
 * (with min and max) over the repetitions, after one warm-up, and the ratio
 * of the fast decoder to hyparquet.
 */

import { parseArgs } from "node:util";
import type { ColumnBatch, Field } from "../src/columnar/batch.ts";
import { bytesSource, openParquet, type ParquetFile, readColumns } from "../src/parquet/decode.ts";
import { type EncodeOptions, encodeParquet } from "../src/parquet/encode.ts";
import { MICRO_FLAGS, neuralSource, repsOf, type Spread, spreadOf } from "./micro.ts";
import { readReference } from "../tests/_helpers/hyparquet_reference.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    ...MICRO_FLAGS,
    files: { type: "string", default: "10" },
    rows: { type: "string", default: "100000" },
  },
  strict: true,
});
const reps = repsOf(values);
const fileCount = Number(values.files);
const rowsPerFile = Number(values.rows);
if (!(Number.isInteger(fileCount) && fileCount >= 1)) throw new RangeError("--files must be >= 1");
if (!(Number.isInteger(rowsPerFile) && rowsPerFile >= 1)) {
  throw new RangeError("--rows must be >= 1");
}

const { generator, tick0 } = neuralSource(Number(values.neurons));
const batches: ColumnBatch[] = [];
for (let i = 0; i < fileCount; i++) {
  const batch: ColumnBatch = { fields: [], columns: [], length: 0 };
  generator.generate(
    {
      writerId: "writer-0",
      sessionId: "bench",
      batchSeq: i,
      tick0,
      startRow: i * rowsPerFile,
      rows: rowsPerFile,
    },
    batch,
  );
  batches.push(batch);
}
const fields = batches[0]!.fields;
const totalRows = fileCount * rowsPerFile;

async function openAll(options: EncodeOptions): Promise<{ files: ParquetFile[]; bytes: number }> {
  const files: ParquetFile[] = [];
  let bytes = 0;
  for (const [i, batch] of batches.entries()) {
    const encoded = encodeParquet(batch, { rowGroupRows: rowsPerFile, ...options }).bytes;
    bytes += encoded.length;
    files.push(await openParquet(bytesSource(encoded, `part-${i}.parquet`)));
  }
  return { files, bytes };
}

async function measure(files: ParquetFile[], wanted: Field[], fast: boolean): Promise<Spread> {
  const run = async () => {
    for (const file of files) {
      if (fast) await readColumns(file, { fields: wanted });
      else await readReference(file, wanted);
    }
  };
  await run();
  const rates: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const begin = performance.now();
    await run();
    rates.push(totalRows / ((performance.now() - begin) / 1000));
  }
  return spreadOf(rates);
}

const M = (v: number) => `${(v / 1e6).toFixed(2)}M`;

function line(label: string, r: Spread, extra = ""): void {
  console.log(
    `${label.padEnd(34)} ${M(r.median).padStart(8)} ${M(r.min).padStart(8)} ${
      M(r.max).padStart(8)
    }  ${extra}`,
  );
}

const byName = (names: string[]) => names.map((n) => fields.find((f) => f.name === n)!);
const projections: [string, Field[]][] = [
  ["all 10 columns", fields],
  ["4 columns", byName(["writer_id", "batch_seq", "neuron_id", "timestamp_us"])],
];
const variants: [string, EncodeOptions][] = [
  ["default encoding (SNAPPY)", {}],
  ["ZSTD", { codec: "ZSTD" }],
  ["PLAIN timestamps, no dictionaries", { timestampEncoding: "PLAIN", dictionary: false }],
];

console.log(
  `readColumns, neural schema, ${fileCount} files x ${rowsPerFile} rows, ${reps} repetitions`,
);
for (const [variant, options] of variants) {
  const { files, bytes } = await openAll(options);
  console.log(
    `\n== ${variant}, ${(bytes / 1e6).toFixed(1)} MB, rows/s   median      min      max`,
  );
  for (const [label, wanted] of projections) {
    const before = await measure(files, wanted, false);
    const after = await measure(files, wanted, true);
    line(`${label}: hyparquet (before)`, before);
    line(`${label}: fast decoder (after)`, after, `${(after.median / before.median).toFixed(2)}x`);
  }
}
