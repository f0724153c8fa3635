/**
 * A small synthetic event stream of a streaming run, with totals worked out
 * by hand, shared by the metrics and report tests.
 */

import type { MetricsEvent } from "../../src/metrics/events.ts";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { buildResults, type ResultsContext, type RunResults } from "../../src/metrics/results.ts";

/** The run starts at this instant; `t_ms` counts from it. */
export const STARTED_AT = new Date("2026-11-27T10:55:04.000Z");
/** 2.5 s after the start. */
export const FINISHED_AT = new Date("2026-11-27T10:55:06.500Z");

type Fields = Omit<MetricsEvent, "t_ms" | "time" | "role" | "role_id" | "event">;

function ev(
  t_ms: number,
  role: MetricsEvent["role"],
  role_id: string,
  event: MetricsEvent["event"],
  fields: Fields = {},
): MetricsEvent {
  return {
    t_ms,
    time: new Date(STARTED_AT.getTime() + t_ms).toISOString(),
    role,
    role_id,
    event,
    ...fields,
  };
}

/**
 * Writers commit 3 x 500 rows (writer-0) and 2 x 1000 rows (writer-1): 3500
 * rows in 5 batch commits at versions 1 to 5, plus one compaction at version
 * 6. Commit latencies: 10, 40, 30, 50, 20 ms.
 */
export function syntheticEvents(): MetricsEvent[] {
  return [
    ev(0, "orchestrator", "orchestrator", "table_state", { version: 0, files_total: 0 }),
    ev(100, "writer", "writer-0", "batch_committed", {
      version: 1n,
      batch_seq: 0n,
      rows: 500,
      bytes: 1000,
      generate_ms: 1,
      encode_ms: 2,
      upload_ms: 3,
      commit_ms: 10,
      total_ms: 16,
      visibility_ms: 20,
      attempts: 1,
      rss_mb: 100,
    }),
    ev(200, "writer", "writer-1", "commit_conflict", { version: 2, batch_seq: 0, attempts: 1 }),
    ev(210, "writer", "writer-1", "commit_retry", { batch_seq: 0, attempts: 2 }),
    ev(250, "writer", "writer-1", "batch_committed", {
      version: 2,
      batch_seq: 0,
      rows: 1000,
      bytes: 2000,
      generate_ms: 2,
      encode_ms: 4,
      upload_ms: 6,
      commit_ms: 40,
      total_ms: 52,
      visibility_ms: 60,
      attempts: 2,
    }),
    ev(600, "writer", "writer-0", "batch_committed", {
      version: 3,
      batch_seq: 1,
      rows: 500,
      bytes: 1000,
      generate_ms: 1,
      encode_ms: 2,
      upload_ms: 3,
      commit_ms: 30,
      total_ms: 36,
      visibility_ms: 40,
      attempts: 1,
      rss_mb: 110,
    }),
    ev(1000, "orchestrator", "orchestrator", "table_state", { version: 3, files_total: 3 }),
    ev(1200, "writer", "writer-1", "batch_committed", {
      version: 4,
      batch_seq: 1,
      rows: 1000,
      bytes: 2000,
      generate_ms: 2,
      encode_ms: 4,
      upload_ms: 6,
      commit_ms: 50,
      total_ms: 62,
      visibility_ms: 70,
      attempts: 1,
    }),
    ev(1500, "writer", "writer-0", "batch_committed", {
      version: 5,
      batch_seq: 2,
      rows: 500,
      bytes: 1000,
      generate_ms: 1,
      encode_ms: 2,
      upload_ms: 3,
      commit_ms: 20,
      total_ms: 26,
      visibility_ms: 30,
      attempts: 1,
      rss_mb: 120,
    }),
    ev(1700, "compactor", "compactor-0", "compaction", {
      version: 6,
      files_in: 5,
      files_out: 1,
      bytes_in: 7000,
      bytes: 6500,
      total_ms: 300,
    }),
    ev(1750, "compactor", "compactor-0", "compaction_conflict", { version: 6, files_in: 2 }),
    ev(1760, "compactor", "compactor-0", "checkpoint", { version: 6, bytes: 900 }),
    ev(1800, "orchestrator", "writer-1", "kill", { detail: "SIGKILL during upload" }),
    ev(1801, "orchestrator", "writer-1", "batch_unacknowledged", { batch_seq: 2, rows: 1000 }),
    ev(1850, "orchestrator", "orchestrator", "table_state", { version: 6, files_total: 1 }),
    ev(1900, "vacuum", "vacuum-0", "vacuum", { files_deleted: 5, bytes: 7000, total_ms: 40 }),
    ev(1950, "vacuum", "vacuum-0", "log_cleanup", { version: 6, files_deleted: 3 }),
    ev(2000, "orchestrator", "writer-1", "restart", { detail: "resumed after seq 1" }),
    ev(2100, "writer", "writer-1", "batch_failed", {
      batch_seq: 2,
      rows: 1000,
      encode_ms: 4,
      upload_ms: 6,
      detail: "upload failed: 503",
    }),
  ];
}

/** A context whose verification passes unless `failCheck` is set. */
export function syntheticContext(failCheck = false): ResultsContext {
  return {
    runId: "streaming-20261127T105504Z",
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT,
    table: "./neuralake-data/recordings",
    config: { writers: 2, batch_rows: 500, s3: { secret: "***" } },
    verification: {
      passed: !failCheck,
      checks: [
        { name: "no acknowledged row missing", passed: true, detail: "3500 of 3500 rows" },
        {
          name: "no duplicate keys",
          passed: !failCheck,
          detail: failCheck ? "12 duplicate keys" : "0 duplicates",
        },
      ],
    },
    chaosMode: "kill-writers",
  };
}

/** The results of the synthetic run. */
export function syntheticResults(failCheck = false): RunResults {
  const recorder = new MetricsRecorder();
  for (const event of syntheticEvents()) recorder.record(event);
  recorder.close();
  return buildResults(recorder, syntheticContext(failCheck));
}
