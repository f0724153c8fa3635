/**
 * The metrics recorder of a streaming run: it appends each event to
 * `streaming_metrics.csv` the moment it arrives (so a crashed run still leaves
 * its metrics), and keeps in memory only what the results need: latency
 * series, per-writer counters, totals, and downsampled time series, each in
 * memory that does not grow with the run's length (latency_stats.ts,
 * series.ts), so a stream can run for days.
 *
 * Invariants:
 * - The CSV header (`EVENT_COLUMNS`) is written once, when the file is opened,
 *   so even a run with no events leaves a valid CSV.
 * - Each event is one CSV row, written synchronously before `record` returns:
 *   numbers plainly, bigints as integers, absent fields as empty cells.
 * - Every event is tallied exactly once, whether or not a file is open; after
 *   `close()` events are still tallied but no longer written.
 * - What it retains is bounded: latencies by `LatencyStats`, the time series
 *   by `SERIES_MAX_POINTS`, chaos records by `CHAOS_KEPT` (the rest are
 *   counted in `chaosOmitted`, and every one is in the CSV).
 */

import { stringify } from "csv-stringify/sync";
import {
  counterValue,
  EVENT_COLUMNS,
  eventCells,
  isBatchRole,
  type MetricsEvent,
  type Role,
  stampEvent,
  subjectRole,
} from "./events.ts";
import { LatencyStats } from "./latency_stats.ts";
import { RotatingFile, segmentBytesFor } from "../util/rotating_file.ts";
import { RateSeries, SampledSeries } from "./series.ts";

/** Counters of one writer or ingest process. */
export interface WriterTally {
  id: string;
  /** `writer`, or `ingest` for a Kafka ingest process. */
  role: Role;
  /** Rows of committed (acknowledged) batches. */
  rows: number;
  /** Batches that ended: committed, failed or unacknowledged. */
  batches: number;
  commits: number;
  conflicts: number;
  retries: number;
  failed: number;
  unacknowledged: number;
  restarts: number;
  bytes: number;
  /** Highest committed batch sequence number, or null before the first commit. */
  last_batch_seq: number | null;
}

/** Latencies in ms, one sample per committed batch that reported the stage. */
export interface LatencySamples {
  commit: LatencyStats;
  encode: LatencyStats;
  upload: LatencyStats;
  batch_total: LatencyStats;
  visibility: LatencyStats;
}

/**
 * Chaos records kept for the report. A `storage-faults` run injects a fault
 * every few dozen requests, for as long as it runs; past this many the
 * report counts the rest, and `streaming_metrics.csv` lists them all.
 */
export const CHAOS_KEPT = 10_000;

/** Compaction over a run (named as in streaming_results.json). */
export interface CompactionTally {
  runs: number;
  conflicts: number;
  files_in: number;
  files_out: number;
  bytes_in: number;
  bytes_out: number;
  ms_total: number;
}

/** Checkpoints written over a run. */
export interface CheckpointTally {
  count: number;
  last_version: number | null;
}

/** Vacuum passes over a run. */
export interface VacuumTally {
  runs: number;
  files_deleted: number;
  bytes_deleted: number;
}

/** Log cleanup passes over a run. */
export interface LogCleanupTally {
  runs: number;
  files_deleted: number;
}

/** Run-wide counters. */
export interface RunTally {
  events: number;
  rowsAcknowledged: number;
  /** Successful commits: writer batches plus compactions. */
  commits: number;
  batchCommits: number;
  batchesFailed: number;
  batchesUnacknowledged: number;
  bytesWritten: number;
  conflicts: number;
  retries: number;
  /** Lowest and highest version committed during the run, or null. */
  versionFirst: number | null;
  versionLast: number | null;
  compaction: CompactionTally;
  checkpoints: CheckpointTally;
  vacuum: VacuumTally;
  logCleanup: LogCleanupTally;
  /** Role crashes: a role failed or exited unasked (chaos kills are not crashes). */
  roleErrors: number;
  /** Roles started again after a kill or a crash. */
  roleRestarts: number;
  /** Kills by chaos. */
  kills: number;
  /** Storage faults and partitions injected by chaos. */
  faults: number;
  /** Planned chaos actions that did not happen before the run ended. */
  chaosMissed: number;
  /** Summed time per stage over all writer batches, in ms. */
  stageMs: { generate: number; encode: number; upload: number; commit: number };
  /** True once any batch reported `generate_ms`. */
  generateReported: boolean;
  /** The `t_ms` of the latest event. */
  lastEventMs: number;
}

/** A chaos action seen in the event stream (`kill`, `restart`, `fault` or `chaos_missed`). */
export interface ChaosRecord {
  t_ms: number;
  event: "kill" | "restart" | "fault" | "chaos_missed";
  role_id: string;
  detail: string;
}

/** Options of `MetricsRecorder`. */
export interface RecorderOptions {
  /** Run start as an epoch time in ms, for `recordNow`. @default the clock at construction */
  startMs?: number | undefined;
  /** The clock, in epoch ms. @default Date.now */
  now?: (() => number) | undefined;
  /** Also keep every event in `events` (meant for tests). @default false */
  keepEvents?: boolean | undefined;
  /**
   * The most bytes the CSV keeps on disk with its gzipped older segments
   * (util/rotating_file.ts); the oldest go first. 0 keeps every event.
   * @default 0
   */
  maxBytes?: number | undefined;
  /** Cut a segment of the CSV at this size. @default segmentBytesFor(maxBytes) */
  segmentBytes?: number | undefined;
}

const ENCODER = new TextEncoder();
const STRINGIFY_OPTIONS = {
  cast: { bigint: (value: bigint) => value.toString() },
};

/**
 * Records the events of one run.
 *
 * @example
 * ```ts
 * const recorder = new MetricsRecorder(); // in memory only
 * recorder.recordNow({ role: "writer", role_id: "writer-0", event: "batch_committed", rows: 500 });
 * recorder.tally.rowsAcknowledged; // 500
 * recorder.close();
 * ```
 */
export class MetricsRecorder {
  /** The CSV path, or undefined when recording in memory only. */
  readonly path: string | undefined;
  /** Run start, epoch ms. */
  readonly startMs: number;
  readonly tally: RunTally = emptyTally();
  readonly writers = new Map<string, WriterTally>();
  readonly latencies: LatencySamples = {
    commit: new LatencyStats(),
    encode: new LatencyStats(),
    upload: new LatencyStats(),
    batch_total: new LatencyStats(),
    visibility: new LatencyStats(),
  };
  /** Acknowledged rows per bucket of run time (one second, wider in a long run). */
  readonly rowsPerSecond = new RateSeries();
  /** Live file counts from `table_state` events: each, until a long run thins them to one per window. */
  readonly fileCounts = new SampledSeries<{ t_s: number; files: number }>(() => "", {
    initialWindowSeconds: 0,
  });
  /** Resident set sizes, at most one sample per role instance per window (one second at first). */
  readonly rss = new SampledSeries<{ t_s: number; role_id: string; rss_mb: number }>(
    (p) => p.role_id,
  );
  /** The first `CHAOS_KEPT` chaos records. */
  readonly chaos: ChaosRecord[] = [];
  /** Chaos records past `CHAOS_KEPT`, counted only. */
  chaosOmitted = 0;
  /** Every event, when `keepEvents` was set. */
  readonly events: MetricsEvent[] = [];

  readonly #now: () => number;
  readonly #keepEvents: boolean;
  #file: RotatingFile | undefined;
  /** The segments kept when the file was closed. */
  #closedSegments: readonly string[] = [];

  /**
   * Opens a recorder. With a `path`, the CSV file is created (or truncated)
   * and its header written at once; without, events stay in memory. With a
   * `maxBytes`, the CSV is cut into segments, older ones gzipped, and the
   * oldest deleted past the cap: the results never read it back, so nothing
   * the report shows is lost.
   */
  constructor(path?: string, options: RecorderOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.startMs = options.startMs ?? this.#now();
    this.#keepEvents = options.keepEvents ?? false;
    this.path = path;
    if (path !== undefined) {
      const maxBytes = options.maxBytes ?? 0;
      try {
        this.#file = new RotatingFile(path, {
          header: ENCODER.encode(stringify([EVENT_COLUMNS as unknown as string[]])),
          maxBytes,
          segmentBytes: options.segmentBytes ?? segmentBytesFor(maxBytes),
          truncate: true,
        });
      } catch (error) {
        throw new Error(`Cannot open the metrics file ${path}`, { cause: error });
      }
    }
  }

  /** True until `close()`. */
  get open(): boolean {
    return this.#file !== undefined;
  }

  /** The CSV's older segments still kept, oldest first (none unless it was capped and grew). */
  get segments(): readonly string[] {
    return this.#file?.segments ?? this.#closedSegments;
  }

  /** Writes one event to the CSV (if open) and tallies it. */
  record(event: MetricsEvent): void {
    this.#file?.writeSync(ENCODER.encode(stringify([eventCells(event)], STRINGIFY_OPTIONS)));
    if (this.#keepEvents) this.events.push(event);
    this.#tallyEvent(event);
  }

  /** Stamps `fields` with the recorder's clock, records and returns the event. */
  recordNow(fields: Omit<MetricsEvent, "t_ms" | "time">): MetricsEvent {
    const event = stampEvent(this.startMs, this.#now(), fields);
    this.record(event);
    return event;
  }

  /**
   * Closes the CSV file; resolves once its older segments are compressed.
   * Safe to call twice. A segment that could not be compressed or deleted
   * is left as it is and named in `rotationError`; it never fails the run.
   */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (!file) return;
    try {
      await file.close();
    } catch (error) {
      this.rotationError = `Cannot rotate ${this.path}: ${(error as Error).message}`;
    }
    this.#closedSegments = file.segments;
  }

  /** Why an older segment of the CSV was left uncompressed or kept, if one was. */
  rotationError: string | undefined;

  /** The tally of the writer or ingest process an event is about. */
  #writer(e: MetricsEvent): WriterTally {
    const id = e.role_id;
    let w = this.writers.get(id);
    if (!w) {
      w = {
        id,
        role: isBatchRole(e) ? subjectRole(e) : "writer",
        rows: 0,
        batches: 0,
        commits: 0,
        conflicts: 0,
        retries: 0,
        failed: 0,
        unacknowledged: 0,
        restarts: 0,
        bytes: 0,
        last_batch_seq: null,
      };
      this.writers.set(id, w);
    }
    return w;
  }

  #tallyEvent(e: MetricsEvent): void {
    const t = this.tally;
    t.events++;
    t.lastEventMs = Math.max(t.lastEventMs, finite(e.t_ms));
    const isWriter = isBatchRole(e);
    switch (e.event) {
      case "batch_committed": {
        const rows = finite(e.rows);
        const bytes = finite(e.bytes);
        t.rowsAcknowledged += rows;
        t.bytesWritten += bytes;
        t.commits++;
        t.batchCommits++;
        this.#version(e);
        this.#stages(e);
        this.latencies.commit.add(e.commit_ms);
        this.latencies.encode.add(e.encode_ms);
        this.latencies.upload.add(e.upload_ms);
        this.latencies.batch_total.add(e.total_ms);
        this.latencies.visibility.add(e.visibility_ms);
        this.rowsPerSecond.add(finite(e.t_ms) / 1000, rows);
        const w = this.#writer(e);
        w.rows += rows;
        w.bytes += bytes;
        w.batches++;
        w.commits++;
        if (e.batch_seq !== undefined) {
          const seq = counterValue(e.batch_seq);
          w.last_batch_seq = w.last_batch_seq === null ? seq : Math.max(w.last_batch_seq, seq);
        }
        break;
      }
      case "commit_conflict":
        t.conflicts++;
        if (isWriter) this.#writer(e).conflicts++;
        break;
      case "commit_retry":
        t.retries++;
        if (isWriter) this.#writer(e).retries++;
        break;
      case "batch_failed":
      case "batch_unacknowledged": {
        const failed = e.event === "batch_failed";
        if (failed) t.batchesFailed++;
        else t.batchesUnacknowledged++;
        this.#stages(e);
        const w = this.#writer(e);
        w.batches++;
        if (failed) w.failed++;
        else w.unacknowledged++;
        break;
      }
      case "compaction": {
        const c = t.compaction;
        c.runs++;
        c.files_in += finite(e.files_in);
        c.files_out += finite(e.files_out);
        c.bytes_in += finite(e.bytes_in);
        c.bytes_out += finite(e.bytes);
        c.ms_total += finite(e.total_ms);
        if (e.version !== undefined) {
          t.commits++;
          this.#version(e);
        }
        break;
      }
      case "compaction_conflict":
        t.compaction.conflicts++;
        t.conflicts++;
        break;
      case "checkpoint": {
        const c = t.checkpoints;
        c.count++;
        if (e.version !== undefined) {
          const v = counterValue(e.version);
          c.last_version = c.last_version === null ? v : Math.max(c.last_version, v);
        }
        break;
      }
      case "log_cleanup":
        t.logCleanup.runs++;
        t.logCleanup.files_deleted += finite(e.files_deleted);
        break;
      case "vacuum":
        t.vacuum.runs++;
        t.vacuum.files_deleted += finite(e.files_deleted);
        t.vacuum.bytes_deleted += finite(e.bytes);
        break;
      case "kill":
      case "restart":
      case "fault":
      case "chaos_missed":
        if (e.event === "kill") t.kills++;
        else if (e.event === "restart") t.roleRestarts++;
        else if (e.event === "fault") t.faults++;
        else t.chaosMissed++;
        if (this.chaos.length < CHAOS_KEPT) {
          this.chaos.push({
            t_ms: finite(e.t_ms),
            event: e.event,
            role_id: e.role_id,
            detail: e.detail ?? "",
          });
        } else this.chaosOmitted++;
        if (e.event === "restart" && isWriter) {
          this.#writer(e).restarts++;
        }
        break;
      case "role_error":
        t.roleErrors++;
        break;
      case "table_state":
        if (e.files_total !== undefined && Number.isFinite(e.files_total)) {
          this.fileCounts.add({ t_s: seconds(e.t_ms), files: e.files_total });
        }
        break;
    }
    if (e.rss_mb !== undefined && Number.isFinite(e.rss_mb)) {
      this.rss.add({ t_s: seconds(e.t_ms), role_id: e.role_id, rss_mb: e.rss_mb });
    }
  }

  #version(e: MetricsEvent): void {
    if (e.version === undefined) return;
    const v = counterValue(e.version);
    const t = this.tally;
    t.versionFirst = t.versionFirst === null ? v : Math.min(t.versionFirst, v);
    t.versionLast = t.versionLast === null ? v : Math.max(t.versionLast, v);
  }

  #stages(e: MetricsEvent): void {
    const s = this.tally.stageMs;
    if (e.generate_ms !== undefined) {
      s.generate += finite(e.generate_ms);
      this.tally.generateReported = true;
    }
    s.encode += finite(e.encode_ms);
    s.upload += finite(e.upload_ms);
    s.commit += finite(e.commit_ms);
  }
}

function emptyTally(): RunTally {
  return {
    events: 0,
    rowsAcknowledged: 0,
    commits: 0,
    batchCommits: 0,
    batchesFailed: 0,
    batchesUnacknowledged: 0,
    bytesWritten: 0,
    conflicts: 0,
    retries: 0,
    versionFirst: null,
    versionLast: null,
    compaction: {
      runs: 0,
      conflicts: 0,
      files_in: 0,
      files_out: 0,
      bytes_in: 0,
      bytes_out: 0,
      ms_total: 0,
    },
    checkpoints: { count: 0, last_version: null },
    vacuum: { runs: 0, files_deleted: 0, bytes_deleted: 0 },
    logCleanup: { runs: 0, files_deleted: 0 },
    roleErrors: 0,
    roleRestarts: 0,
    kills: 0,
    chaosMissed: 0,
    faults: 0,
    stageMs: { generate: 0, encode: 0, upload: 0, commit: 0 },
    generateReported: false,
    lastEventMs: 0,
  };
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

function seconds(tMs: number): number {
  return Math.round(finite(tMs)) / 1000;
}
