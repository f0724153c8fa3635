/**
 * Figures of a run as text for people, shared by the Markdown summary and the
 * HTML page so that both show the same headline and tables. Functions here
 * return plain text; each renderer escapes it for its own format.
 *
 * Invariant: no formatter returns `NaN` or `Infinity`; a missing or
 * non-finite number prints as `-`.
 */

import type { RunResults } from "../metrics/results.ts";
import type { LatencySummary } from "../metrics/percentiles.ts";
import { formatBytes, formatDuration } from "../util/units.ts";

/** A table: a header row and body rows of text cells. */
export interface TextTable {
  header: string[];
  rows: string[][];
}

/** Formats a count with thousands separators: `1,234,567`. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return Math.round(value).toLocaleString("en-US");
}

/** Formats a rate or other decimal with separators and `digits` decimals. */
export function formatDecimal(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Formats milliseconds of latency: `12.3 ms`, or seconds from 10 s up. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return value >= 10_000 ? formatDuration(value) : `${formatDecimal(value, 1)} ms`;
}

/** Formats a byte count, or `-`. */
export function formatSize(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return formatBytes(value);
}

/** `PASSED` or `FAILED`. */
export function verdict(passed: boolean): "PASSED" | "FAILED" {
  return passed ? "PASSED" : "FAILED";
}

/** The headline figures, as label and value. */
export function headlineRows(r: RunResults): [string, string][] {
  const t = r.totals;
  const lat = r.latency_ms;
  const versions = t.versions.first === null
    ? "-"
    : `${formatCount(t.versions.first)} to ${formatCount(t.versions.last)}`;
  return [
    ["Rows acknowledged", formatCount(t.rows_acknowledged)],
    ["Rows per second", formatCount(t.rows_per_second)],
    ["Commits", formatCount(t.commits)],
    ["Table versions", versions],
    ["Commit latency p50", formatPercentile(lat.commit, "p50")],
    ["Commit latency p99", formatPercentile(lat.commit, "p99")],
    ["Visibility latency p99", formatPercentile(lat.visibility, "p99")],
    ["Conflicts / retries", `${formatCount(t.conflicts)} / ${formatCount(t.retries)}`],
    [
      "Batches failed / unacknowledged",
      `${formatCount(t.batches_failed)} / ${formatCount(t.batches_unacknowledged)}`,
    ],
    [
      "Role crashes / restarts",
      `${formatCount(t.role_crashes)} / ${formatCount(t.role_restarts)}`,
    ],
    ["Bytes written", formatSize(t.bytes_written)],
    ["Wall time", formatDuration(r.wall_seconds * 1000)],
    ["Verification", verdict(r.verification.passed)],
    ["Outcome", r.clean ? "clean" : "NOT CLEAN: roles crashed or batches failed"],
  ];
}

/** One row per writer or ingest process. */
export function writersTable(r: RunResults): TextTable {
  return {
    header: [
      "writer",
      "role",
      "rows",
      "rows/s",
      "batches",
      "commits",
      "conflicts",
      "restarts",
      "last seq",
    ],
    rows: r.writers.map((w) => [
      w.id,
      w.role,
      formatCount(w.rows),
      formatCount(w.rows_per_second),
      formatCount(w.batches),
      formatCount(w.commits),
      formatCount(w.conflicts),
      formatCount(w.restarts),
      formatCount(w.last_batch_seq),
    ]),
  };
}

/**
 * A percentile of `s` in ms, marked `≈` when it comes from a sketch rather
 * than from every sample (`LatencySummary.approximate`).
 */
export function formatPercentile(s: LatencySummary, p: "p50" | "p90" | "p99"): string {
  return `${s.approximate ? "≈" : ""}${formatMs(s[p])}`;
}

/** One row per latency measure; approximate percentiles are marked `≈`. */
export function latencyTable(r: RunResults): TextTable {
  const row = (name: string, s: LatencySummary) => [
    name,
    formatCount(s.count),
    formatMs(s.mean),
    formatPercentile(s, "p50"),
    formatPercentile(s, "p90"),
    formatPercentile(s, "p99"),
    formatMs(s.max),
  ];
  const l = r.latency_ms;
  return {
    header: ["latency", "count", "mean", "p50", "p90", "p99", "max"],
    rows: [
      row("commit", l.commit),
      row("encode", l.encode),
      row("upload", l.upload),
      row("batch total", l.batch_total),
      row("visibility", l.visibility),
    ],
  };
}

/** Compaction, checkpoint, vacuum and log cleanup figures. */
export function maintenanceTable(r: RunResults): TextTable {
  const c = r.compaction;
  return {
    header: ["operation", "runs", "figures"],
    rows: [
      [
        "compaction",
        formatCount(c.runs),
        `${formatCount(c.files_in)} files (${formatSize(c.bytes_in)}) into ${
          formatCount(c.files_out)
        } (${formatSize(c.bytes_out)}); ${formatCount(c.conflicts)} conflicts; ${
          formatMs(c.ms_total)
        } in total`,
      ],
      [
        "checkpoint",
        formatCount(r.checkpoints.count),
        `last at version ${formatCount(r.checkpoints.last_version)}`,
      ],
      [
        "vacuum",
        formatCount(r.vacuum.runs),
        `${formatCount(r.vacuum.files_deleted)} files deleted (${
          formatSize(r.vacuum.bytes_deleted)
        })`,
      ],
      [
        "log cleanup",
        formatCount(r.log_cleanup.runs),
        `${formatCount(r.log_cleanup.files_deleted)} log files deleted`,
      ],
      ["on disk at the end", "-", storageFigures(r)],
    ],
  };
}

/**
 * The table's bytes in its store at the end of the run, and what vacuum
 * reclaimed: `1.2 GiB in 40 data files, 3.4 MiB in 210 log files`.
 */
export function storageFigures(r: RunResults): string {
  const s = r.storage;
  if (!s) return "not measured (the table could not be listed)";
  return `${formatSize(s.data_bytes)} in ${formatCount(s.data_files)} data files, ${
    formatSize(s.log_bytes)
  } in ${formatCount(s.log_files)} log files`;
}

/** Time per stage and its share of the staged total. */
export function breakdownTable(r: RunResults): TextTable {
  const b = r.breakdown_ms;
  const stages: [string, number][] = [];
  if (b.generate !== undefined) stages.push(["generate", b.generate]);
  stages.push(["encode", b.encode], ["upload", b.upload], ["commit", b.commit]);
  const total = stages.reduce((sum, [, ms]) => sum + (Number.isFinite(ms) ? ms : 0), 0);
  return {
    header: ["stage", "time (s)", "share"],
    rows: stages.map(([name, ms]) => [
      name,
      Number.isFinite(ms) ? formatDecimal(ms / 1000, 2) : "-",
      total > 0 ? `${formatDecimal((100 * ms) / total, 1)}%` : "-",
    ]),
  };
}

/**
 * The run's settings as recorded in `streaming_results.json`, for people:
 * durations (`*Ms`) in human units, sizes in bytes as sizes, counts with
 * separators.
 */
export function settingsTable(r: RunResults): TextTable {
  const rows: string[][] = [];
  for (const [key, value] of Object.entries(r.config)) {
    if (
      value === null || value === undefined || typeof value === "object" && !Array.isArray(value)
    ) {
      continue;
    }
    let text: string;
    if (typeof value === "number" && key.endsWith("Ms")) text = formatDuration(value);
    else if (typeof value === "number" && /size|bytes/i.test(key)) text = formatSize(value);
    else if (typeof value === "number" && key !== "seed") text = formatCount(value);
    else if (Array.isArray(value)) text = value.join(", ");
    else text = String(value);
    rows.push([key, text]);
  }
  return { header: ["setting", "value"], rows };
}

/** The chaos actions, in time order. */
export function chaosTable(r: RunResults): TextTable {
  return {
    header: ["t (s)", "action", "role", "detail"],
    rows: [...r.chaos.events]
      .sort((a, b) => a.t_s - b.t_s)
      .map((e) => [formatDecimal(e.t_s, 1), e.action, e.role_id, e.detail]),
  };
}

/** The verification checks. */
/**
 * What the verification checked, in words, for a run whose rows came from
 * Kafka (its checks differ from a generator run's); empty otherwise.
 */
export function verificationNote(r: RunResults): string {
  if (r.config.source !== "kafka") return "";
  return "The rows came from Kafka, not from this run's generator, so they were checked " +
    "against the topic: each partition was read again from its first offset up to its " +
    "txn marker in the table (the last offset committed), every message decoded as the " +
    "ingest roles decode it, and its rows counted per key (session_id, writer_id, " +
    "batch_seq). Every message up to the markers must be in the table with exactly its " +
    "rows, no row of the topic's sessions may lie beyond a marker, and the table's rows " +
    "must equal the rows of the committed offset ranges. Messages after the markers were " +
    "not ingested in this run and are not judged.";
}

export function checksTable(r: RunResults): TextTable {
  return {
    header: ["check", "result", "detail"],
    rows: r.verification.checks.map((c) => [c.name, c.passed ? "pass" : "FAIL", c.detail]),
  };
}
