/**
 * What a durable local append costs at the store: a data file `put` (64 KiB)
 * then a commit `putIfAbsent` (2 KiB), with fsync on, on the local store as
 * it is (each file and its directory flushed) and with the directory flushes
 * skipped (files flushed, names not: what the store did before 2026-12-01).
 * The two alternate call by call in one process, so a busy disk weighs on
 * both alike; the ratio is the price of names that survive a power loss.
 *
 * Run: `deno run -A bench/local_commit.ts [--reps N]` (appends per
 * repetition: 200). Prints the median and spread of each repetition's p50.
 */

import { parseArgs } from "node:util";
import { LocalStore } from "../src/storage/local.ts";
import { MICRO_FLAGS, repsOf, spreadOf } from "./micro.ts";

const { values } = parseArgs({ args: Deno.args, options: MICRO_FLAGS, strict: true });
const reps = repsOf(values);
const APPENDS = 200;

const data = new Uint8Array(64 * 1024).fill(7);
const commit = new Uint8Array(2048).fill(1);
const sides = ["durable", "files only"] as const;
const p50s: Record<(typeof sides)[number], number[]> = { durable: [], "files only": [] };
const ratios: number[] = [];

const root = await Deno.makeTempDir({ prefix: "neuralake-bench-commit-" });
try {
  for (let rep = 0; rep < reps; rep++) {
    const stores = {
      durable: new LocalStore(`${root}/${rep}/durable`),
      "files only": new LocalStore(`${root}/${rep}/files`, {
        syncDirectory: () => Promise.resolve(),
      }),
    };
    const times: Record<(typeof sides)[number], number[]> = { durable: [], "files only": [] };
    for (let i = 0; i < APPENDS; i++) {
      // Each goes first every other time.
      for (const side of i % 2 ? sides : [...sides].reverse()) {
        const begin = performance.now();
        await stores[side].put(`region=M1/part-${i}.parquet`, data);
        await stores[side].putIfAbsent(`_delta_log/${String(i).padStart(20, "0")}.json`, commit);
        times[side].push(performance.now() - begin);
      }
    }
    for (const side of sides) p50s[side].push(spreadOf(times[side]).median);
    ratios.push(p50s.durable.at(-1)! / p50s["files only"].at(-1)!);
    await Deno.remove(`${root}/${rep}`, { recursive: true });
  }
} finally {
  await Deno.remove(root, { recursive: true });
}

const [load] = Deno.loadavg();
console.log(
  `local append at the store (64 KiB put + 2 KiB commit, fsync on), ${reps} repetitions of ` +
    `${APPENDS}, load ${load!.toFixed(1)}: p50 ms per append`,
);
for (const side of sides) {
  const { median, min, max } = spreadOf(p50s[side]);
  console.log(`${side.padEnd(12)} ${median.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)})`);
}
const r = spreadOf(ratios);
console.log(
  `durable / files only: ${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
);
