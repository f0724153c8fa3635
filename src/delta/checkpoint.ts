/**
 * Checkpoints at the level of the log: which actions a checkpoint holds, the
 * `_last_checkpoint` hint, and the codec seam through which Parquet bytes are
 * read and written. The Delta layer never imports the Parquet layer; the
 * table operations supply a `CheckpointCodec`.
 *
 * Invariant: a checkpoint at version v holds exactly the reconciled state of
 * v: protocol, metadata, every txn, every live domain, every active file,
 * and the tombstones that have not yet expired.
 */

import type { ObjectStore } from "../storage/object_store.ts";
import type { Action } from "./actions.ts";
import { checkpointKey, LAST_CHECKPOINT_KEY, LOG_DIR, padVersion } from "./log_path.ts";
import { hintProblem, type LastCheckpoint, listLog, readLastCheckpoint } from "./log_segment.ts";
import type { StructType } from "./schema.ts";
import type { SnapshotState } from "./replay.ts";

/** Reads and writes the Parquet form of checkpoints. */
export interface CheckpointCodec {
  /** Reads the actions stored in one checkpoint part. */
  read(store: ObjectStore, key: string): Promise<Action[]>;
  /** Encodes checkpoint actions as one Parquet file. */
  write(actions: readonly Action[], schema: StructType): Uint8Array;
}

/** The default retention of tombstones: one week. */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 86_400_000;

/** The actions of a checkpoint of `state`, dropping tombstones older than the cutoff. */
export function checkpointActions(state: SnapshotState, tombstoneCutoffMs: number): Action[] {
  const actions: Action[] = [{ protocol: state.protocol }, { metaData: state.metadata }];
  for (const txn of state.txns.values()) actions.push({ txn });
  for (const domain of state.domains.values()) {
    if (!domain.removed) actions.push({ domainMetadata: domain });
  }
  for (const add of state.files.values()) actions.push({ add });
  for (const remove of state.tombstones.values()) {
    if ((remove.deletionTimestamp ?? 0) > tombstoneCutoffMs) {
      // Checkpoint tombstones carry no stats or tags (PROTOCOL.md, "Checkpoint Schema").
      const { stats: _stats, tags: _tags, ...rest } = remove;
      actions.push({ remove: rest });
    }
  }
  return actions;
}

/**
 * Writes a classic single-part checkpoint of `state` and points
 * `_last_checkpoint` at it. Returns the hint that was written.
 */
export async function writeCheckpoint(
  store: ObjectStore,
  codec: CheckpointCodec,
  state: SnapshotState,
  options: { now?: number; tombstoneRetentionMs?: number } = {},
): Promise<LastCheckpoint> {
  const now = options.now ?? Date.now();
  const retention = options.tombstoneRetentionMs ??
    tombstoneRetentionOf(state.metadata.configuration) ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  const actions = checkpointActions(state, now - retention);
  const bytes = codec.write(actions, state.schema);
  // A checkpoint is a pure function of the version, so overwriting one that
  // another process wrote at the same version is harmless.
  await store.put(checkpointKey(state.version), bytes);
  const hint: LastCheckpoint = {
    version: state.version,
    size: actions.length,
    sizeInBytes: bytes.length,
    numOfAddFiles: state.files.size,
  };
  await updateHint(store, hint);
  return hint;
}

/**
 * Points `_last_checkpoint` at a checkpoint just written, unless it already
 * points at a newer checkpoint that exists. A hint that points at nothing
 * (a version beyond the log, a deleted checkpoint) is replaced even if that
 * moves it backwards: engines that trust the hint cannot open the table
 * until it is.
 */
async function updateHint(store: ObjectStore, hint: LastCheckpoint): Promise<void> {
  const previous = await readLastCheckpoint(store);
  if (previous !== undefined && previous.version > hint.version) {
    const files = await listLog(store, `${LOG_DIR}/${padVersion(previous.version)}`);
    if (hintProblem(previous, files) === undefined) return;
  }
  await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(JSON.stringify(hint)));
}

/** Parses `delta.deletedFileRetentionDuration` (`interval 7 days`) into ms. */
export function tombstoneRetentionOf(config: Record<string, string>): number | undefined {
  return parseInterval(config["delta.deletedFileRetentionDuration"]);
}

/** Parses `delta.logRetentionDuration` (`interval 30 days`) into ms. */
export function logRetentionOf(config: Record<string, string>): number | undefined {
  return parseInterval(config["delta.logRetentionDuration"]);
}

const INTERVAL_UNITS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Parses a Delta interval such as `interval 7 days`, or undefined. */
export function parseInterval(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^\s*(?:interval\s+)?(\d+)\s+([a-z]+?)s?\s*$/i.exec(text);
  const unit = m ? INTERVAL_UNITS[m[2]!.toLowerCase()] : undefined;
  return m && unit ? Number(m[1]) * unit : undefined;
}
