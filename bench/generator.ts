/**
 * Throughput of the synthetic neural generator, single-threaded, for batch
 * sizes from a writer's small batches to a million rows. Each size reuses one
 * caller-owned batch, as a writer does, and walks forward through the row
 * stream so that no call repeats another.
 *
 * Run: `deno run bench/generator.ts [--reps N] [--neurons N]`
 * Prints one line per batch size with the median, fastest and slowest rate
 * over the repetitions.
 */

import { parseArgs } from "node:util";
import type { ColumnBatch } from "../src/columnar/batch.ts";
import { MICRO_FLAGS, neuralSource, repsOf, spreadOf } from "./micro.ts";

const { values } = parseArgs({ args: Deno.args, options: MICRO_FLAGS, strict: true });
const reps = repsOf(values);
const neurons = Number(values.neurons);

const SIZES = [500, 5_000, 50_000, 1_000_000];
/** Each repetition generates at least this many rows, so small batches are timed over many calls. */
const MIN_ROWS_PER_REP = 2_000_000;

const { generator, tick0 } = neuralSource(neurons);

function fmt(rowsPerSecond: number): string {
  return `${(rowsPerSecond / 1e6).toFixed(2)}M`;
}

console.log(`neural generator, ${neurons} neurons, ${reps} repetitions, rows/s`);
console.log("batch_rows   median      min      max   us_per_batch");
let startRow = 0;
for (const size of SIZES) {
  const reuse: ColumnBatch = { fields: [], columns: [], length: 0 };
  const calls = Math.max(1, Math.ceil(MIN_ROWS_PER_REP / size));
  const request = {
    writerId: "writer-0",
    sessionId: "bench",
    batchSeq: 0,
    tick0,
    startRow,
    rows: size,
  };
  // Warm up the JIT and the reused batch.
  for (let i = 0; i < Math.min(calls, 20); i++) {
    generator.generate({ ...request, startRow: startRow + i * size }, reuse);
  }
  const rates: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const begin = performance.now();
    for (let i = 0; i < calls; i++) {
      request.startRow = startRow;
      request.batchSeq++;
      generator.generate(request, reuse);
      startRow += size;
    }
    const seconds = (performance.now() - begin) / 1000;
    rates.push(calls * size / seconds);
  }
  const { median, min, max } = spreadOf(rates);
  console.log(
    `${String(size).padStart(10)} ${fmt(median).padStart(8)} ${fmt(min).padStart(8)} ${
      fmt(max).padStart(8)
    } ${(size / median * 1e6).toFixed(1).padStart(14)}`,
  );
}
