/**
 * End-to-end runs of `neuralake stream` as a user runs it (a child process
 * of the real command line), each with compaction and vacuum active, each
 * checked by the run's own verification and independently by delta-rs:
 * worker isolation, process isolation with SIGKILL chaos, the S3 test
 * server, and a graceful stop on SIGINT.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";
import { s3Backend } from "../_helpers/backends.ts";
import { checkRun, checkWithDeltaRs, everyRoleWorked, stream } from "../_helpers/stream_run.ts";
import { parse } from "csv-parse/sync";

Deno.test("stream with several writers in worker isolation verifies, and delta-rs agrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-stream-" });
  const table = `${dir}/table`;
  const run = await stream(table, `${dir}/out`, ["--duration", "6s", "--writers", "4"]);
  checkRun(run, 4);
  await checkWithDeltaRs(table, run);
  // Kept when a check fails above, for the run's files; a passing run's table is
  // hundreds of megabytes.
  await Deno.remove(dir, { recursive: true });
});

/**
 * Three writers killed once each, at every crash point (right after a data
 * upload, right after a commit, at random), in either isolation, then
 * restarted: the run still counts every batch it committed, once, and
 * delta-rs reads the same rows. Paced at a probe's rate, so that this is
 * about surviving the kills; an unpaced run's commit fairness is a test of
 * its own. The kills fall over the run once every writer is up; the run is
 * stopped (SIGINT) once all three happened and their writers restarted.
 */
async function killWritersAtEveryCrashPoint(isolation: "process" | "worker"): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: `neuralake-chaos-${isolation}-` });
  const table = `${dir}/table`;
  const worked = everyRoleWorked(3);
  const run = await stream(table, `${dir}/out`, [
    "--duration",
    "40s",
    "--isolation",
    isolation,
    "--rate",
    "1024000",
    "--chaos",
    "kill-writers=3",
  ], {
    stopWhen: {
      until: (events) =>
        worked.until(events) &&
        events.filter((e) => e.event === "kill" && e.role_id?.startsWith("writer-")).length === 3 &&
        events.filter((e) => e.event === "restart" && e.role_id?.startsWith("writer-")).length >= 3,
      what: `${worked.what}, and writers were killed 3 times and restarted`,
    },
  });
  checkRun(run, 3);
  const kills = run.results.chaos.events.filter((e: { action: string }) => e.action === "kill");
  const details = kills.map((e: { detail: string }) => e.detail).join("; ");
  assertEquals(kills.length, 3, details);
  assert(details.includes("after-upload") && details.includes("after-commit"), details);
  assert(details.includes("random"), details);
  assert(
    run.results.chaos.events.filter((e: { action: string }) => e.action === "restart").length >= 3,
  );
  await checkWithDeltaRs(table, run);
  // Kept when a check fails above, for the run's files; a passing run's table is
  // hundreds of megabytes.
  await Deno.remove(dir, { recursive: true });
}

Deno.test("stream in process isolation survives SIGKILLs of writers at every crash point", async () => {
  await killWritersAtEveryCrashPoint("process");
});

// A worker posts its acknowledgements with its next batch's report
// (roles/report_buffer.ts): a kill, at random or right after a commit, may
// take held ones with it, and the run must still count every batch it
// committed, once.
Deno.test("stream in worker isolation survives kills of writers at every crash point", async () => {
  await killWritersAtEveryCrashPoint("worker");
});

Deno.test("stream with unpaced writers in process isolation ends clean: no batch is starved", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-unpaced-" });
  const out = `${dir}/out`;
  // As fast as they can: three process writers, compaction and vacuum contend
  // for every version of the log.
  const run = await stream(`${dir}/table`, out, [
    "--duration",
    "10s",
    "--isolation",
    "process",
    "--writers",
    "3",
  ]);
  checkRun(run, 3);
  assert(run.results.clean, run.stderr.slice(-3000));
  assertEquals(run.results.totals.batches_failed, 0);
  // Every batch committed at its first or a later attempt: none was
  // abandoned at the hold budget after losing race after race.
  const events = parse(
    await Deno.readTextFile(`${out}/${run.results.run_id}/streaming_metrics.csv`),
    { columns: true },
  ) as Record<string, string>[];
  assertEquals(events.filter((e) => e.event === "batch_failed"), []);
  for (const writer of run.results.writers) assert(writer.batches > 0, JSON.stringify(writer));
  // Kept when a check fails above, for the run's files; a passing run's table is
  // hundreds of megabytes.
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stream on the S3 test server verifies, and delta-rs agrees", async () => {
  const env = s3TestEnv();
  const dir = await Deno.makeTempDir({ prefix: "neuralake-s3stream-" });
  const table = `s3://${env.bucket}/${uniquePrefix("stream")}`;
  const run = await stream(table, `${dir}/out`, ["--duration", "8s", "--writers", "2"]);
  checkRun(run, 2);
  await checkWithDeltaRs(table, run, s3Backend.storageOptions());
  // Kept when a check fails above, for the run's files; a passing run's table is
  // hundreds of megabytes.
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stream stops gracefully on SIGINT and still verifies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-sigint-" });
  const table = `${dir}/table`;
  // SIGINT once each of the 3 writers has committed and maintenance has run
  // (however long their start takes on a loaded machine), long before the
  // run's duration is up.
  const run = await stream(table, `${dir}/out`, ["--duration", "600s", "--rate", "1024000"], {
    stopWhen: everyRoleWorked(3),
  });
  assert(run.stderr.includes("stopping"), run.stderr.slice(-1000));
  checkRun(run, 3);
  // It ended on the signal, not at the duration.
  assert(run.results.wall_seconds < 300, `wall ${run.results.wall_seconds}`);
  for (const w of run.results.writers) assert(w.batches > 0, JSON.stringify(w));
  await checkWithDeltaRs(table, run);
  // Kept when a check fails above, for the run's files; a passing run's table is
  // hundreds of megabytes.
  await Deno.remove(dir, { recursive: true });
});
