/**
 * Throughput of CSV ingestion into column batches, for the 10-column neural
 * shape (timestamp, two strings, long, string, int, three floats, boolean).
 * It writes a CSV of `--rows` rows into a temporary directory, then reads it
 * three ways, each `--reps` times:
 *
 * - `csv-parse only`: records out of csv-parse and nothing else, the peer
 *   that the source is compared to (its ratio shows what coercion costs);
 * - `source, schema`: `openCsvSource` with the schema given;
 * - `source, inferred`: `openCsvSource` inferring the schema.
 *
 * Run: `deno run -A bench/csv_ingest.ts [--rows N] [--reps N] [--batch-rows N]`
 * Prints the median rate in rows/s and MB/s per way, and the ratio to the peer.
 */

import { parseArgs } from "node:util";
import { parse } from "csv-parse/stream";
import type { Field } from "../src/columnar/batch.ts";
import { openCsvSource } from "../src/sources/csv.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    reps: { type: "string", default: "3" },
    "batch-rows": { type: "string", default: "65536" },
  },
  strict: true,
});
const rows = Number(values.rows);
const reps = Number(values.reps);
const batchRows = Number(values["batch-rows"]);
for (const [name, value] of [["--rows", rows], ["--reps", reps], ["--batch-rows", batchRows]]) {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1`);
  }
}

const SCHEMA: Field[] = [
  { name: "timestamp", type: "timestamp", nullable: false },
  { name: "session_id", type: "string", nullable: false },
  { name: "probe", type: "string", nullable: false },
  { name: "sample_index", type: "long", nullable: false },
  { name: "region", type: "string", nullable: false },
  { name: "neuron_id", type: "integer", nullable: false },
  { name: "voltage_uv", type: "float", nullable: false },
  { name: "firing_rate_hz", type: "float", nullable: false },
  { name: "snr", type: "float", nullable: false },
  { name: "spike", type: "boolean", nullable: false },
];

const REGIONS = ["M1", "S1", "PMd", "PPC"];

/** Writes the CSV in 1 MiB pieces, so that generating it needs little memory. */
async function writeCsv(path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const start = Date.UTC(2024, 4, 1);
  let text = SCHEMA.map((f) => f.name).join(",") + "\n";
  let bytes = 0;
  for (let i = 0; i < rows; i++) {
    const micros = i * 33; // 30 kHz sampling
    const time = new Date(start + Math.floor(micros / 1000)).toISOString().slice(0, 19) +
      "." + String((micros % 1_000_000) % 1_000_000).padStart(6, "0") + "Z";
    const neuron = i % 384;
    text += `${time},sess-20240501-a,probe-${neuron >> 7},${i},${REGIONS[neuron % 4]},` +
      `${neuron},${(Math.sin(i / 7) * 80).toFixed(3)},${((i * 7) % 500) / 10},` +
      `${(neuron % 13) * 1.25},${i % 97 === 0}\n`;
    if (text.length > 1 << 20) {
      const chunk = encoder.encode(text);
      bytes += chunk.length;
      await file.write(chunk);
      text = "";
    }
  }
  const chunk = encoder.encode(text);
  bytes += chunk.length;
  await file.write(chunk);
  file.close();
  return bytes;
}

async function csvParseOnly(path: string): Promise<number> {
  let count = 0;
  const transform = parse(
    {
      on_record: () => {
        count++;
        return null;
      },
    } as Parameters<typeof parse>[0],
  );
  const writer = transform.writable.getWriter();
  const file = await Deno.open(path);
  for await (const chunk of file.readable) await writer.write(chunk);
  await writer.close();
  return count - 1;
}

async function source(path: string, schema: Field[] | undefined): Promise<number> {
  const csv = await openCsvSource(path, { batchRows, ...(schema ? { schema } : {}) });
  let count = 0;
  for await (const batch of csv.batches()) count += batch.length;
  return count;
}

const dir = await Deno.makeTempDir({ prefix: "neuralake-bench-" });
try {
  const path = `${dir}/neural.csv`;
  const bytes = await writeCsv(path);
  console.log(
    `CSV ingest: ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB, batchRows ${batchRows}, ` +
      `median of ${reps}`,
  );
  const ways: [string, () => Promise<number>][] = [
    ["csv-parse only", () => csvParseOnly(path)],
    ["source, schema", () => source(path, SCHEMA)],
    ["source, inferred", () => source(path, undefined)],
  ];
  let peer = 0;
  for (const [name, run] of ways) {
    await run(); // warm up
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      const count = await run();
      times.push((performance.now() - start) / 1000);
      if (count !== rows) throw new Error(`${name} read ${count} rows, not ${rows}`);
    }
    times.sort((a, b) => a - b);
    const seconds = times[Math.floor(times.length / 2)]!;
    const rate = rows / seconds;
    if (peer === 0) peer = rate;
    console.log(
      `${name.padEnd(18)} ${Math.round(rate).toLocaleString("en-US").padStart(10)} rows/s ` +
        `${(bytes / 1e6 / seconds).toFixed(1).padStart(6)} MB/s  ${(rate / peer).toFixed(2)}x`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
