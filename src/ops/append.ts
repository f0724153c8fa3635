/**
 * Appending rows: the one path by which every writer adds data to a table
 * (the streaming writer role, the `write` command, Kafka ingest). Rows are
 * split by partition, encoded as Parquet, uploaded, and committed as `add`
 * actions, with a `txn` when the writer is idempotent. Outcomes and timings
 * are values.
 *
 * Invariants:
 * - Data files are uploaded before the commit that references them, under
 *   unique names: a commit's body may be prepared (and on local disk staged:
 *   written to a temporary file and flushed) while its last file uploads,
 *   but it is put only once every upload succeeded. A failed upload
 *   discards the staged body, and nothing is put.
 * - Held files (uploaded, not yet committed) are committed within
 *   `holdBudgetMs` of the start of the first upload, or not at all: past the
 *   budget the append is abandoned. Vacuum never deletes a file younger than
 *   `VACUUM_RETENTION_FLOOR_MS` (ops/vacuum.ts), which exceeds the default
 *   budget, so it cannot delete a file that an append will still commit.
 * - Where a HEAD is cheap (local disk), every file is looked up right before
 *   each commit attempt, and a missing file abandons the append instead of
 *   committing a reference to nothing. On S3 the streaming path skips it: a
 *   HEAD per file per commit is a billed round trip on the hot path, and the
 *   floor already covers the window it would check.
 * - An append that did not commit deletes the files it uploaded (best
 *   effort); one that may have committed never does.
 * - With `OTEL_DENO=true` each step is a span (`encode`, `upload`,
 *   `commit`), children of the caller's span (the writer's `batch`).
 */

import { formatDuration } from "../util/units.ts";
import type { ColumnBatch, Field } from "../columnar/batch.ts";
import type { Action, Add } from "../delta/actions.ts";
import type { TransactionIntent } from "../delta/conflicts.ts";
import { RowIdMark } from "../delta/row_tracking.ts";
import { inCommitTimestampsEnabled, rowTrackingActive } from "../delta/protocol.ts";
import type { SnapshotState } from "../delta/replay.ts";
import {
  type CommitDescription,
  type CommitOptions,
  type CommitOutcome,
  newIntent,
  prepareCommit,
  type PreparedCommit,
  readWinners,
} from "../delta/transaction.ts";
import {
  type Codec,
  DEFAULT_CODEC,
  type EncodedFile,
  type EncodeOptions,
  encodeParquet,
} from "../parquet/encode.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { mapLimit } from "../util/concurrency.ts";
import { log } from "../util/log.ts";
import { span } from "../util/tracing.ts";
import { addFor, dataFileKey, splitByPartition } from "./data_files.ts";

/**
 * The longest an append holds an uploaded file before its commit attempt:
 * measured from the start of the first upload, so it also bounds the file's
 * age (a store dates a file at or after the start of its upload).
 */
export const APPEND_HOLD_BUDGET_MS = 10_000;

/** Where and how an append writes: the table's store and columns. */
export interface AppendTarget {
  store: ObjectStore;
  partitionColumns: readonly string[];
  /** The columns stored in data files (the table's, less the partition columns), in order. */
  dataFields: readonly Field[];
}

/** The target of an append, from a table's columns. */
export function appendTarget(
  store: ObjectStore,
  fields: readonly Field[],
  partitionColumns: readonly string[],
): AppendTarget {
  return {
    store,
    partitionColumns,
    dataFields: fields.filter((f) => !partitionColumns.includes(f.name)),
  };
}

/** When the files of an append are looked up before committing. */
export type FileCheck = "every-attempt" | "first-attempt" | "never";

/**
 * The files an append has uploaded (or begun to upload) and not yet
 * committed, with what they cost. `upload` adds one, `begin` starts one;
 * `commitFiles` commits them all, or discards them.
 */
export class HeldFiles {
  readonly target: AppendTarget;
  readonly codec: Codec;
  readonly adds: Add[] = [];
  readonly keys: string[] = [];
  rows = 0;
  bytes = 0;
  encodeMs = 0;
  uploadMs = 0;
  #heldSince: number | undefined;
  /** Uploads begun, so that `discard` deletes only once each has ended. */
  readonly #uploading: Promise<void>[] = [];

  constructor(target: AppendTarget, codec: Codec = DEFAULT_CODEC) {
    this.target = target;
    this.codec = codec;
  }

  /** Uploads an encoded file of one partition and keeps its `add`. */
  async upload(
    partition: { directory: string; values: Record<string, string | null> },
    file: EncodedFile,
    index: number,
  ): Promise<Add> {
    const { add, stored } = this.begin(partition, file, index);
    await stored;
    return add;
  }

  /**
   * Starts uploading an encoded file of one partition and keeps its `add` at
   * once (it depends only on the encoded file), so that a commit body naming
   * it can be prepared while it uploads. No commit may be put before
   * `stored` resolves.
   */
  begin(
    partition: { directory: string; values: Record<string, string | null> },
    file: EncodedFile,
    index: number,
  ): { add: Add; stored: Promise<void> } {
    const started = performance.now();
    this.#heldSince ??= started;
    const key = dataFileKey(partition.directory, index, this.codec);
    // Recorded first: a failed upload may still have left bytes behind.
    this.keys.push(key);
    const add = addFor(key, file, partition.values, this.target.dataFields);
    this.adds.push(add);
    this.rows += file.numRows;
    this.bytes += file.bytes.byteLength;
    const stored = (async () => {
      await this.target.store.put(key, file.bytes);
      this.uploadMs += performance.now() - started;
    })();
    this.#uploading.push(stored);
    return { add, stored };
  }

  /** How long the oldest file has been held, in ms (0 before any upload). */
  heldMs(): number {
    return this.#heldSince === undefined ? 0 : performance.now() - this.#heldSince;
  }

  /** The first held file that is gone from the store, if any. */
  async missing(): Promise<string | undefined> {
    const store = this.target.store;
    const found = await mapLimit(this.keys, 16, async (key) => (await store.head(key)) ?? key);
    for (const f of found) if (typeof f === "string") return f;
    return undefined;
  }

  /**
   * Deletes the held files, best effort: called only when no commit
   * references them. A failure is logged; vacuum reclaims what is left.
   */
  async discard(): Promise<void> {
    // An upload still under way could store its file after the delete.
    await Promise.allSettled(this.#uploading.splice(0));
    if (this.keys.length === 0) return;
    const keys = this.keys.splice(0);
    this.adds.length = 0;
    try {
      const outcome = await this.target.store.delete(keys);
      for (const failed of outcome.failed) {
        log("append").warn("Could not delete the uncommitted file {key}: {reason}", failed);
      }
    } catch (error) {
      log("append").warn("Could not delete {count} uncommitted files: {error}", {
        count: keys.length,
        error: String(error),
      });
    }
  }
}

/** Options of `commitFiles`. */
export interface CommitFilesOptions {
  /** The version the append read (-1 for a new table). */
  readVersion: number;
  /** Actions committed before the adds: a new table's protocol and metadata, an overwrite's removes. */
  leading?: readonly Action[];
  /** Idempotency: the writer's application id and this append's version. */
  txn?: { appId: string; version: number };
  /** What the transaction read, beyond its version (an overwrite reads the whole table). */
  intent?: Partial<Pick<TransactionIntent, "readFiles" | "readWholeTable">>;
  /** What the commit says about itself; `operationMetrics` default to the files and rows. */
  description: CommitDescription;
  /** Retry limits and hooks of the commit loop. */
  commit?: CommitOptions;
  /**
   * The longest the files may be held before a commit attempt, in ms; past
   * it the append is abandoned. Infinity for a one-off command whose input
   * may take longer to read (it then relies on the retention and the file check).
   * @default APPEND_HOLD_BUDGET_MS
   */
  holdBudgetMs?: number;
  /** When to look every file up before committing. @default "every-attempt" where HEAD is cheap, else "never" */
  checkFiles?: FileCheck;
  /**
   * The table's row id high water mark, for a row-tracking table
   * (`RowIdMark.of` a snapshot, kept across the writer's appends): the new
   * files get fresh ids after it and the winners' marks, recomputed for the
   * version of every attempt, and it records the mark committed. Commits
   * between its version and `readVersion` are read first. @default none (no row ids)
   */
  rowIds?: RowIdMark;
}

/** The outcome of an append. `abandoned`: the hold budget ran out, or a file vanished. */
export type AppendOutcome = CommitOutcome;

/** What an append did, as values. */
export interface AppendResult {
  outcome: AppendOutcome;
  files: number;
  rows: number;
  bytes: number;
  timings: { encodeMs: number; uploadMs: number; commitMs: number };
}

/**
 * Commits held files as one version. Unless the outcome is `committed`, no
 * commit references them: the caller retries (a writer that lost a table's
 * creation) or discards them. If the commit throws (a storage failure), they
 * must be left, since the commit may have landed, unless no put was tried.
 */
export async function commitFiles(
  held: HeldFiles,
  options: CommitFilesOptions,
): Promise<AppendResult> {
  const started = performance.now();
  return await (await prepareFiles(held, options)).commit(started);
}

/** A commit of held files, prepared (`prepareFiles`): commit it, or discard it. */
export interface PreparedFiles {
  /**
   * The commit step: puts the prepared commit, as `commitFiles` does. Its
   * `commitMs` is counted from `startedAt` (`performance.now()`). @default now
   */
  commit(startedAt?: number): Promise<AppendResult>;
  /** Releases what was staged; the held files stay for the caller. */
  discard(): Promise<void>;
}

/**
 * The first half of `commitFiles`: the commit's actions for the files held
 * (`held.adds`, whose uploads may still be under way) built, encoded and
 * staged, nothing put. `commit` must be called only once every upload ended.
 * If preparing throws, nothing was committed and the held files are
 * discarded.
 */
export async function prepareFiles(
  held: HeldFiles,
  options: CommitFilesOptions,
): Promise<PreparedFiles> {
  const store = held.target.store;
  const budget = options.holdBudgetMs ?? APPEND_HOLD_BUDGET_MS;
  const check = options.checkFiles ?? (store.headIsCheap ? "every-attempt" : "never");
  const actions: Action[] = [
    ...(options.leading ?? []),
    ...held.adds.map((add) => ({ add })),
    ...(options.txn ? [{ txn: { ...options.txn, lastUpdated: Date.now() } }] : []),
  ];
  const intent = newIntent(options.readVersion, {
    ...(options.intent?.readFiles ? { readFiles: options.intent.readFiles } : {}),
    readWholeTable: options.intent?.readWholeTable ?? false,
    appTxns: options.txn ? [options.txn] : [],
  });
  const description: CommitDescription = {
    ...options.description,
    operationMetrics: options.description.operationMetrics ?? {
      numAddedFiles: String(held.adds.length),
      numOutputRows: String(held.rows),
      numOutputBytes: String(held.bytes),
    },
  };
  let checked = false;
  const beforeAttempt = async (): Promise<string | undefined> => {
    const heldMs = held.heldMs();
    if (heldMs > budget) {
      return `its files were held ${formatDuration(heldMs)}, past the ${
        formatDuration(budget)
      } budget that vacuum's retention floor allows`;
    }
    if (check === "every-attempt" || (check === "first-attempt" && !checked)) {
      checked = true;
      const gone = await held.missing();
      if (gone !== undefined) return `its data file ${gone} is gone (deleted by a vacuum?)`;
    }
    return undefined;
  };
  let attempted = false;
  const rowIds = options.rowIds;
  let assign: ReturnType<RowIdMark["actionsFor"]> | undefined;
  let prepared: PreparedCommit;
  try {
    // Reading the commits the mark has not seen puts nothing: a failure here
    // is one before the first put.
    if (rowIds && rowIds.version < options.readVersion) {
      rowIds.fold(await readWinners(store, rowIds.version + 1));
    }
    assign = rowIds?.actionsFor(options.readVersion);
    prepared = await prepareCommit(store, actions, intent, description, {
      ...options.commit,
      ...(assign ? { actionsFor: assign.actionsFor } : {}),
      ...(Number.isFinite(budget) && options.commit?.maxRetryMs === undefined
        ? { maxRetryMs: budget }
        : {}),
      beforeAttempt: async () => {
        const reason = await beforeAttempt();
        attempted ||= reason === undefined;
        return reason;
      },
    });
  } catch (error) {
    throw await nothingCommitted(held, error);
  }
  return {
    async commit(started = performance.now()) {
      let outcome: AppendOutcome;
      try {
        outcome = await prepared.run();
      } catch (error) {
        // Before the first put nothing can have landed, so the files go, and
        // the error says so.
        if (attempted) throw error;
        throw await nothingCommitted(held, error);
      }
      if (outcome.kind === "committed") assign?.committed(outcome.version);
      const commitMs = performance.now() - started;
      return {
        outcome,
        files: held.adds.length,
        rows: held.rows,
        bytes: held.bytes,
        timings: { encodeMs: held.encodeMs, uploadMs: held.uploadMs, commitMs },
      };
    },
    discard: () => prepared.discard(),
  };
}

/**
 * Discards the held files of an append that failed before its first put
 * (bringing the row id mark up to date, or staging the commit, failed: a
 * full disk), and the error that says so.
 */
async function nothingCommitted(held: HeldFiles, error: unknown): Promise<Error> {
  await held.discard();
  return new Error(
    `Nothing was committed to ${held.target.store.uri}: the commit could not be written`,
    { cause: error },
  );
}

/** Options of `appendBatch`. */
export interface AppendBatchOptions extends Omit<CommitFilesOptions, "leading" | "intent"> {
  /** Parquet encoding. @default Snappy, one row group */
  encode?: EncodeOptions;
  /** The index in the data file names (`part-<index>-<uuid>`). @default 0 */
  fileIndex?: number;
  /** Called once the files are uploaded, right before the commit. */
  onUploaded?: (held: HeldFiles) => void;
  /**
   * Read the commits after `readVersion` while the files upload, so that
   * the first commit attempt goes to the head rather than losing a race to
   * the commits made since. Off by default: on MinIO sharing two cores with
   * three writers it cost more (four GETs per batch, and an upload long
   * enough for the reads to go stale) than the lost races it saved.
   * @default false
   */
  readAhead?: boolean;
}

/**
 * Appends one batch (all of the table's columns, in the table's order):
 * one file per partition, then one commit. Files that no commit references
 * (a failed upload, an outcome other than `committed`) are deleted.
 */
export async function appendBatch(
  target: AppendTarget,
  batch: ColumnBatch,
  options: AppendBatchOptions,
): Promise<AppendResult> {
  const held = new HeldFiles(target, options.encode?.codec ?? DEFAULT_CODEC);
  let ahead: Promise<Action[][] | undefined> | undefined;
  const slices = splitByPartition(batch, target.partitionColumns);
  // The commit is prepared (on local disk: its file written and flushed)
  // while the last data file uploads, so that the commit step is the link
  // and the log's flush. Not when its body depends on the version it lands
  // at (in-commit timestamps, row ids): commits made during the upload
  // would make it stage again in the commit step. With a read-ahead it
  // waits for the reads instead.
  const early = options.readAhead !== true && !options.commit?.inCommitTimestamps &&
    !options.rowIds && !options.commit?.actionsFor;
  let prepared: PreparedFiles | undefined;
  try {
    for (const [i, slice] of slices.entries()) {
      const t0 = performance.now();
      const file = await span(
        "encode",
        { "neuralake.rows": slice.batch.length },
        () =>
          encodeParquet(asStored(slice.batch, target.dataFields), {
            rowGroupRows: 1 << 22,
            ...options.encode,
          }),
      );
      held.encodeMs += performance.now() - t0;
      // A failed read only loses the head start: the commit reads again.
      if (options.readAhead === true) {
        ahead ??= readWinners(target.store, options.readVersion + 1).catch(() => undefined);
      }
      await span("upload", { "neuralake.bytes": file.bytes.byteLength }, async () => {
        const { stored } = held.begin(slice, file, options.fileIndex ?? 0);
        if (!early || i < slices.length - 1) return await stored;
        const [upload, preparing] = await Promise.allSettled([stored, prepareFiles(held, options)]);
        if (preparing.status === "fulfilled") prepared = preparing.value;
        if (upload.status === "rejected") throw upload.reason;
        if (preparing.status === "rejected") throw preparing.reason;
      });
    }
    options.onUploaded?.(held);
  } catch (error) {
    await prepared?.discard();
    await held.discard();
    throw error;
  }
  const readAhead = ahead && await ahead;
  const result = await span("commit", { "neuralake.files": held.adds.length }, async (s) => {
    const result = prepared ? await prepared.commit() : await commitFiles(
      held,
      readAhead?.length ? { ...options, commit: { ...options.commit, readAhead } } : options,
    );
    s.setAttribute("neuralake.outcome", result.outcome.kind);
    if (result.outcome.kind === "committed") {
      s.setAttribute("delta.version", result.outcome.version);
    }
    return result;
  });
  if (result.outcome.kind !== "committed") await held.discard();
  return result;
}

/**
 * The batch with each column declared as the table stores it: a column the
 * table has as nullable is written nullable (OPTIONAL) even when the batch's
 * own field says it has no null, as a stream's generated rows do on a table
 * that `write` made with nullable columns. Data files then have the schema
 * the compactor writes (the table's), so their large row groups are copied
 * byte for byte rather than all decoded and re-encoded. Only nullability is
 * taken, and only towards nullable: a column the table has as not nullable
 * keeps the batch's field.
 */
export function asStored(batch: ColumnBatch, dataFields: readonly Field[]): ColumnBatch {
  let fields: Field[] | undefined;
  for (const [i, field] of batch.fields.entries()) {
    if (field.nullable) continue;
    const stored = dataFields.find((f) => f.name === field.name);
    if (!stored?.nullable) continue;
    fields ??= [...batch.fields];
    fields[i] = { ...field, nullable: true };
  }
  return fields ? { ...batch, fields } : batch;
}

/**
 * The row id high water mark a writer keeps across its appends
 * (`CommitFilesOptions.rowIds`), or undefined if the table tracks no rows.
 */
export function rowIdMarkOf(
  snapshot: Pick<SnapshotState, "protocol" | "metadata" | "version" | "domains">,
): RowIdMark | undefined {
  return rowTrackingActive(snapshot.protocol, snapshot.metadata)
    ? RowIdMark.of(snapshot)
    : undefined;
}

/**
 * The commit options every append to this table needs: in-commit timestamps
 * (`commitInfo` first, `inCommitTimestamp` above the previous commit's)
 * while the table enables them.
 */
export function appendCommitOptions(
  snapshot: Pick<SnapshotState, "metadata">,
): Pick<CommitOptions, "inCommitTimestamps"> {
  return inCommitTimestampsEnabled(snapshot.metadata) ? { inCommitTimestamps: true } : {};
}
