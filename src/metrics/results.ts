/**
 * The results of a streaming run, as written to `streaming_results.json`, and
 * how they are built from a recorder's tallies plus what only the
 * orchestrator knows (times, table, configuration, chaos, verification).
 *
 * Invariants:
 * - The paths `totals.rows_acknowledged`, `totals.rows_per_second`,
 *   `totals.commits`, `latency_ms.commit.p99` and `verification.passed` are
 *   fixed: scripts read them.
 * - Every number is finite (JSON has no NaN): empty samples summarize to
 *   zeros and rates over a zero duration are 0.
 * - `verification.passed` is true only if the orchestrator said so and every
 *   check passed.
 */

import type { Histogram } from "./histogram.ts";
import { type LatencySummary, round } from "./percentiles.ts";
import type { RateSeries } from "./series.ts";
import type { Role } from "./events.ts";
import type {
  CheckpointTally,
  CompactionTally,
  LogCleanupTally,
  MetricsRecorder,
  VacuumTally,
} from "./recorder.ts";

/** One verification check, such as "no acknowledged row is missing". */
export interface VerificationCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** The verification of a run. */
export interface Verification {
  passed: boolean;
  checks: VerificationCheck[];
}

/** One chaos action (a role killed, restarted, a fault injected). */
export interface ChaosEvent {
  /** Seconds since the run started. */
  t_s: number;
  /** What was done, such as `kill`, `restart`, or `chaos_missed` (planned, did not happen). */
  action: string;
  role_id: string;
  detail: string;
}

/** The contents of `streaming_results.json`. */
export interface RunResults {
  run_id: string;
  /** ISO-8601 UTC. */
  started_at: string;
  finished_at: string;
  wall_seconds: number;
  /** The table URI or path. */
  table: string;
  /** The run's configuration, secrets already redacted. */
  config: Record<string, unknown>;
  totals: {
    rows_acknowledged: number;
    /** Acknowledged rows over the run's wall time. */
    rows_per_second: number;
    /**
     * Acknowledged rows over the time from the first writer (or ingest role)
     * up, its modules loaded and the table read, to the writers' stop: the
     * rate with the job's start-up left out, as a long run sees it. Equal to
     * `rows_per_second` when no writer reported up.
     */
    rows_per_second_writing: number;
    /** Seconds from the start of the run until the first writer was up (0 if none was). */
    start_up_seconds: number;
    /** Successful commits: writer batches plus compactions. */
    commits: number;
    batches_failed: number;
    batches_unacknowledged: number;
    /** Bytes of the data files of acknowledged batches. */
    bytes_written: number;
    /** Commits that lost their version, writers' and compactions'. */
    conflicts: number;
    retries: number;
    /** Lowest and highest version committed during the run (null when none). */
    versions: { first: number | null; last: number | null };
    /** Roles that failed or exited unasked (chaos kills are not counted). */
    role_crashes: number;
    /** Roles started again, after a kill or a crash. */
    role_restarts: number;
  };
  /** One entry per process that appended batches: a writer or an ingest. */
  writers: {
    id: string;
    /** `writer`, or `ingest` for a Kafka ingest process. */
    role: Role;
    rows: number;
    batches: number;
    commits: number;
    conflicts: number;
    restarts: number;
    rows_per_second: number;
    last_batch_seq: number | null;
  }[];
  latency_ms: {
    commit: LatencySummary;
    encode: LatencySummary;
    upload: LatencySummary;
    batch_total: LatencySummary;
    visibility: LatencySummary;
  };
  /** The distribution of writer commit latencies, for the report's chart. */
  histograms: { commit_ms: Histogram };
  compaction: CompactionTally;
  checkpoints: CheckpointTally;
  vacuum: VacuumTally;
  log_cleanup: LogCleanupTally;
  /** What chaos did: every kill, restart and injected fault, in time order. */
  chaos: {
    mode: string;
    kills: number;
    faults: number;
    /** Planned actions (kills, partitions) that did not happen: each is a `missed` event. */
    missed: number;
    /** The first `CHAOS_KEPT` (recorder.ts) kills, restarts, faults and misses. */
    events: ChaosEvent[];
    /** Those past the first `CHAOS_KEPT`, left out of `events` (the metrics CSV has them). */
    events_omitted: number;
  };
  timeseries: {
    /**
     * Acknowledged rows per second of run time, from second 0 to the end of
     * the run: one point per second, or per wider step in a long run (at
     * most `SERIES_MAX_POINTS` points, series.ts).
     */
    throughput: { t_s: number; rows_per_second: number }[];
    file_count: { t_s: number; files: number }[];
    rss_mb: { t_s: number; role_id: string; rss_mb: number }[];
  };
  /** Time spent per stage, summed over all writer batches (`generate` only if reported). */
  breakdown_ms: { generate?: number; encode: number; upload: number; commit: number };
  /** Seconds from the start until the writers were asked to stop. */
  writing_seconds: number;
  /** How long the end-of-run verification took. */
  verification_ms: number;
  verification: Verification;
  /**
   * What the table occupied in its store at the end: data files (live or
   * not yet vacuumed) and log files, or null when it could not be listed.
   */
  storage: StorageFootprint | null;
  /**
   * True when verification passed and no role crashed and no batch failed:
   * the run is a clean success (the exit status follows it).
   */
  clean: boolean;
}

/** A table's size in its store. */
export interface StorageFootprint {
  data_files: number;
  data_bytes: number;
  log_files: number;
  log_bytes: number;
}

/** What the orchestrator adds to the recorder's tallies. */
export interface ResultsContext {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  table: string;
  /** Configuration to embed, already redacted. */
  config: Record<string, unknown>;
  verification: Verification;
  /** The table's footprint at the end. @default null */
  storage?: StorageFootprint | null | undefined;
  /** How long the verification took, in ms. @default 0 */
  verificationMs?: number | undefined;
  /** When the writers were asked to stop. @default finishedAt */
  writingEndedAt?: Date | undefined;
  /** When the first writer was up and about to write. @default startedAt */
  writersUpAt?: Date | undefined;
  /** The chaos mode (its actions are the recorder's kill, restart and fault events). @default "none" */
  chaosMode?: string | undefined;
  /**
   * Total generation time in ms, when batches did not report `generate_ms`.
   * @default the sum of the events' `generate_ms`, or absent
   */
  generateMs?: number | undefined;
}

/**
 * Builds the run results from a recorder and the orchestrator's context.
 *
 * @example
 * ```ts
 * import { MetricsRecorder } from "./recorder.ts";
 *
 * const recorder = new MetricsRecorder();
 * const startedAt = new Date();
 * recorder.recordNow({ role: "writer", role_id: "writer-0", event: "batch_committed", rows: 500 });
 * const results = buildResults(recorder, {
 *   runId: "streaming-20261127T105504Z",
 *   startedAt,
 *   finishedAt: new Date(startedAt.getTime() + 1000),
 *   table: "./neuralake-data/recordings",
 *   config: {},
 *   verification: { passed: true, checks: [] },
 * });
 * results.totals.rows_per_second; // 500
 * ```
 */
export function buildResults(recorder: MetricsRecorder, context: ResultsContext): RunResults {
  const t = recorder.tally;
  const wall = Math.max(0, (context.finishedAt.getTime() - context.startedAt.getTime()) / 1000);
  const perSecond = (n: number) => (wall > 0 ? round(n / wall, 1) : 0);
  const upAt = Math.min(
    Math.max(context.writersUpAt?.getTime() ?? 0, context.startedAt.getTime()),
    context.finishedAt.getTime(),
  );
  const writing = (context.finishedAt.getTime() - upAt) / 1000;
  const checks = context.verification.checks.map((c) => ({ ...c }));
  const writers = [...recorder.writers.values()]
    .sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }))
    .map((w) => ({
      id: w.id,
      role: w.role,
      rows: w.rows,
      batches: w.batches,
      commits: w.commits,
      conflicts: w.conflicts,
      restarts: w.restarts,
      rows_per_second: perSecond(w.rows),
      last_batch_seq: w.last_batch_seq,
    }));
  const breakdown: RunResults["breakdown_ms"] = {
    encode: round(t.stageMs.encode, 1),
    upload: round(t.stageMs.upload, 1),
    commit: round(t.stageMs.commit, 1),
  };
  const verificationPassed = context.verification.passed && checks.every((c) => c.passed);
  const writingEnded = context.writingEndedAt ?? context.finishedAt;
  const generate = context.generateMs ?? (t.generateReported ? t.stageMs.generate : undefined);
  if (generate !== undefined) breakdown.generate = round(generate, 1);
  return {
    run_id: context.runId,
    started_at: context.startedAt.toISOString(),
    finished_at: context.finishedAt.toISOString(),
    wall_seconds: round(wall, 3),
    table: context.table,
    config: context.config,
    totals: {
      rows_acknowledged: t.rowsAcknowledged,
      rows_per_second: perSecond(t.rowsAcknowledged),
      rows_per_second_writing: writing > 0 ? round(t.rowsAcknowledged / writing, 1) : 0,
      start_up_seconds: round((upAt - context.startedAt.getTime()) / 1000, 3),
      commits: t.commits,
      batches_failed: t.batchesFailed,
      batches_unacknowledged: t.batchesUnacknowledged,
      bytes_written: t.bytesWritten,
      conflicts: t.conflicts,
      retries: t.retries,
      versions: { first: t.versionFirst, last: t.versionLast },
      role_crashes: t.roleErrors,
      role_restarts: t.roleRestarts,
    },
    writers,
    latency_ms: {
      commit: recorder.latencies.commit.summary(),
      encode: recorder.latencies.encode.summary(),
      upload: recorder.latencies.upload.summary(),
      batch_total: recorder.latencies.batch_total.summary(),
      visibility: recorder.latencies.visibility.summary(),
    },
    histograms: { commit_ms: recorder.latencies.commit.histogram() },
    compaction: { ...t.compaction, ms_total: round(t.compaction.ms_total, 1) },
    checkpoints: { ...t.checkpoints },
    vacuum: { ...t.vacuum },
    log_cleanup: { ...t.logCleanup },
    chaos: {
      mode: context.chaosMode ?? "none",
      kills: t.kills,
      faults: t.faults,
      missed: t.chaosMissed,
      events: [...recorder.chaos]
        .sort((a, b) => a.t_ms - b.t_ms)
        .map((c) => ({
          t_s: round(c.t_ms / 1000, 3),
          action: c.event,
          role_id: c.role_id,
          detail: c.detail,
        })),
      events_omitted: recorder.chaosOmitted,
    },
    timeseries: {
      throughput: throughputSeries(recorder.rowsPerSecond, wall),
      file_count: recorder.fileCounts.points.map((p) => ({ ...p })),
      rss_mb: recorder.rss.points.map((p) => ({ ...p, rss_mb: round(p.rss_mb, 1) })),
    },
    breakdown_ms: breakdown,
    writing_seconds: round(
      Math.max(0, (writingEnded.getTime() - context.startedAt.getTime()) / 1000),
      2,
    ),
    verification_ms: Math.round(context.verificationMs ?? 0),
    storage: context.storage ?? null,
    verification: { passed: verificationPassed, checks },
    clean: verificationPassed && t.roleErrors === 0 && t.batchesFailed === 0,
  };
}

/**
 * Rows per second for each bucket of the run (a second, or a wider step in a
 * long run). The buckets run to the end of the run (the tail after the
 * writers stopped shows as zeros). A final partial bucket is scaled to a
 * rate over the part of it the run covered, or dropped when that is shorter
 * than a quarter second, where the scaling would only amplify noise.
 */
function throughputSeries(
  rows: RateSeries,
  wallSeconds: number,
): { t_s: number; rows_per_second: number }[] {
  const width = rows.bucketSeconds;
  const buckets = rows.buckets;
  const count = Math.max(buckets.length, Math.ceil(wallSeconds / width));
  const series: { t_s: number; rows_per_second: number }[] = [];
  for (let b = 0; b < count; b++) {
    const n = buckets[b] ?? 0;
    const start = b * width;
    const covered = wallSeconds > 0 ? Math.min(width, wallSeconds - start) : width;
    if (covered >= width || covered <= 0) {
      series.push({ t_s: start, rows_per_second: width === 1 ? n : round(n / width, 1) });
    } else if (covered >= 0.25) {
      series.push({ t_s: start, rows_per_second: round(n / covered, 1) });
    }
  }
  return series;
}
