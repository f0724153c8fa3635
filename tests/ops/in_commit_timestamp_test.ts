/**
 * Tables with in-commit timestamps: every commit neuralake writes (append,
 * compaction, optimize) puts commitInfo first with an inCommitTimestamp
 * above the previous commit's, even when that one is in the future or a
 * concurrent commit won the version first; delta-rs and Spark read them.
 */

import { compactBin } from "../../src/ops/compaction.ts";
import { planCompaction } from "../../src/ops/compaction_plan.ts";
import { readHistory } from "../../src/ops/history.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { LocalStore } from "../../src/storage/local.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { writeCommit } from "../_helpers/log.ts";
import { createIctTable, inCommitTimestampAt } from "../_helpers/ict.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];
const HOUR = 3_600_000;

/** A new table with in-commit timestamps, its first commit's at `firstIct`. */
async function ictTable(firstIct: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-ict-" });
  await createIctTable(new LocalStore(dir), FIELDS, firstIct);
  return dir;
}

Deno.test("appends and compaction write increasing in-commit timestamps, even after a future one", async () => {
  const future = Date.now() + HOUR;
  const dir = await ictTable(future);
  const table = await openTable(dir);
  for (let i = 1n; i <= 3n; i++) await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: i }])));
  const state = await snapshotOf(table);
  const [bin] = planCompaction(state.files.values(), { targetFileSize: 1 << 20, minFiles: 2 });
  assertEquals(
    (await compactBin(table, state, bin!, { targetFileSize: 1 << 20 })).kind,
    "committed",
  );
  let last = future;
  for (let v = 1; v <= 4; v++) {
    const ict = await inCommitTimestampAt(new LocalStore(dir), v);
    assertEquals(ict, last + 1, `version ${v}`);
    last = ict;
  }
  const ours = await readWithNeuralake(table);
  const theirs = await readWithDeltaRs(dir);
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
  assertEquals(ours.rows.length, 3);
});

Deno.test("a commit that loses its version takes a timestamp above the winner's", async () => {
  const now = Date.now();
  const dir = await ictTable(now - HOUR);
  const table = await openTable(dir);
  for (let i = 1n; i <= 2n; i++) await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: i }])));
  const state = await snapshotOf(table);
  const [bin] = planCompaction(state.files.values(), { targetFileSize: 1 << 20, minFiles: 2 });
  // Another writer's commit, with a timestamp ahead of our clock, wins version 3.
  const ahead = now + 2 * HOUR;
  await writeCommit(new LocalStore(dir), 3, [{
    commitInfo: { timestamp: ahead, inCommitTimestamp: ahead, operation: "WRITE" },
  }]);
  const outcome = await compactBin(table, state, bin!, { targetFileSize: 1 << 20 });
  assertEquals([outcome.kind, outcome.version], ["committed", 4]);
  assertEquals(await inCommitTimestampAt(new LocalStore(dir), 4), ahead + 1);
});

Deno.test("history gives each commit its in-commit timestamp, not commitInfo.timestamp", async () => {
  const dir = await ictTable(5 * HOUR);
  // Spark writes both fields; the protocol makes inCommitTimestamp the commit's time.
  await writeCommit(new LocalStore(dir), 1, [
    { commitInfo: { timestamp: 2 * HOUR, inCommitTimestamp: 6 * HOUR, operation: "WRITE" } },
  ]);
  const entries = await readHistory(await openTable(dir));
  assertEquals(entries.map((e) => [e.version, e.timestamp]), [[1, 6 * HOUR], [0, 5 * HOUR]]);
});
