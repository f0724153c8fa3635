/**
 * Compaction (Delta OPTIMIZE by bin-packing): merge the small files of a bin
 * into one file and commit `remove` + `add` with `dataChange: false`. Row
 * groups that are large enough are copied byte for byte; only small ones are
 * decoded and re-encoded.
 *
 * A file with a deletion vector is merged without its deleted rows, and its
 * `remove` carries the vector, so the commit retires exactly that logical
 * file (as Spark's OPTIMIZE does); the new file has no vector.
 *
 * On a row-tracking table every row keeps its row id and row commit version
 * (PROTOCOL.md, "Row Tracking"), as Spark's OPTIMIZE keeps them: the merged
 * file carries both materialized columns, filled for every row from the
 * materialized value where its file had one, else from the file's
 * `baseRowId` plus the row's physical position (before deletion vectors) and
 * its `defaultRowCommitVersion`. A large row group of a file without either
 * column is copied byte for byte and only the two columns are encoded beside
 * it; one whose columns hold every value (a file compacted before) is
 * copied as it is; one with a column partly null, or losing rows to a
 * deletion vector, is decoded and re-encoded. The new file gets a fresh
 * `baseRowId` after the high water mark and `defaultRowCommitVersion` = the
 * commit's version, both recomputed for the version of every attempt
 * (delta/row_tracking.ts), and the commit raises the mark.
 *
 * Invariants: a compaction commit never changes the table's rows; it reads
 * the bin's files as its read set, so a concurrent compaction of any of them,
 * or a concurrent DELETE that gives one a new vector (a remove of its path),
 * makes this one lose (and drop its bin), while concurrent blind appends
 * never interfere. A lost bin leaves an unreferenced file for vacuum.
 */

import { formatDuration } from "../util/units.ts";
import type { Action, Add } from "../delta/actions.ts";
import { decodeFilePath, partitionDirectory } from "../delta/partition.ts";
import {
  checkCanWrite,
  inCommitTimestampsEnabled,
  rowTrackingActive,
  rowTrackingSuspendedWithIds,
} from "../delta/protocol.ts";
import {
  fillRowTracking,
  materializedColumns,
  ROW_TRACKING_DOMAIN,
  rowTrackingActions,
} from "../delta/row_tracking.ts";
import type { Field } from "../columnar/batch.ts";
import type { SnapshotState } from "../delta/replay.ts";
import { tableFields } from "../delta/schema.ts";
import { commit, type CommitOptions, newIntent } from "../delta/transaction.ts";
import { type Codec, DEFAULT_CODEC } from "../parquet/encode.ts";
import { mergeParquet, type RowTransform } from "../parquet/merge.ts";
import { mapLimit } from "../util/concurrency.ts";
import { yieldToEventLoop } from "../util/event_loop.ts";
import {
  type CompactionBin,
  type CompactionPlanOptions,
  planCompaction,
} from "./compaction_plan.ts";
import { APPEND_HOLD_BUDGET_MS } from "./append.ts";
import { addFor, dataFileKey } from "./data_files.ts";
import { deletedRowsOf, keptPositions } from "./deletion_vectors.ts";
import { objectSourceOf } from "./object_source.ts";
import type { Table } from "./table.ts";
import { activeFiles } from "../delta/replay.ts";

/** How compaction merges files. */
export interface CompactionOptions extends CompactionPlanOptions {
  /** Row groups with at least this many rows are copied, not re-encoded. @default 16_384 */
  minRowGroupRows?: number;
  /** The codec of re-encoded row groups. @default DEFAULT_CODEC */
  codec?: Codec;
  /** The most rows per re-encoded row group. @default 1_048_576 */
  rowGroupRows?: number;
  /** Retry limits of each bin's commit. */
  commit?: CommitOptions;
  /** Ends a pass between bins once aborted; the bins done stay done. */
  signal?: AbortSignal;
}

/** What happened to one bin. */
export interface BinOutcome {
  kind: "committed" | "conflict" | "gave-up";
  version?: number;
  reason?: string;
  filesIn: number;
  bytesIn: number;
  bytesOut: number;
  rows: number;
  copiedRowGroups: number;
  decodedRowGroups: number;
  ms: number;
}

/** Merges one bin of files from `state` and commits the swap. */
export async function compactBin(
  table: Table,
  state: SnapshotState,
  bin: CompactionBin,
  options: CompactionOptions,
): Promise<BinOutcome> {
  const started = performance.now();
  const partitionColumns = state.metadata.partitionColumns;
  const dataFields = tableFields(state.schema, state.metadata.configuration).filter((f) =>
    !partitionColumns.includes(f.name)
  );
  const sources = await mapLimit(
    bin.files,
    8,
    (add) => objectSourceOf(table.store, decodeFilePath(add.path), add.size),
  );
  const deleted = await mapLimit(bin.files, 8, (add) => deletedRowsOf(table, add));
  // Fresh ids for the merged file while the table tracks rows; the rows'
  // own ids kept in the materialized columns then, and while it is suspended.
  const tracked = rowTrackingActive(state.protocol, state.metadata);
  const keepsIds = tracked || rowTrackingSuspendedWithIds(state.protocol, state.metadata);
  const fileFields = keepsIds
    ? [...dataFields, ...rowTrackingFields(state.metadata.configuration, dataFields)]
    : dataFields;
  const merged = await mergeParquet(sources, {
    minRowGroupRows: options.minRowGroupRows ?? 16_384,
    fields: fileFields,
    ...(keepsIds
      ? {
        rowTransforms: bin.files.map((add) =>
          rowTrackingTransform(add, fileFields.slice(-2).map((f) => f.name))
        ),
      }
      : {}),
    codec: options.codec ?? DEFAULT_CODEC,
    ...(options.rowGroupRows ? { rowGroupRows: options.rowGroupRows } : {}),
    rowFilters: deleted.map((rows) =>
      rows.length === 0 ? undefined : (start: number, count: number) => {
        const kept = keptPositions(rows, start, count);
        return kept.length === count ? undefined : kept;
      }
    ),
  });
  const now = Date.now();
  const actions: Action[] = bin.files.map((f): Action => ({ remove: removeOf(f, now) }));
  // A bin whose every row was deleted leaves no file behind.
  let added = 0;
  // The merged file is held like an append's (ops/append.ts): committed
  // within the hold budget and while it exists, or dropped. The budget runs
  // from the end of the upload (a big file's upload may itself take longer
  // on a slow link; a budget from its start would abandon every pass).
  let key: string | undefined;
  let uploaded = performance.now();
  if (merged.numRows > 0) {
    const directory = partitionDirectory(partitionColumns, bin.partitionValues);
    key = dataFileKey(directory, 0, options.codec ?? DEFAULT_CODEC);
    await table.store.put(key, merged.bytes);
    uploaded = performance.now();
    actions.push({
      add: addFor(key, merged, bin.partitionValues, dataFields, { dataChange: false }),
    });
    added = 1;
  }
  const outcome = await commit(
    table.store,
    actions,
    newIntent(state.version, { readFiles: new Set(bin.files.map((f) => decodeFilePath(f.path))) }),
    {
      operation: "OPTIMIZE",
      operationParameters: { predicate: "[]", targetSize: String(options.targetFileSize) },
      ...(tracked ? { tags: { "delta.rowTracking.preserved": "true" } } : {}),
      operationMetrics: {
        numRemovedFiles: String(bin.files.length),
        numAddedFiles: String(added),
        numRemovedBytes: String(bin.bytes),
        numAddedBytes: String(added ? merged.bytes.byteLength : 0),
        numDeletionVectorsRemoved: String(bin.files.filter((f) => f.deletionVector).length),
      },
    },
    {
      ...options.commit,
      maxRetryMs: Math.min(options.commit?.maxRetryMs ?? Infinity, APPEND_HOLD_BUDGET_MS),
      ...(inCommitTimestampsEnabled(state.metadata) ? { inCommitTimestamps: true } : {}),
      ...(tracked
        ? { actionsFor: rowTrackingActions(state.domains.get(ROW_TRACKING_DOMAIN)) }
        : {}),
      beforeAttempt: async () => {
        if (performance.now() - uploaded > APPEND_HOLD_BUDGET_MS) {
          return `its merged file was held past the ${
            formatDuration(APPEND_HOLD_BUDGET_MS)
          } budget`;
        }
        if (key !== undefined && table.store.headIsCheap && !(await table.store.head(key))) {
          return `its merged file ${key} is gone (deleted by a vacuum?)`;
        }
        return undefined;
      },
    },
  );
  if (outcome.kind !== "committed" && key !== undefined) {
    await table.store.delete([key]).catch(() => undefined);
  }
  const base = {
    filesIn: bin.files.length,
    bytesIn: bin.bytes,
    bytesOut: added ? merged.bytes.byteLength : 0,
    rows: merged.numRows,
    copiedRowGroups: merged.copiedRowGroups,
    decodedRowGroups: merged.decodedRowGroups,
    ms: performance.now() - started,
  };
  switch (outcome.kind) {
    case "committed":
      return { kind: "committed", version: outcome.version, ...base };
    case "conflict":
      return { kind: "conflict", reason: outcome.reason, version: outcome.atVersion, ...base };
    case "already-committed":
      // Compactions carry no app markers, so this cannot happen; treat it as lost.
      return { kind: "conflict", reason: outcome.reason, ...base };
    case "gave-up":
    case "abandoned":
      return { kind: "gave-up", reason: outcome.reason, ...base };
  }
}

/**
 * The materialized row id and row commit version columns a compacted file
 * of a row-tracking table carries after its data columns (64-bit integers,
 * null where a row's value comes from its file's add).
 */
export function rowTrackingFields(
  configuration: Record<string, string>,
  dataFields: readonly Field[],
): Field[] {
  const names = materializedColumns(configuration);
  for (const name of [names.rowId, names.rowCommitVersion]) {
    const clash = dataFields.find((f) => (f.physicalName ?? f.name) === name);
    if (clash) {
      throw new Error(
        `Cannot keep row ids: the materialized row tracking column "${name}" is also the data column "${clash.name}"`,
      );
    }
  }
  return [
    { name: names.rowId, type: "long", nullable: true },
    { name: names.rowCommitVersion, type: "long", nullable: true },
  ];
}

/**
 * Fills the two materialized columns (the batch's last two, named
 * `columns`) of a decoded row group of `add` (`fillRowTracking`). A row
 * group whose footer says both columns have no null (a file compacted
 * before) is left alone, so it may be copied byte for byte.
 */
export function rowTrackingTransform(add: Add, columns: readonly string[]): RowTransform {
  const transform: RowTransform = (rowStart, batch) => {
    const n = batch.columns.length;
    fillRowTracking(
      batch.columns[n - 2] as { values: BigInt64Array; nulls?: Uint8Array },
      batch.columns[n - 1] as { values: BigInt64Array; nulls?: Uint8Array },
      batch.length,
      rowStart,
      add,
    );
  };
  transform.unchanged = (group) => columns.every((name) => group.stats[name]?.nullCount === 0);
  // A large row group of a file without the columns is copied, and only they are encoded.
  transform.generates = 2;
  return transform;
}

/**
 * The `remove` that retires a compacted file, keeping its metadata and its
 * deletion vector (the logical file is the path plus the vector).
 */
function removeOf(add: Add, now: number) {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange: false,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.stats ? { stats: add.stats } : {}),
    ...(add.tags ? { tags: add.tags } : {}),
    ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
    ...(add.baseRowId != null ? { baseRowId: add.baseRowId } : {}),
    ...(add.defaultRowCommitVersion != null
      ? { defaultRowCommitVersion: add.defaultRowCommitVersion }
      : {}),
  };
}

/** Plans and runs one compaction pass over a snapshot state. */
export async function compactOnce(
  table: Table,
  state: SnapshotState,
  options: CompactionOptions,
  onBin?: (outcome: BinOutcome) => void,
): Promise<BinOutcome[]> {
  checkCanWrite(state.protocol, state.metadata, state.schema, {
    kind: "rewrite",
    writesInCommitTimestamps: true,
    assignsRowIds: true,
  });
  const bins = planCompaction(activeFiles(state), options);
  const outcomes: BinOutcome[] = [];
  for (const bin of bins) {
    // A bin's reads and writes may all be synchronous on local disk: the
    // stop request behind `signal` and the commit feed are heard between bins.
    await yieldToEventLoop();
    if (options.signal?.aborted) break;
    const outcome = await compactBin(table, state, bin, options);
    outcomes.push(outcome);
    onBin?.(outcome);
  }
  return outcomes;
}
