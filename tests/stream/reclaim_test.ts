/**
 * A stream on the `local` profile's own vacuum and retention settings
 * reclaims the files compacted away while it runs, keeps checkpoints free of
 * expired tombstones, cleans up the log after checkpoints without a gap, and
 * reports what the table occupies at the end; on a table made elsewhere that
 * declares a week of deleted-file retention, it deletes none of them.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { checkRun, checkWithDeltaRs, stream } from "../_helpers/stream_run.ts";
import { readLastCheckpoint } from "../../src/delta/log_segment.ts";
import { checkpointKey } from "../../src/delta/log_path.ts";
import { readCheckpointActions } from "../../src/delta/snapshot.ts";
import { openTable, schemaFromFields, snapshotOf } from "../../src/ops/table.ts";
import { createTable } from "../../src/ops/create.ts";
import { NEURAL_FIELDS } from "../../src/sources/neural.ts";
import { decodeFilePath } from "../../src/delta/partition.ts";
import { PROFILES } from "../../src/roles/config_keys.ts";

Deno.test("a local-profile stream vacuums compacted files during the run and reports bytes on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-reclaim-" });
  const tablePath = `${dir}/table`;
  // The profile's vacuum interval and retention; small paced batches so that
  // compaction has files to merge without loading the machine.
  const run = await stream(tablePath, `${dir}/out`, [
    "--duration",
    "24s",
    "--rate",
    "200000",
    "--batch-rows",
    "20000",
    "--min-files",
    "4",
    "--checkpoint-every",
    "20",
    "--log-retention",
    "8s",
  ], { short: false });
  checkRun(run, 3);
  const r = run.results;
  assert(r.compaction.files_in > 0, `nothing was compacted: ${JSON.stringify(r.compaction)}`);
  assert(r.vacuum.files_deleted > 0, `vacuum deleted nothing: ${JSON.stringify(r.vacuum)}`);
  assert(r.vacuum.bytes_deleted > 0);
  assert(r.storage !== null, "no storage figures");
  assert(r.storage.data_files > 0 && r.storage.data_bytes > 0, JSON.stringify(r.storage));
  assert(r.storage.log_files > 0 && r.storage.log_bytes > 0, JSON.stringify(r.storage));
  let onDisk = 0;
  for await (const entry of Deno.readDir(tablePath)) {
    if (entry.isFile) onDisk += (await Deno.stat(`${tablePath}/${entry.name}`)).size;
  }
  assertEquals(r.storage.data_bytes, onDisk, "data bytes as the directory holds them");
  const summary = await Deno.readTextFile(`${dir}/out/${r.run_id}/summary_report.md`);
  assert(summary.includes("on disk at the end"), "summary_report.md states bytes on disk");
  assert(run.stdout.includes("on disk at the end"), run.stdout);
  assert(run.stdout.includes("reclaimed"), run.stdout);

  // Tombstones last as long as the profile's retention, in checkpoints too.
  const table = await openTable(tablePath);
  const snapshot = await snapshotOf(table);
  assertEquals(
    snapshot.metadata.configuration["delta.deletedFileRetentionDuration"],
    `interval ${PROFILES.local.vacuum.retentionMs / 1000} seconds`,
  );
  const hint = await readLastCheckpoint(table.store);
  assert(hint, "no checkpoint was written");
  const key = checkpointKey(hint.version);
  const writtenAt = (await table.store.head(key))!.lastModified;
  const removes = (await readCheckpointActions(table.store, table.codec, key))
    .flatMap((a) => "remove" in a ? [a.remove] : []);
  // Encoding takes a moment after the cutoff is taken: allow 5 s for it.
  const oldest = writtenAt - PROFILES.local.vacuum.retentionMs - 5_000;
  const expired = removes.filter((rm) => (rm.deletionTimestamp ?? 0) < oldest);
  assertEquals(expired.length, 0, `expired tombstones in checkpoint ${hint.version}`);

  // Log cleanup ran after checkpoints and kept the log whole from the oldest
  // checkpoint it kept: no commit after it is missing.
  assert(r.log_cleanup.files_deleted > 0, `no log cleanup: ${JSON.stringify(r.log_cleanup)}`);
  const commits: number[] = [];
  const checkpoints: number[] = [];
  for await (const entry of Deno.readDir(`${tablePath}/_delta_log`)) {
    const m = /^(\d{20})\.(json|checkpoint\.parquet)$/.exec(entry.name);
    if (m) (m[2] === "json" ? commits : checkpoints).push(Number(m[1]));
  }
  commits.sort((a, b) => a - b);
  const oldestCheckpoint = Math.min(...checkpoints);
  assert(commits[0]! > 0, "old commits were deleted");
  assert(
    commits[0]! <= oldestCheckpoint + 1,
    `commits start at ${commits[0]}, after checkpoint ${oldestCheckpoint}`,
  );
  assertEquals(commits.at(-1)! - commits[0]! + 1, commits.length, "no gap in the commits kept");
  await checkWithDeltaRs(tablePath, run);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a local-profile stream into a table declaring 7 days of deleted-file retention deletes none of the files it compacted away", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-reclaim-kept-" });
  const tablePath = `${dir}/table`;
  // A table another engine made, as Spark or delta-rs make it: the neural
  // schema and a week of deleted-file retention.
  await createTable(await openTable(tablePath), {
    schema: schemaFromFields(NEURAL_FIELDS),
    properties: { "delta.deletedFileRetentionDuration": "interval 7 days" },
  });
  // As the test above: long enough for files compacted away in the first
  // seconds to pass the profile's 15 s retention and a vacuum pass.
  const run = await stream(tablePath, `${dir}/out`, [
    "--duration",
    "24s",
    "--rate",
    "200000",
    "--batch-rows",
    "20000",
    "--min-files",
    "4",
  ], { short: false });
  checkRun(run, 3);
  const r = run.results;
  assert(r.compaction.files_in > 0, `nothing was compacted: ${JSON.stringify(r.compaction)}`);
  assert(r.vacuum.runs > 0, `vacuum never ran: ${JSON.stringify(r.vacuum)}`);
  assertEquals(r.vacuum.files_deleted, 0, "vacuum deleted files within the table's retention");
  assert(
    run.stderr.includes("the table's delta.deletedFileRetentionDuration (7 days)"),
    "the vacuum role logs the retention it uses and why",
  );
  // Every file the run removed is still there for readers of older versions.
  const table = await openTable(tablePath);
  const snapshot = await snapshotOf(table);
  assert(snapshot.tombstones.size > 0, "the run removed no file");
  for (const remove of snapshot.tombstones.values()) {
    assert(await table.store.head(decodeFilePath(remove.path)), `${remove.path} was deleted`);
  }
  await checkWithDeltaRs(tablePath, run);
  await Deno.remove(dir, { recursive: true });
});
