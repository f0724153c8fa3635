/**
 * Checkpoints as a table operation: on demand, and automatically when a
 * committed version is a multiple of `delta.checkpointInterval` (10 where
 * the table declares none, Delta's default).
 */

import { writeCheckpoint } from "../delta/checkpoint.ts";
import type { LastCheckpoint } from "../delta/log_segment.ts";
import type { SnapshotState } from "../delta/replay.ts";
import { log } from "../util/log.ts";
import { snapshotOf, type Table } from "./table.ts";

/**
 * The `delta.checkpointInterval` of a table that declares none: 10, Delta's
 * default (`DeltaConfigs.CHECKPOINT_INTERVAL` in Spark's Delta Lake, which
 * checkpoints after every commit whose version is a multiple of it).
 * PROTOCOL.md leaves the interval to writers; the table's property decides
 * where it is set, and the reference implementation's default where not.
 */
export const DEFAULT_CHECKPOINT_INTERVAL = 10;

/** The checkpoint interval of a table's configuration. */
export function checkpointIntervalOf(config: Record<string, string>): number {
  const n = Number(config["delta.checkpointInterval"]);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_CHECKPOINT_INTERVAL;
}

/** Options of `checkpointTable`. */
export interface CheckpointOptions {
  /**
   * Tombstones removed longer ago than this are left out.
   * @default the table's delta.deletedFileRetentionDuration, else 7 days
   */
  tombstoneRetentionMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** Writes a checkpoint of the latest version (or of `state` if given). */
export async function checkpointTable(
  table: Table,
  state?: SnapshotState,
  options: CheckpointOptions = {},
): Promise<LastCheckpoint> {
  const snapshot = state ?? await snapshotOf(table);
  return await writeCheckpoint(table.store, table.codec, snapshot, {
    now: (options.now ?? Date.now)(),
    ...(options.tombstoneRetentionMs !== undefined
      ? { tombstoneRetentionMs: options.tombstoneRetentionMs }
      : {}),
  });
}

/**
 * Writes a checkpoint at `version` if it is a multiple of the table's
 * checkpoint interval. A failure is logged, not thrown: the commit it follows
 * has already succeeded, and a missing checkpoint only costs read time.
 */
export async function maybeCheckpoint(
  table: Table,
  version: number,
  config: Record<string, string>,
): Promise<boolean> {
  if (version === 0 || version % checkpointIntervalOf(config) !== 0) return false;
  try {
    const snapshot = await snapshotOf(table, { version });
    await writeCheckpoint(table.store, table.codec, snapshot);
    return true;
  } catch (error) {
    log("checkpoint").warn("Checkpoint at version {version} failed: {error}", {
      version,
      error: String(error),
    });
    return false;
  }
}
