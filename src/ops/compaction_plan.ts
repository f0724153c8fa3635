/**
 * Compaction planning (Delta OPTIMIZE, bin-packing): which small files of
 * which partition to merge into which new file. Pure, so that the rules can
 * be tested without storage.
 *
 * Rules: files at or above the target size are left alone; a partition is
 * compacted only when it has at least `minFiles` small files; files are packed
 * oldest first into bins of at most the target size; a bin needs two files or
 * more; a trailing partial bin is kept only if it has `minFiles` files.
 *
 * Files with a deletion vector that deletes more than `maxDeletedRowsRatio`
 * of their rows are rewritten whatever their size, as Spark's OPTIMIZE does
 * (its `optimize.maxDeletedRowsRatio`), so that deleted rows are purged: a
 * small one joins the bins of its partition, and a bin that holds one is kept
 * even alone; a large one gets a bin of its own. Any merged file's deleted
 * rows are dropped, whatever the ratio.
 */

import type { Add } from "../delta/actions.ts";
import { numRecordsOf } from "./describe.ts";

/** Limits of a compaction plan. */
export interface CompactionPlanOptions {
  /** The size a merged file aims for, in bytes. */
  targetFileSize: number;
  /** The fewest small files in a partition that make it worth compacting. @default 4 */
  minFiles?: number;
  /** The most files in one bin. @default 1000 */
  maxFilesPerBin?: number;
  /**
   * A file whose deletion vector deletes more than this share of its rows
   * is rewritten whatever its size. @default 0.05 (Spark's default)
   */
  maxDeletedRowsRatio?: number;
}

/** True when a file's deletion vector deletes enough rows to rewrite it. */
export function needsPurge(add: Add, maxDeletedRowsRatio = 0.05): boolean {
  const dv = add.deletionVector;
  if (!dv || dv.cardinality === 0) return false;
  const rows = numRecordsOf(add.stats);
  return rows === undefined || rows === 0 || dv.cardinality / rows > maxDeletedRowsRatio;
}

/** Files to merge into one, all in one partition. */
export interface CompactionBin {
  partitionValues: Record<string, string | null>;
  files: Add[];
  bytes: number;
}

/** Plans bins over the active files of a snapshot. */
export function planCompaction(
  files: Iterable<Add>,
  options: CompactionPlanOptions,
): CompactionBin[] {
  const minFiles = Math.max(2, options.minFiles ?? 4);
  const maxFiles = options.maxFilesPerBin ?? 1000;
  const ratio = options.maxDeletedRowsRatio ?? 0.05;
  const byPartition = new Map<string, Add[]>();
  const bins: CompactionBin[] = [];
  const purged = new Set<Add>();
  for (const add of files) {
    const purge = needsPurge(add, ratio);
    if (add.size >= options.targetFileSize) {
      if (purge) bins.push({ partitionValues: add.partitionValues, files: [add], bytes: add.size });
      continue;
    }
    if (purge) purged.add(add);
    const key = partitionKey(add.partitionValues);
    const list = byPartition.get(key);
    if (list) list.push(add);
    else byPartition.set(key, [add]);
  }
  for (const small of byPartition.values()) {
    if (small.length < minFiles && !small.some((f) => purged.has(f))) continue;
    small.sort((a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1));
    let current: CompactionBin | undefined;
    const close = (final: boolean) => {
      if (
        current &&
        (current.files.length >= (final ? minFiles : 2) ||
          current.files.some((f) => purged.has(f)))
      ) {
        bins.push(current);
      }
      current = undefined;
    };
    for (const add of small) {
      if (
        current &&
        (current.bytes + add.size > options.targetFileSize || current.files.length >= maxFiles)
      ) {
        close(false);
      }
      current ??= { partitionValues: add.partitionValues, files: [], bytes: 0 };
      current.files.push(add);
      current.bytes += add.size;
    }
    close(true);
  }
  return bins;
}

/** A stable key for a partition's values. */
export function partitionKey(values: Record<string, string | null>): string {
  return JSON.stringify(Object.keys(values).sort().map((k) => [k, values[k] ?? null]));
}
