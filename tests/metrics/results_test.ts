/** Run results built from a synthetic event stream whose totals were worked out by hand. */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { buildResults } from "../../src/metrics/results.ts";
import {
  STARTED_AT,
  syntheticContext,
  syntheticEvents,
  syntheticResults,
} from "./synthetic_run.ts";

function syntheticResultsRecorder(): MetricsRecorder {
  const recorder = new MetricsRecorder();
  for (const event of syntheticEvents()) recorder.record(event);
  recorder.close();
  return recorder;
}

Deno.test("buildResults() totals a synthetic run", () => {
  const r = syntheticResults();
  assertEquals(r.run_id, "streaming-20261127T105504Z");
  assertEquals(r.started_at, "2026-11-27T10:55:04.000Z");
  assertEquals(r.finished_at, "2026-11-27T10:55:06.500Z");
  assertEquals(r.wall_seconds, 2.5);
  assertEquals(r.totals, {
    rows_acknowledged: 3500,
    rows_per_second: 1400,
    rows_per_second_writing: 1400,
    start_up_seconds: 0,
    commits: 6,
    batches_failed: 1,
    batches_unacknowledged: 1,
    bytes_written: 7000,
    conflicts: 2,
    retries: 1,
    versions: { first: 1, last: 6 },
    role_crashes: 0,
    role_restarts: 1,
  });
  assertEquals(r.writers, [
    {
      id: "writer-0",
      role: "writer",
      rows: 1500,
      batches: 3,
      commits: 3,
      conflicts: 0,
      restarts: 0,
      rows_per_second: 600,
      last_batch_seq: 2,
    },
    {
      id: "writer-1",
      role: "writer",
      rows: 2000,
      batches: 4,
      commits: 2,
      conflicts: 1,
      restarts: 1,
      rows_per_second: 800,
      last_batch_seq: 1,
    },
  ]);
});

Deno.test("buildResults() leaves the start-up out of the writing rate", () => {
  const context = syntheticContext();
  // 3,500 rows in 2.5 s, of which the first writer was up after 0.75 s.
  const r = buildResults(
    syntheticResultsRecorder(),
    { ...context, writersUpAt: new Date(STARTED_AT.getTime() + 750) },
  );
  assertEquals(r.totals.rows_per_second, 1400);
  assertEquals(r.totals.rows_per_second_writing, 2000);
  assertEquals(r.totals.start_up_seconds, 0.75);
  // A time before the start, or after the end, is clamped into the run.
  const early = buildResults(
    syntheticResultsRecorder(),
    { ...context, writersUpAt: new Date(STARTED_AT.getTime() - 5000) },
  );
  assertEquals(early.totals.rows_per_second_writing, 1400);
  const late = buildResults(
    syntheticResultsRecorder(),
    { ...context, writersUpAt: new Date(context.finishedAt.getTime() + 5000) },
  );
  assertEquals(late.totals.rows_per_second_writing, 0);
  assertEquals(late.totals.start_up_seconds, 2.5);
});

Deno.test("buildResults() summarizes latencies with nearest-rank percentiles", () => {
  const r = syntheticResults();
  // commit: 10 20 30 40 50
  assertEquals(r.latency_ms.commit, { count: 5, mean: 30, p50: 30, p90: 50, p99: 50, max: 50 });
  // visibility: 20 30 40 60 70
  assertEquals(r.latency_ms.visibility, {
    count: 5,
    mean: 44,
    p50: 40,
    p90: 70,
    p99: 70,
    max: 70,
  });
  assertEquals(r.latency_ms.batch_total.max, 62);
  assertEquals(r.histograms.commit_ms.bins.reduce((n, b) => n + b.count, 0), 5);
});

Deno.test("buildResults() sums maintenance, breakdown and series", () => {
  const r = syntheticResults();
  assertEquals(r.compaction, {
    runs: 1,
    conflicts: 1,
    files_in: 5,
    files_out: 1,
    bytes_in: 7000,
    bytes_out: 6500,
    ms_total: 300,
  });
  assertEquals(r.checkpoints, { count: 1, last_version: 6 });
  assertEquals(r.vacuum, { runs: 1, files_deleted: 5, bytes_deleted: 7000 });
  assertEquals(r.log_cleanup, { runs: 1, files_deleted: 3 });
  // Committed batches plus the failed one (which reported encode and upload).
  assertEquals(r.breakdown_ms, { generate: 7, encode: 18, upload: 27, commit: 150 });
  // Seconds 0 and 1 are whole; the last half second (no rows) is scaled to a rate.
  assertEquals(r.timeseries.throughput, [
    { t_s: 0, rows_per_second: 2000 },
    { t_s: 1, rows_per_second: 1500 },
    { t_s: 2, rows_per_second: 0 },
  ]);
  assertEquals(r.timeseries.file_count.map((p) => p.files), [0, 3, 1]);
  assertEquals(r.timeseries.rss_mb.length, 2);
  assertEquals(r.chaos, {
    mode: "kill-writers",
    kills: 1,
    faults: 0,
    missed: 0,
    events: [
      { t_s: 1.8, action: "kill", role_id: "writer-1", detail: "SIGKILL during upload" },
      { t_s: 2, action: "restart", role_id: "writer-1", detail: "resumed after seq 1" },
    ],
    events_omitted: 0,
  });
  assertEquals(r.config, { writers: 2, batch_rows: 500, s3: { secret: "***" } });
});

Deno.test("verification passes only if every check passed", () => {
  assertEquals(syntheticResults().verification.passed, true);
  assertEquals(syntheticResults(true).verification.passed, false);
  const context = syntheticContext(true);
  context.verification.passed = true; // the checks still say otherwise
  const r = buildResults(new MetricsRecorder(), context);
  assertEquals(r.verification.passed, false);
  assertEquals(r.verification.checks.length, 2);
});

Deno.test("the results keep the fixed paths that scripts read, as numbers, through JSON", () => {
  const parsed = JSON.parse(JSON.stringify(syntheticResults()));
  assertEquals(parsed.totals.rows_acknowledged, 3500);
  assertEquals(parsed.totals.rows_per_second, 1400);
  assertEquals(parsed.totals.commits, 6);
  assertEquals(parsed.latency_ms.commit.p99, 50);
  assertEquals(parsed.verification.passed, true);
});

Deno.test("results of a run without events are zeros, with no NaN", () => {
  const { chaosMode: _chaos, ...context } = syntheticContext();
  const r = buildResults(new MetricsRecorder(), { ...context, finishedAt: STARTED_AT });
  const json = JSON.stringify(r);
  assert(!/NaN|Infinity/.test(json));
  assertEquals(r.wall_seconds, 0);
  assertEquals(r.totals.rows_per_second, 0);
  assertEquals(r.totals.versions, { first: null, last: null });
  assertEquals(r.latency_ms.commit, { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  assertEquals(r.timeseries.throughput, []);
  assertEquals(r.writers, []);
  assertEquals(r.chaos, {
    mode: "none",
    kills: 0,
    faults: 0,
    missed: 0,
    events: [],
    events_omitted: 0,
  });
  assertEquals(r.breakdown_ms.generate, undefined);
  assert(!("generate" in r.breakdown_ms));
});

Deno.test("chaos events come from the recorder alone, in time order, with counts", () => {
  const recorder = new MetricsRecorder();
  const at = (t_ms: number, event: "kill" | "restart" | "fault", detail: string) =>
    recorder.record({
      t_ms,
      time: new Date(STARTED_AT.getTime() + t_ms).toISOString(),
      role: "orchestrator",
      role_id: "compactor-0",
      event,
      detail,
    });
  at(2000, "restart", "after SIGKILL");
  at(1500, "kill", "mid-rewrite");
  at(3000, "fault", "503 on put");
  const r = buildResults(recorder, { ...syntheticContext(), generateMs: 12.345 });
  assertEquals(r.chaos.events.map((e) => `${e.t_s} ${e.action} ${e.detail}`), [
    "1.5 kill mid-rewrite",
    "2 restart after SIGKILL",
    "3 fault 503 on put",
  ]);
  assertEquals(r.chaos.kills, 1);
  assertEquals(r.chaos.faults, 1);
  assertEquals(r.totals.role_restarts, 1);
  assertEquals(r.breakdown_ms.generate, 12.3);
});

Deno.test("a run with a role crash or a failed batch is not clean, even if verification passed", () => {
  assertEquals(buildResults(new MetricsRecorder(), syntheticContext()).clean, true);
  // The synthetic run has one failed batch.
  const r = syntheticResults();
  assertEquals(r.verification.passed, true);
  assertEquals(r.totals.batches_failed, 1);
  assertEquals(r.clean, false);
  const crashed = new MetricsRecorder();
  crashed.recordNow({ role: "writer", role_id: "writer-0", event: "role_error", detail: "ENOSPC" });
  const c = buildResults(crashed, syntheticContext());
  assertEquals(c.totals.role_crashes, 1);
  assertEquals(c.clean, false);
});

Deno.test("an ingest process is a row of the writers' table, with role ingest", () => {
  const recorder = new MetricsRecorder();
  const at = (t_ms: number) => ({
    t_ms,
    time: new Date(STARTED_AT.getTime() + t_ms).toISOString(),
  });
  recorder.record({
    ...at(100),
    role: "writer",
    role_id: "writer-0",
    event: "batch_committed",
    rows: 10,
  });
  recorder.record({
    ...at(200),
    role: "ingest",
    role_id: "ingest-rig-1",
    event: "batch_committed",
    rows: 40,
    batch_seq: 39,
  });
  recorder.record({
    ...at(300),
    role: "ingest",
    role_id: "ingest-rig-1",
    event: "commit_conflict",
  });
  recorder.record({ ...at(400), role: "orchestrator", role_id: "ingest-rig-1", event: "restart" });
  const r = buildResults(recorder, syntheticContext());
  assertEquals(r.writers.map((w) => [w.id, w.role, w.rows, w.conflicts, w.restarts]), [
    ["ingest-rig-1", "ingest", 40, 1, 1],
    ["writer-0", "writer", 10, 0, 0],
  ]);
  assertEquals(r.totals.rows_acknowledged, 50);
});
