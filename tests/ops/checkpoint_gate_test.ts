/**
 * A checkpoint is a write: `neuralake checkpoint` (and the compactor's and
 * `write`'s checkpoints) refuse a table with a writer feature neuralake does
 * not know, naming it, and leave the log as it was; features whose rules
 * bind only commits (row tracking, in-commit timestamps) do not stop it.
 */

import type { Action } from "../../src/delta/actions.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { openTable } from "../../src/ops/table.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { createActions, writeCommit } from "../_helpers/log.ts";

async function tableWith(writerFeatures: string[], configuration: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-ckpt-gate-" });
  const actions: Action[] = createActions(configuration).map((a) =>
    "protocol" in a ? { protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures } } : a
  );
  await writeCommit(new LocalStore(dir), 0, actions);
  return dir;
}

function logFiles(dir: string): string[] {
  return [...Deno.readDirSync(`${dir}/_delta_log`)].map((e) => e.name).sort();
}

Deno.test("a checkpoint of a table with an unknown writer feature is refused by name and writes nothing", async () => {
  const dir = await tableWith(["appendOnly", "someFutureFeature"]);
  const before = logFiles(dir);
  const error = await assertRejects(
    async () => checkpointTable(await openTable(dir)),
    "someFutureFeature",
  );
  assert(error instanceof UnsupportedFeatureError && error.feature === "someFutureFeature");
  assertEquals(logFiles(dir), before);
});

Deno.test("a checkpoint of a table with row tracking and in-commit timestamps is written", async () => {
  const dir = await tableWith(["domainMetadata", "rowTracking", "inCommitTimestamp"], {
    "delta.enableRowTracking": "true",
    "delta.enableInCommitTimestamps": "true",
  });
  const hint = await checkpointTable(await openTable(dir));
  assertEquals(hint.version, 0);
  assert((logFiles(dir)).includes("00000000000000000000.checkpoint.parquet"));
});
