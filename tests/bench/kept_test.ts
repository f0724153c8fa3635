/**
 * A bench stream repetition whose own verification failed leaves its run
 * directory and a copy of its table behind, and the harness names the
 * failure and the folder in the variant's validity; a passing one keeps
 * nothing.
 */

import { NeuralGenerator } from "../../src/sources/neural.ts";
import { openTable } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import type { Verification } from "../../src/metrics/results.ts";
import { type FinishedStream, streamVerdict } from "../../bench/kept.ts";
import { measurePairs } from "../../bench/harness.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { sourceOf } from "../_helpers/batches.ts";

const FAILED: Verification = {
  passed: false,
  checks: [
    { name: "rows_acknowledged_equal_rows_in_table", passed: true, detail: "80 rows" },
    { name: "no_duplicate_keys", passed: false, detail: "40 repeated keys, first in w0 batch 1" },
  ],
};

async function finishedRun(verification: Verification) {
  const root = await Deno.makeTempDir();
  const table = `${root}/table`;
  const generator = new NeuralGenerator({ seed: 5, neurons: 8 });
  await writeTable(
    await openTable(table),
    sourceOf(generator.generate({
      writerId: "w0",
      sessionId: "streaming-20261201T000000Z",
      batchSeq: 0,
      tick0: 0,
      startRow: 0,
      rows: 40,
    })),
  );
  const runDir = `${root}/runs/streaming-20261201T000000Z`;
  await Deno.mkdir(runDir, { recursive: true });
  await Deno.writeTextFile(`${runDir}/streaming_results.json`, "{}\n");
  const run: FinishedStream = {
    runId: "streaming-20261201T000000Z",
    runDir,
    rowsAcknowledged: 40,
    verification,
  };
  return { root, table, run };
}

Deno.test("streamVerdict() keeps the run directory and the table of a failed verification", async () => {
  const { root, table, run } = await finishedRun(FAILED);
  const keep = `${root}/kept`;
  const lines: string[] = [];
  const verdict = await streamVerdict(run, table, keep, "rep3", (l) => lines.push(l));
  assertEquals(verdict.tableRows, -1);
  assert(verdict.failure?.includes("no_duplicate_keys: 40 repeated keys"), verdict.failure);
  assert(verdict.failure?.includes(`${keep}/rep3`), verdict.failure);
  assert(!verdict.failure?.includes("rows_acknowledged_equal"), "a passed check is not listed");
  assertEquals(
    await Deno.readTextFile(`${keep}/rep3/streaming-20261201T000000Z/streaming_results.json`),
    "{}\n",
  );
  assertEquals(await Deno.readTextFile(`${keep}/rep3/TABLE.txt`), `${table}\n`);
  // The copy is a table of its own, with the same rows.
  const copy = await openTable(`${keep}/rep3/table`);
  const original = await openTable(table);
  for await (const meta of original.store.list("")) {
    assertEquals(await copy.store.get(meta.key), await original.store.get(meta.key), meta.key);
  }
  assertEquals(lines.length, 1);
  await Deno.remove(root, { recursive: true });
});

Deno.test("streamVerdict() keeps nothing of a passed verification", async () => {
  const { root, table, run } = await finishedRun({ passed: true, checks: [] });
  const verdict = await streamVerdict(run, table, `${root}/kept`, "rep1", () => {});
  assertEquals(verdict, { tableRows: 40 });
  assertEquals(await Deno.stat(`${root}/kept`).catch(() => undefined), undefined);
  await Deno.remove(root, { recursive: true });
});

Deno.test("measurePairs() names a repetition's failure in the validity", async () => {
  const results = await measurePairs(
    "stream",
    "v",
    [{ key: "x", label: "x", better: "higher" }],
    { repetitions: 2, warmup: 0, sameRowsAcrossSides: false },
    (rep) =>
      Promise.resolve({
        sample: { x: 1 },
        expectedRows: 10,
        tableRows: rep === 1 ? -1 : 10,
        ...(rep === 1 ? { failure: "verification failed (no_duplicate_keys); kept in k" } : {}),
      }),
    () => Promise.resolve({ sample: { x: 1 }, expectedRows: 5, tableRows: 5 }),
    () => {},
  );
  assertEquals(results[0]!.valid, false);
  assertEquals(
    results[0]!.validity,
    "neuralake rep 2: verification failed (no_duplicate_keys); kept in k",
  );
});
