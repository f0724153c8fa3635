/**
 * What the single-threaded micro-benchmarks (generator.ts, parquet_encode.ts,
 * parquet_decode.ts) share: the --reps and --neurons flags, the seeded neural
 * generator they draw rows from, and the median/min/max of their rates.
 */

import { NeuralGenerator } from "../src/sources/neural.ts";

/** The flags every micro-benchmark takes, for `parseArgs`. */
export const MICRO_FLAGS = {
  reps: { type: "string", default: "7" },
  neurons: { type: "string", default: "1024" },
} as const;

/** The repetitions asked for; at least five, so that a median means something. */
export function repsOf(values: { reps: string }): number {
  const reps = Number(values.reps);
  if (!(Number.isInteger(reps) && reps >= 5)) {
    throw new RangeError("--reps must be an integer >= 5");
  }
  return reps;
}

/** The generator of every micro-benchmark (seed 42) and the tick of 2026-01-01. */
export function neuralSource(neurons: number): { generator: NeuralGenerator; tick0: number } {
  const generator = new NeuralGenerator({ seed: 42, neurons });
  return { generator, tick0: generator.tickAt(Date.parse("2026-01-01T00:00:00Z")) };
}

/** The median, slowest and fastest of some rates. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The spread of `rates` (sorts them in place). */
export function spreadOf(rates: number[]): Spread {
  rates.sort((a, b) => a - b);
  const mid = rates.length >> 1;
  const median = rates.length % 2 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  return { median, min: rates[0]!, max: rates.at(-1)! };
}
