/**
 * End-to-end runs of `neuralake stream` as a user runs it (a child process
 * of the real command line), each with compaction and vacuum active, each
 * checked by the run's own verification and independently by delta-rs:
 * worker isolation, process isolation with SIGKILL chaos, the S3 test
 * server, and a graceful stop on SIGINT.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { deltaRs } from "../_helpers/delta_rs.ts";
import { s3TestEnv, uniquePrefix } from "../_helpers/s3.ts";
import { s3Backend } from "../_helpers/backends.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Settings that make a short run exercise every role. */
const SHORT = [
  "--batch-rows",
  "20000",
  "--compaction-interval",
  "500ms",
  "--min-files",
  "4",
  "--vacuum-interval",
  "1500ms",
  "--retention",
  "15s",
  "--allow-short-retention",
  "--checkpoint-every",
  "20",
];

interface Run {
  status: Deno.CommandStatus;
  // deno-lint-ignore no-explicit-any
  results: any;
  stderr: string;
}

async function stream(
  table: string,
  out: string,
  args: string[],
  options: { sigintAfterMs?: number } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      CONFIG,
      MAIN,
      "stream",
      table,
      "--out",
      out,
      ...SHORT,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.sigintAfterMs !== undefined) {
    setTimeout(() => child.kill("SIGINT"), options.sigintAfterMs);
  }
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  const latest = await Deno.readLink(`${out}/latest`).catch(() => undefined);
  if (!output.success) console.error(stderr.slice(-3000));
  assert(latest, `no run directory was written: ${stderr.slice(-2000)}`);
  const results = JSON.parse(await Deno.readTextFile(`${out}/${latest}/streaming_results.json`));
  for (const file of ["streaming_metrics.csv", "summary_report.md", "report.html"]) {
    const info = await Deno.stat(`${out}/${latest}/${file}`);
    assert(info.size > 0, `${file} is empty`);
  }
  return { status: output, results, stderr };
}

/** delta-rs counts this run's rows: all present, each key once, per batch as acknowledged. */
async function checkWithDeltaRs(table: string, run: Run, storageOptions?: Record<string, string>) {
  const stats = await deltaRs({
    op: "session_stats",
    uri: table,
    session: run.results.run_id,
    ...(storageOptions ? { storage_options: storageOptions } : {}),
  });
  assert(stats.ok, JSON.stringify(stats));
  assertEquals(stats.rows, run.results.totals.rows_acknowledged, "delta-rs row count");
  assertEquals(stats.distinct_keys, stats.rows, "every key once");
  const perWriter = new Map<string, number[]>();
  for (const [writer, seq] of stats.batches as [string, number, number][]) {
    perWriter.set(writer, [...(perWriter.get(writer) ?? []), seq]);
  }
  for (const [writer, seqs] of perWriter) {
    seqs.sort((a, b) => a - b);
    assertEquals(seqs, seqs.map((_, i) => seqs[0]! + i), `${writer} has no gaps`);
  }
}

function checkRun(run: Run, writers: number) {
  const r = run.results;
  assert(r.verification.passed, JSON.stringify(r.verification.checks, null, 1));
  assertEquals(run.status.code, 0, run.stderr.slice(-3000));
  assert(r.totals.rows_acknowledged > 0);
  assertEquals(r.writers.length, writers);
  assert(r.compaction.runs >= 1, `no compaction ran: ${JSON.stringify(r.compaction)}`);
  assert(r.vacuum.runs >= 1, `no vacuum ran: ${JSON.stringify(r.vacuum)}`);
  assert(typeof r.latency_ms.commit.p99 === "number");
  assert(r.totals.rows_per_second > 0);
}

Deno.test("stream with several writers in worker isolation verifies, and delta-rs agrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-stream-" });
  const table = `${dir}/table`;
  const run = await stream(table, `${dir}/out`, ["--duration", "6s", "--writers", "4"]);
  checkRun(run, 4);
  await checkWithDeltaRs(table, run);
});

Deno.test("stream in process isolation survives SIGKILLs of writers at every crash point", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-chaos-" });
  const table = `${dir}/table`;
  const run = await stream(table, `${dir}/out`, [
    "--duration",
    "12s",
    "--isolation",
    "process",
    "--chaos",
    "kill-writers=3",
  ]);
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
});

Deno.test("stream on the S3 test server verifies, and delta-rs agrees", async () => {
  const env = s3TestEnv();
  const dir = await Deno.makeTempDir({ prefix: "neuralake-s3stream-" });
  const table = `s3://${env.bucket}/${uniquePrefix("stream")}`;
  const run = await stream(table, `${dir}/out`, ["--duration", "8s", "--writers", "2"]);
  checkRun(run, 2);
  await checkWithDeltaRs(table, run, s3Backend.storageOptions());
});

Deno.test("stream stops gracefully on SIGINT and still verifies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-sigint-" });
  const table = `${dir}/table`;
  const started = Date.now();
  const run = await stream(table, `${dir}/out`, ["--duration", "120s"], { sigintAfterMs: 5000 });
  assert(Date.now() - started < 60_000, "the run did not stop on SIGINT");
  assert(run.stderr.includes("stopping"), run.stderr.slice(-1000));
  checkRun(run, 3);
  assert(run.results.wall_seconds < 30, `wall ${run.results.wall_seconds}`);
  await checkWithDeltaRs(table, run);
});
