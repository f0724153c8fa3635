/**
 * One OPTIMIZE pass over a table (what `neuralake optimize` runs): load the
 * latest snapshot, keep the files of the partitions a partition predicate
 * selects, plan bins with the compaction planner, and (unless a dry run)
 * merge and commit each bin with the compaction executor. The planner and
 * the executor are compaction's own (compaction_plan.ts, compaction.ts).
 *
 * Invariants: `where` reads partition columns only, and a file is in scope
 * only when its partition values prove the predicate true; a dry run writes
 * nothing; a bin lost to a concurrent commit leaves the table as it was. A
 * bin committed at a multiple of the table's `delta.checkpointInterval` is
 * followed by a checkpoint of that version, as after any other commit
 * (`maybeCheckpoint`; Spark checkpoints after OPTIMIZE's commits too).
 */

import type { PrimitiveType } from "../columnar/types.ts";
import { allocateValues, type Column, type ColumnBatch } from "../columnar/batch.ts";
import { setScalar } from "../columnar/scalar.ts";
import type { Add } from "../delta/actions.ts";
import { parsePartitionValue } from "../delta/partition.ts";
import { checkCanWrite } from "../delta/protocol.ts";
import { tableFields } from "../delta/schema.ts";
import { type BinOutcome, compactBin, type CompactionOptions } from "./compaction.ts";
import { type CompactionBin, planCompaction } from "./compaction_plan.ts";
import {
  bindPredicate,
  type BoundPredicate,
  filterRows,
  parsePredicate,
  predicateColumns,
  PredicateError,
} from "./predicate.ts";
import { snapshotOf, type Table } from "./table.ts";
import { checkpointIntervalOf, maybeCheckpoint } from "./checkpoint.ts";
import { activeFiles } from "../delta/replay.ts";

/**
 * The fewest small files in a partition that `neuralake optimize` merges by
 * default (its `--min-files`), and that the compactor's settling pass merges.
 */
export const OPTIMIZE_MIN_FILES = 2;

/** Options of one optimize pass. */
export interface OptimizeOptions extends CompactionOptions {
  /** A predicate over partition columns that limits the pass. */
  where?: string;
  /** Plan only. @default false */
  dryRun?: boolean;
  /** Told after each bin, with its index (from 1) and the bin count. */
  onBin?: (outcome: BinOutcome, index: number, bins: number) => void;
  /**
   * Stops the pass between bins (an interrupted command): the bins committed
   * so far stay, and no further bin starts.
   */
  signal?: AbortSignal;
}

/** Files and bytes of a set of files. */
export interface FileTally {
  files: number;
  bytes: number;
}

/** What one optimize pass did (or, in a dry run, would do). */
export interface OptimizeResult {
  dryRun: boolean;
  versionBefore: number;
  versionAfter: number;
  /** The version checkpointed after a bin's commit, if any. */
  checkpointed?: number;
  /** The whole table before and after the pass. */
  before: FileTally;
  after: FileTally;
  /** The files the predicate selected. */
  inScope: FileTally;
  bins: { partitionValues: Record<string, string | null>; files: number; bytes: number }[];
  committed: number;
  conflicts: number;
  gaveUp: number;
  filesRemoved: number;
  filesAdded: number;
  rows: number;
  outcomes: BinOutcome[];
  /** True if `signal` stopped the pass before its last bin. */
  interrupted: boolean;
  ms: number;
}

/** Runs one optimize pass over the latest version of `table`. */
export async function optimizeTable(
  table: Table,
  options: OptimizeOptions,
): Promise<OptimizeResult> {
  const started = performance.now();
  const snapshot = await snapshotOf(table);
  checkCanWrite(snapshot.protocol, snapshot.metadata, snapshot.schema, {
    kind: "rewrite",
    writesInCommitTimestamps: true,
    assignsRowIds: true,
  });
  const all = [...activeFiles(snapshot)];
  const inScope = options.where?.trim()
    ? filterByPartition(all, snapshot.metadata.partitionColumns, snapshot, options.where)
    : all;
  const bins: CompactionBin[] = planCompaction(inScope, options);
  const outcomes: BinOutcome[] = [];
  if (!options.dryRun) {
    for (const [i, bin] of bins.entries()) {
      if (options.signal?.aborted) break;
      const outcome = await compactBin(table, snapshot, bin, options);
      outcomes.push(outcome);
      options.onBin?.(outcome, i + 1, bins.length);
    }
  }
  const after = options.dryRun || outcomes.every((o) => o.kind !== "committed")
    ? snapshot
    : await snapshotOf(table);
  const committed = outcomes.filter((o) => o.kind === "committed");
  // The newest bin committed at a multiple of the interval: one checkpoint
  // of it serves for the earlier ones as well.
  const interval = checkpointIntervalOf(after.metadata.configuration);
  const due = committed.map((o) => o.version ?? 0).filter((v) => v > 0 && v % interval === 0);
  const checkpointAt = due.length > 0 ? Math.max(...due) : undefined;
  const checkpointed = checkpointAt !== undefined &&
    await maybeCheckpoint(table, checkpointAt, after.metadata.configuration);
  return {
    dryRun: options.dryRun ?? false,
    versionBefore: snapshot.version,
    versionAfter: after.version,
    ...(checkpointed ? { checkpointed: checkpointAt } : {}),
    before: tally(all),
    after: tally(after.files.values()),
    inScope: tally(inScope),
    bins: bins.map((b) => ({
      partitionValues: b.partitionValues,
      files: b.files.length,
      bytes: b.bytes,
    })),
    committed: committed.length,
    conflicts: outcomes.filter((o) => o.kind === "conflict").length,
    gaveUp: outcomes.filter((o) => o.kind === "gave-up").length,
    filesRemoved: committed.reduce((n, o) => n + o.filesIn, 0),
    filesAdded: committed.filter((o) => o.bytesOut > 0).length,
    rows: committed.reduce((n, o) => n + o.rows, 0),
    outcomes,
    interrupted: !options.dryRun && outcomes.length < bins.length,
    ms: performance.now() - started,
  };
}

function tally(files: Iterable<Add>): FileTally {
  let count = 0;
  let bytes = 0;
  for (const add of files) {
    count++;
    bytes += add.size;
  }
  return { files: count, bytes };
}

/**
 * The files whose partition values make `where` true. Throws a
 * `PredicateError` naming any column that is not a partition column.
 */
function filterByPartition(
  files: Add[],
  partitionColumns: readonly string[],
  snapshot: Awaited<ReturnType<typeof snapshotOf>>,
  where: string,
): Add[] {
  const parsed = parsePredicate(where);
  const fields = tableFields(snapshot.schema, snapshot.metadata.configuration).filter((f) =>
    typeof f.type === "string"
  );
  const partFields = fields.filter((f) => partitionColumns.includes(f.name));
  const predicate: BoundPredicate = bindPredicate(parsed, fields);
  for (const name of predicateColumns(predicate)) {
    if (!partitionColumns.includes(name)) {
      throw new PredicateError(
        `--where may name only partition columns, and "${name}" is not one (${
          partitionColumns.length
            ? `partition columns: ${partitionColumns.join(", ")}`
            : "the table is not partitioned"
        })`,
      );
    }
  }
  // One row per file, holding its partition values: the predicate's own row
  // evaluation then decides, with SQL's null semantics.
  const columns: Column[] = partFields.map((f) => {
    const values = allocateValues(f.type, files.length);
    const nulls = new Uint8Array(files.length);
    files.forEach((add, i) => {
      const type = f.type as PrimitiveType;
      // Keyed by physical name under column mapping.
      const value = parsePartitionValue(
        add.partitionValues[f.physicalName ?? f.name],
        type,
        f.name,
      );
      if (value === null) nulls[i] = 1;
      else setScalar(values, i, value);
    });
    return { values, nulls };
  });
  const batch: ColumnBatch = { fields: partFields, columns, length: files.length };
  return [...filterRows(predicate, batch)].map((i) => files[i]!);
}
