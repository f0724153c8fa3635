/**
 * Tables with in-commit timestamps: every commit neuralake writes (append,
 * compaction, optimize) puts commitInfo first with an inCommitTimestamp
 * above the previous commit's, even when that one is in the future or a
 * concurrent commit won the version first; delta-rs and Spark read them.
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { compactBin } from "../../src/ops/compaction.ts";
import { planCompaction } from "../../src/ops/compaction_plan.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { readHistory } from "../../src/ops/history.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { LocalStore } from "../../src/storage/local.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { writeCommit } from "../_helpers/log.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];
const HOUR = 3_600_000;

async function ictTable(firstIct: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-ict-" });
  const actions = createTableActions({ schema: schemaFromFields(FIELDS) }).map((a): Action => {
    if ("protocol" in a) {
      return {
        protocol: {
          minReaderVersion: 1,
          minWriterVersion: 7,
          writerFeatures: ["inCommitTimestamp"],
        },
      };
    }
    if ("metaData" in a) {
      return {
        metaData: {
          ...a.metaData,
          configuration: { "delta.enableInCommitTimestamps": "true" },
        },
      };
    }
    return a;
  });
  const info: Action = { commitInfo: { timestamp: firstIct, inCommitTimestamp: firstIct } };
  await writeCommit(new LocalStore(dir), 0, [
    info,
    ...actions.filter((a) => !("commitInfo" in a)),
  ]);
  return dir;
}

async function commitInfoAt(dir: string, version: number) {
  const text = new TextDecoder().decode((await new LocalStore(dir).get(commitKey(version)))!);
  const actions = parseCommit(text, `commit ${version}`);
  assert("commitInfo" in actions[0]!, `commit ${version} does not start with commitInfo`);
  return actions[0].commitInfo;
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
    const ict = (await commitInfoAt(dir, v)).inCommitTimestamp!;
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
  assertEquals((await commitInfoAt(dir, 4)).inCommitTimestamp, ahead + 1);
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
