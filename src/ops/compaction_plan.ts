/**
 * Compaction planning (Delta OPTIMIZE, bin-packing): which small files of
 * which partition to merge into which new file. Pure, so that the rules can
 * be tested without storage.
 *
 * Packed (the default, a one-off OPTIMIZE): files at or above the target
 * size are left alone; a partition is compacted only when it has at least
 * `minFiles` small files; files are packed oldest first into bins of at most
 * the target size; a bin needs two files or more; a trailing partial bin is
 * kept only if it has `minFiles` files.
 *
 * Tiered planning (`tiered`, what a compactor running beside writers asks
 * for) bounds how often a byte is rewritten, whatever the write rate.
 * Packing every file below the target merges the last output again on every
 * pass to take in the few files written since, copying the same bytes up to
 * target / (bytes per pass) times. Tiered, a file of at least half the target
 * is final, and a bin of the smaller files is merged only when its output is
 * either
 *
 * - at least `mergeFactor` times its largest file, from `minFiles` files or
 *   more (a growing merge: small files into a mid-sized one), or
 * - at least `fill` of the target and half again its largest file (a
 *   finishing merge: mid files, with small ones, into a final file; a large
 *   file is never re-read to add a little).
 *
 * Each growing merge multiplies the size of the file a byte is in by
 * `mergeFactor` or more, and a finishing merge's output is final, so a byte
 * first written into a file of `s` bytes is rewritten at most
 * `ceil(log_mergeFactor(target / 2 / s)) + 1` times (`rewriteBound`), and the
 * table converges to files of half the target to the target (finishing
 * merges reach `fill` of it). Bins are packed largest file first (first fit
 * decreasing, up to the target), and a bin that passes neither rule sets its
 * largest file aside until it passes or holds fewer than two files; the
 * files set aside wait for a later pass.
 *
 * Files with a deletion vector that deletes more than `maxDeletedRowsRatio`
 * of their rows are rewritten whatever their size, as Spark's OPTIMIZE does
 * (its `optimize.maxDeletedRowsRatio`), so that deleted rows are purged: a
 * small one joins the bins of its partition, and a bin that holds one is kept
 * even alone; a large one (tiered: of half the target or more) gets a bin of
 * its own. Any merged file's deleted rows are dropped, whatever the ratio.
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
  /**
   * Plan with bounded rewrites (see the module header) instead of packing
   * every file below the target: what a compactor that runs beside writers
   * should use. Unset, every file below the target is packed, as a one-off
   * OPTIMIZE does.
   */
  tiered?: TieredOptions;
}

/** Limits of tiered planning (`CompactionPlanOptions.tiered`). */
export interface TieredOptions {
  /**
   * How many times its largest file a growing merge's output must be.
   * @default minFiles (a growing merge takes as many files' worth as a
   * partition needs to be compacted at all)
   */
  mergeFactor?: number;
  /**
   * The share of the target a finishing merge's output must reach, from
   * 0.5 (anything less would not be final) to 1. @default 0.75
   */
  fill?: number;
}

/** The default `TieredOptions.fill`. */
export const DEFAULT_FILL = 0.75;

/**
 * The most times tiered planning rewrites a byte first written into a file
 * of `fileSize` bytes: growing merges, each at least `mergeFactor`-fold, up
 * to the final size, then one finishing merge.
 */
export function rewriteBound(
  fileSize: number,
  targetFileSize: number,
  mergeFactor: number,
): number {
  const final = targetFileSize / 2;
  if (fileSize >= final) return 0;
  // The epsilon keeps an exact power (log 64 / log 8) from rounding up.
  return Math.ceil(Math.log(final / fileSize) / Math.log(mergeFactor) - 1e-9) + 1;
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
  const ratio = options.maxDeletedRowsRatio ?? 0.05;
  const tiered = options.tiered;
  // Files from this size on are never packed with others.
  const final = tiered ? options.targetFileSize / 2 : options.targetFileSize;
  const byPartition = new Map<string, Add[]>();
  const bins: CompactionBin[] = [];
  const purged = new Set<Add>();
  for (const add of files) {
    const purge = needsPurge(add, ratio);
    if (add.size >= final) {
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
    if (tiered) bins.push(...tieredBins(small, purged, options, tiered, minFiles));
    else bins.push(...packedBins(small, purged, options, minFiles));
  }
  return bins;
}

/** Every small file of a partition, packed oldest first (a one-off OPTIMIZE). */
function packedBins(
  small: Add[],
  purged: Set<Add>,
  options: CompactionPlanOptions,
  minFiles: number,
): CompactionBin[] {
  const maxFiles = options.maxFilesPerBin ?? 1000;
  const bins: CompactionBin[] = [];
  if (small.length < minFiles && !small.some((f) => purged.has(f))) return bins;
  small.sort(byAge);
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
  return bins;
}

/**
 * The bins of a partition's files below the final size that pass the tiered
 * rules (module header): first fit decreasing up to the target, then each
 * bin sets aside its largest file until it passes or holds under two files.
 */
function tieredBins(
  small: Add[],
  purged: Set<Add>,
  options: CompactionPlanOptions,
  tiered: TieredOptions,
  minFiles: number,
): CompactionBin[] {
  const target = options.targetFileSize;
  const maxFiles = options.maxFilesPerBin ?? 1000;
  const factor = Math.max(2, tiered.mergeFactor ?? minFiles);
  const fill = target * Math.min(1, Math.max(0.5, tiered.fill ?? DEFAULT_FILL));
  small.sort((a, b) => b.size - a.size || byAge(a, b));
  const smallest = small[small.length - 1]?.size ?? 0;
  const packed: CompactionBin[] = [];
  // Bins that may still take a file: one with less room than the smallest
  // file, or with the most files, leaves the search.
  let open: CompactionBin[] = [];
  for (const add of small) {
    let bin = open.find((b) => b.bytes + add.size <= target);
    if (!bin) {
      bin = { partitionValues: add.partitionValues, files: [], bytes: 0 };
      packed.push(bin);
      open.push(bin);
    }
    bin.files.push(add);
    bin.bytes += add.size;
    if (target - bin.bytes < smallest || bin.files.length >= maxFiles) {
      open = open.filter((b) => b !== bin);
    }
  }
  const passes = (bin: CompactionBin): boolean => {
    if (bin.files.some((f) => purged.has(f))) return true;
    const largest = bin.files[0]!.size;
    return (bin.bytes >= factor * largest && bin.files.length >= minFiles) ||
      (bin.bytes >= fill && bin.bytes >= 1.5 * largest);
  };
  const bins: CompactionBin[] = [];
  for (const bin of packed) {
    // Files are in decreasing size: the first is the largest.
    while (bin.files.length >= 2 && !passes(bin)) bin.bytes -= bin.files.shift()!.size;
    if (bin.files.length >= 2 || (bin.files.length === 1 && purged.has(bin.files[0]!))) {
      // Rows go out oldest first, as they came in.
      bin.files.sort(byAge);
      bins.push(bin);
    }
  }
  return bins;
}

function byAge(a: Add, b: Add): number {
  return a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : 1);
}

/** A stable key for a partition's values. */
export function partitionKey(values: Record<string, string | null>): string {
  return JSON.stringify(Object.keys(values).sort().map((k) => [k, values[k] ?? null]));
}
