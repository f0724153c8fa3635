/**
 * Chaos beyond writers, end to end: each mode runs a short real stream,
 * the run's own verification must pass, delta-rs must read exactly the
 * acknowledged batches, and the results must list every fault injected.
 * A full disk is the one run that may not end cleanly: it must say so in
 * its summary and exit status, without stack traces.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";
import { s3Backend } from "../_helpers/backends.ts";
import {
  checkRun,
  checkWithDeltaRs,
  everyRoleWorked,
  type MetricsRow,
  type Run,
  stream,
} from "../_helpers/stream_run.ts";

interface ChaosEvent {
  t_s: number;
  action: string;
  role_id: string;
  detail: string;
}

function events(run: Run, action: string, roleId?: string): ChaosEvent[] {
  return (run.results.chaos.events as ChaosEvent[])
    .filter((e) => e.action === action && (roleId === undefined || e.role_id === roleId));
}

async function tempTable(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  return { table: `${dir}/table`, out: `${dir}/out` };
}

Deno.test("stream survives SIGKILLs of the compactor, mid-rewrite included, and delta-rs agrees", async () => {
  const { table, out } = await tempTable("neuralake-kill-compactor-");
  // The kills fall over the run's time left once every role is up, and the
  // test stops the run (SIGINT) once it has what it checks: a random kill and
  // one at a crash window, each followed by a restart. Seed 2 puts the random
  // kill and the mid-rewrite one in the first third, so an unloaded run is
  // short; a loaded one has the whole minute. Paced, so that an unloaded
  // machine does not write a minute at full speed for delta-rs to hold in
  // memory (unpaced, delta-rs's read of such a table was OOM-killed at 22 GB).
  const killed = (e: MetricsRow) => e.event === "kill" && e.role_id === "compactor-0";
  const worked = everyRoleWorked(2, { maintenance: false });
  const run = await stream(table, out, [
    "--duration",
    "60s",
    "--rate",
    "500000",
    "--seed",
    "2",
    "--isolation",
    "process",
    "--writers",
    "2",
    "--chaos",
    "kill-compactor=3",
  ], {
    stopWhen: {
      until: (events) =>
        worked.until(events) &&
        events.some((e) => killed(e) && e.detail === "random moment") &&
        events.some((e) => killed(e) && /mid-rewrite|after-commit/.test(e.detail ?? "")) &&
        events.filter((e) => e.event === "restart" && e.role_id === "compactor-0").length >= 2,
      what: `${worked.what}, and the compactor was killed at random and at a crash window, ` +
        "and restarted after each",
    },
  });
  // A compactor killed at each compaction may report none: the kills are the point.
  checkRun(run, 2, { maintenance: false });
  const kills = events(run, "kill", "compactor-0");
  const details = kills.map((e) => e.detail).join("; ");
  assert(kills.length >= 2, `compactor kills: ${details}`);
  assert(details.includes("random moment"), details);
  assert(/mid-rewrite|after-commit/.test(details), details);
  assert(events(run, "restart", "compactor-0").length >= 2);
  assertEquals(run.results.chaos.kills, kills.length);
  // The planned kill the run stopped before is listed, not dropped silently.
  assertEquals(kills.length + events(run, "chaos_missed", "compactor-0").length, 3, details);
  assertEquals(run.results.chaos.missed, 3 - kills.length);
  assertEquals(run.results.totals.role_crashes, 0, "a chaos kill is not a crash");
  await checkWithDeltaRs(table, run);
});

Deno.test("a planned kill that does not happen before the run ends is listed, and the summary says so", async () => {
  const { table, out } = await tempTable("neuralake-kill-missed-");
  // Vacuum's first pass would come after an hour: the kill armed for its
  // mid-delete (planned first) cannot happen; the random one does, and then
  // the run is stopped.
  const run = await stream(table, out, [
    "--duration",
    "30s",
    "--writers",
    "1",
    "--vacuum-interval",
    "1h",
    "--chaos",
    "kill-vacuum=2",
  ], {
    stopWhen: {
      until: (events) => events.some((e) => e.event === "kill" && e.role_id === "vacuum-0"),
      what: "vacuum was killed at random",
    },
  });
  assertEquals(run.status.code, 0, run.stderr.slice(-3000));
  const missed = events(run, "chaos_missed", "vacuum-0");
  assertEquals(missed.length, 1, JSON.stringify(run.results.chaos.events));
  assert(missed[0]!.detail.includes("mid-delete"), missed[0]!.detail);
  assertEquals(run.results.chaos.missed, 1);
  assertEquals(events(run, "kill", "vacuum-0").length, 1);
  const summary = await Deno.readTextFile(`${out}/${run.results.run_id}/summary_report.md`);
  assert(summary.includes("1 planned actions that did NOT happen"), summary.slice(0, 3000));
  assert(run.stderr.includes("did not happen"), run.stderr.slice(-2000));
});

Deno.test("stream survives SIGKILLs of vacuum, and delta-rs agrees", async () => {
  const { table, out } = await tempTable("neuralake-kill-vacuum-");
  // Until the random kill and its restart have happened and every role has
  // worked (SIGINT), however slowly a loaded machine starts the processes.
  const worked = everyRoleWorked(2);
  const run = await stream(table, out, [
    "--duration",
    "60s",
    "--rate",
    "500000",
    "--isolation",
    "process",
    "--writers",
    "2",
    "--vacuum-interval",
    "500ms",
    "--chaos",
    "kill-vacuum=2",
  ], {
    stopWhen: {
      until: (events) =>
        worked.until(events) &&
        events.some((e) =>
          e.event === "kill" && e.role_id === "vacuum-0" && e.detail === "random moment"
        ) &&
        events.some((e) => e.event === "restart" && e.role_id === "vacuum-0"),
      what: `${worked.what}, and vacuum was killed at random and restarted`,
    },
  });
  checkRun(run, 2);
  // The mid-delete kill waits for a pass that deletes (past the retention
  // floor); the random one comes within the run.
  const kills = events(run, "kill", "vacuum-0");
  assert(kills.some((e) => e.detail === "random moment"), JSON.stringify(kills));
  assert(events(run, "restart", "vacuum-0").length >= 1);
  await checkWithDeltaRs(table, run);
});

Deno.test("stream survives storage faults on a local table, lists each one, and delta-rs agrees", async () => {
  const { table, out } = await tempTable("neuralake-faults-");
  const run = await stream(table, out, [
    "--duration",
    "8s",
    "--writers",
    "2",
    "--chaos",
    "storage-faults=0.05",
  ]);
  checkRun(run, 2);
  const faults = events(run, "fault");
  assert(faults.length > 0, "no fault was injected");
  assertEquals(run.results.chaos.faults, faults.length);
  const kinds = new Set(faults.map((e) => e.detail.split(" ")[0]));
  assert(kinds.size >= 2, `fault kinds: ${[...kinds].join(", ")}`);
  const csv = await Deno.readTextFile(`${out}/${run.results.run_id}/streaming_metrics.csv`);
  assertEquals(csv.split("\n").filter((l) => l.includes(",fault,")).length, faults.length);
  const html = await Deno.readTextFile(`${out}/${run.results.run_id}/report.html`);
  assert(html.includes('class="chaos-mark'), "the charts mark no fault");
  await checkWithDeltaRs(table, run);
});

Deno.test("stream survives storage faults on an S3 table, and delta-rs agrees", async () => {
  const env = s3TestEnv();
  const dir = await Deno.makeTempDir({ prefix: "neuralake-s3faults-" });
  const table = `s3://${env.bucket}/${uniquePrefix("faults")}`;
  const run = await stream(table, `${dir}/out`, [
    "--duration",
    "8s",
    "--writers",
    "2",
    "--chaos",
    "storage-faults=0.05",
  ]);
  checkRun(run, 2);
  assert(run.results.chaos.faults > 0, "no fault was injected");
  await checkWithDeltaRs(table, run, s3Backend.storageOptions());
});

Deno.test("stream on S3 survives a partition that cuts one role off, and delta-rs agrees", async () => {
  const env = s3TestEnv();
  const dir = await Deno.makeTempDir({ prefix: "neuralake-partition-" });
  const table = `s3://${env.bucket}/${uniquePrefix("partition")}`;
  const run = await stream(table, `${dir}/out`, [
    "--duration",
    "8s",
    "--writers",
    "2",
    "--chaos",
    "partition=2s",
  ]);
  checkRun(run, 2);
  const started = events(run, "fault").filter((e) => e.detail.startsWith("partition:"));
  assertEquals(started.length, 1, JSON.stringify(run.results.chaos.events));
  const cut = started[0]!.role_id;
  // The role's requests failed while it lasted, and each failure is listed.
  assert(
    events(run, "fault", cut).some((e) => e.detail.startsWith("partition on ")),
    JSON.stringify(run.results.chaos.events.slice(0, 10)),
  );
  await checkWithDeltaRs(table, run, s3Backend.storageOptions());
});

Deno.test("a stream on a full disk counts its crashes, exits 1 and shows no stack trace", async () => {
  const { table, out } = await tempTable("neuralake-disk-full-");
  const run = await stream(table, out, [
    "--duration",
    "8s",
    "--writers",
    "2",
    "--chaos",
    "disk-full",
  ]);
  const r = run.results;
  // What was acknowledged before the disk filled is in the table, exactly.
  assert(r.totals.rows_acknowledged > 0, "nothing was written before the disk filled");
  assert(r.verification.passed, JSON.stringify(r.verification.checks));
  await checkWithDeltaRs(table, run);
  assert(r.totals.role_crashes > 0, JSON.stringify(r.totals));
  assertEquals(r.clean, false);
  assertEquals(run.status.code, 1, "a run whose roles crashed is not a clean success");
  assert(run.stdout.includes("NOT CLEAN"), run.stdout);
  assert(/errors:\s+[1-9]\d* role crashes/.test(run.stdout), run.stdout);
  assert(run.stderr.includes("No space left on device"), run.stderr.slice(-2000));
  // No JavaScript stack frames anywhere in the logs without --log-level debug.
  assert(!/\bat .*\.(ts|js):\d+:\d+/.test(run.stderr), run.stderr.slice(-3000));
  const summary = await Deno.readTextFile(`${out}/${r.run_id}/summary_report.md`);
  assert(/Role crashes \/ restarts \| [1-9]/.test(summary), summary.slice(0, 1500));
});
