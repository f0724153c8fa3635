/**
 * Compaction planning (Delta OPTIMIZE, bin-packing): which small files of
 * which partition to merge into which new file. Pure, so that the rules can
 * be tested without storage.
 *
 * Rules: files at or above the target size are left alone; a partition is
 * compacted only when it has at least `minFiles` small files; files are packed
 * oldest first into bins of at most the target size; a bin needs two files or
 * more; a trailing partial bin is kept only if it has `minFiles` files.
 */

import type { Add } from "../delta/actions.ts";

/** Limits of a compaction plan. */
export interface CompactionPlanOptions {
  /** The size a merged file aims for, in bytes. */
  targetFileSize: number;
  /** The fewest small files in a partition that make it worth compacting. @default 4 */
  minFiles?: number;
  /** The most files in one bin. @default 1000 */
  maxFilesPerBin?: number;
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
  const byPartition = new Map<string, Add[]>();
  for (const add of files) {
    if (add.size >= options.targetFileSize) continue;
    // Files with deletion vectors cannot be merged by copying rows.
    if (add.deletionVector) continue;
    const key = partitionKey(add.partitionValues);
    const list = byPartition.get(key);
    if (list) list.push(add);
    else byPartition.set(key, [add]);
  }
  const bins: CompactionBin[] = [];
  for (const small of byPartition.values()) {
    if (small.length < minFiles) continue;
    small.sort((a, b) => a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1));
    let current: CompactionBin | undefined;
    const close = (final: boolean) => {
      if (current && current.files.length >= (final ? minFiles : 2)) bins.push(current);
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
