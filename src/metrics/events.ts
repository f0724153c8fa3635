/**
 * Metrics events: what the roles of a streaming run report, one CSV row each
 * in `streaming_metrics.csv`. This file owns the event type, the CSV column
 * order and the mapping of an event to its row of cells.
 *
 * Invariants: `EVENT_COLUMNS` lists every key of `MetricsEvent` exactly once,
 * in the order of the CSV header; a column that an event leaves out is an
 * empty cell. Which optional fields each kind of event carries is documented
 * on `EventKind`.
 */

/**
 * The role that reported an event. `ingest` (Kafka into the table) writes
 * batches as `writer` does, and reports the same batch events.
 */
export type Role = "writer" | "ingest" | "compactor" | "vacuum" | "orchestrator";

/** Every role, in report order. */
export const ROLES: readonly Role[] = ["writer", "ingest", "compactor", "vacuum", "orchestrator"];

/** The roles that append batches to the table: their batches are the run's rows. */
export const BATCH_ROLES: readonly Role[] = ["writer", "ingest"];

/**
 * The role of an instance id (`writer-2`, `ingest-host-42`, `compactor-0`):
 * its first dash-separated word when that names a role, else undefined.
 * Kill and restart events come from the orchestrator and name their target
 * only by id.
 */
export function roleOfId(roleId: string): Role | undefined {
  const word = roleId.split("-")[0];
  return ROLES.find((r) => r === word);
}

/**
 * The role an event is about: its own, or for the orchestrator's events
 * (kill, restart) the role of the instance they name.
 */
export function subjectRole(e: Pick<MetricsEvent, "role" | "role_id">): Role {
  if (e.role !== "orchestrator") return e.role;
  return roleOfId(e.role_id) ?? "orchestrator";
}

/** True when an event is about a role that appends batches (writer or ingest). */
export function isBatchRole(e: Pick<MetricsEvent, "role" | "role_id">): boolean {
  return BATCH_ROLES.includes(subjectRole(e));
}

/**
 * What happened. The optional fields each kind fills:
 *
 * | event | fields |
 * |---|---|
 * | `batch_committed` | version, batch_seq, rows, bytes, generate_ms, encode_ms, upload_ms, commit_ms, total_ms, visibility_ms, attempts |
 * | `commit_conflict` | version (the one lost), batch_seq, attempts |
 * | `commit_retry` | batch_seq, attempts, detail |
 * | `batch_failed` | batch_seq, rows, attempts, detail (the error) |
 * | `batch_unacknowledged` | batch_seq, rows, detail (a batch whose outcome is unknown, as when its writer was killed) |
 * | `compaction` | version, files_in, files_out, bytes_in, bytes (written), total_ms, attempts |
 * | `compaction_conflict` | version, files_in, detail |
 * | `checkpoint` | version, bytes, total_ms |
 * | `log_cleanup` | version (of the checkpoint kept), files_deleted, total_ms |
 * | `vacuum` | files_deleted, bytes (deleted), total_ms |
 * | `kill`, `restart` | detail; `role_id` names the role killed or restarted |
 * | `fault` | detail (the storage fault injected, or the partition); `role_id` names the role that met it |
 * | `chaos_missed` | detail (a planned chaos action that did not happen, and why); `role_id` names its target |
 * | `role_error` | detail (a role crashed: failed, or exited unasked) |
 * | `table_state` | version, files_total, bytes (table size) |
 * | `memory` | rss_mb, heap_mb; every role reports them every 10 s, busy or idle, so a role deep in a long pass does not leave a stale figure |
 * | `broker_unreachable` | detail (the error), total_ms (how long so far); an ingest cannot reach Kafka, reported when that starts and every few seconds while it lasts |
 * | `broker_reachable` | total_ms (how long it was unreachable); Kafka answers again |
 *
 * Any event may carry `rss_mb`, the reporting process's resident set size,
 * and `heap_mb`, the V8 heap in use of the reporting role's isolate (its
 * worker's own, or its process's).
 */
export type EventKind =
  | "batch_committed"
  | "commit_conflict"
  | "commit_retry"
  | "batch_failed"
  | "batch_unacknowledged"
  | "compaction"
  | "compaction_conflict"
  | "checkpoint"
  | "log_cleanup"
  | "vacuum"
  | "kill"
  | "restart"
  | "fault"
  | "chaos_missed"
  | "role_error"
  | "table_state"
  | "memory"
  | "broker_unreachable"
  | "broker_reachable";

/** A table version or batch sequence number: a number, or a bigint from an int64 column. */
export type Counter = number | bigint;

/** One thing that happened during a run. Durations are in milliseconds. */
export interface MetricsEvent {
  /** Milliseconds since the run started. */
  t_ms: number;
  /** Wall-clock time, ISO-8601 in UTC (`2026-11-27T10:55:04.123Z`). */
  time: string;
  role: Role;
  /** The instance, such as `writer-2`, `ingest-host-42` or `compactor-0`. */
  role_id: string;
  event: EventKind;
  /** The table version committed, lost, checkpointed or observed. */
  version?: Counter | undefined;
  batch_seq?: Counter | undefined;
  rows?: number | undefined;
  /** Bytes written (or deleted, for vacuum; the table size, for table_state). */
  bytes?: number | undefined;
  /** Bytes read by a compaction. */
  bytes_in?: number | undefined;
  files_in?: number | undefined;
  files_out?: number | undefined;
  /** Live data files of the table (table_state). */
  files_total?: number | undefined;
  /** Files deleted by vacuum or log cleanup. */
  files_deleted?: number | undefined;
  /** Time to generate (or read) the batch's rows. */
  generate_ms?: number | undefined;
  encode_ms?: number | undefined;
  upload_ms?: number | undefined;
  commit_ms?: number | undefined;
  /** The whole batch: generate, encode, upload and commit, retries included. */
  total_ms?: number | undefined;
  /** From the generation of a batch's first row until its commit is visible. */
  visibility_ms?: number | undefined;
  /** Commit attempts made (1 when the first attempt won). */
  attempts?: number | undefined;
  rss_mb?: number | undefined;
  /** V8 heap in use of the reporting role's isolate, in MiB. */
  heap_mb?: number | undefined;
  /** Short text: an error, a reason, a file name. */
  detail?: string | undefined;
}

/** The CSV header of `streaming_metrics.csv`, in column order. */
export const EVENT_COLUMNS = [
  "t_ms",
  "time",
  "role",
  "role_id",
  "event",
  "version",
  "batch_seq",
  "rows",
  "bytes",
  "bytes_in",
  "files_in",
  "files_out",
  "files_total",
  "files_deleted",
  "generate_ms",
  "encode_ms",
  "upload_ms",
  "commit_ms",
  "total_ms",
  "visibility_ms",
  "attempts",
  "rss_mb",
  "heap_mb",
  "detail",
] as const satisfies readonly (keyof MetricsEvent)[];

/**
 * The cells of an event's CSV row, in `EVENT_COLUMNS` order; absent fields
 * are `undefined` (an empty cell).
 */
export function eventCells(event: MetricsEvent): (string | number | bigint | undefined)[] {
  const cells = new Array<string | number | bigint | undefined>(EVENT_COLUMNS.length);
  for (let i = 0; i < EVENT_COLUMNS.length; i++) cells[i] = event[EVENT_COLUMNS[i]!];
  return cells;
}

/**
 * Makes an event stamped with the time since `startMs` (an epoch time in ms)
 * and the ISO time of `nowMs`.
 *
 * @example
 * ```ts
 * const start = Date.now();
 * stampEvent(start, Date.now(), { role: "writer", role_id: "writer-0", event: "restart" });
 * ```
 */
export function stampEvent(
  startMs: number,
  nowMs: number,
  fields: Omit<MetricsEvent, "t_ms" | "time">,
): MetricsEvent {
  return {
    t_ms: Math.round((nowMs - startMs) * 1000) / 1000,
    time: new Date(nowMs).toISOString(),
    ...fields,
  };
}

/** A counter as a number (versions and sequence numbers stay far below 2^53). */
export function counterValue(value: Counter): number {
  return typeof value === "bigint" ? Number(value) : value;
}
