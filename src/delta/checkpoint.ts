/**
 * Checkpoints at the level of the log: which actions a checkpoint holds, the
 * `_last_checkpoint` hint, and the codec seam through which Parquet bytes are
 * read and written. The Delta layer never imports the Parquet layer; the
 * table operations supply a `CheckpointCodec`.
 *
 * Invariants: a checkpoint at version v holds exactly the reconciled state of
 * v: protocol, metadata, every txn, every live domain, every active file,
 * and the tombstones that have not yet expired. Its form follows the table's
 * protocol: a classic V1 checkpoint, or, when the table supports the
 * `v2Checkpoint` feature, a UUID-named V2 checkpoint (PROTOCOL.md, "V2 Spec")
 * whose file actions live in a sidecar written before it. Never a multi-part
 * checkpoint, which v2 tables forbid and other tables need not.
 */

import type { ObjectStore } from "../storage/object_store.ts";
import type { Action, Metadata, Protocol, Sidecar } from "./actions.ts";
import { serializeActions } from "./actions.ts";
import {
  checkpointKey,
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  padVersion,
  sidecarKey,
  uuidCheckpointKey,
} from "./log_path.ts";
import { checkCanWrite } from "./protocol.ts";
import { hintProblem, type LastCheckpoint, listLog, readLastCheckpoint } from "./log_segment.ts";
import type { StructType } from "./schema.ts";
import type { CheckpointAdds, SnapshotState } from "./replay.ts";
import { activeFiles, fileCount } from "./replay.ts";

/** One checkpoint file read with its adds kept as columns (`CheckpointCodec.readColumnar`). */
export interface ColumnarCheckpointPart {
  /** Every action but the adds, in the file's order. */
  actions: Action[];
  adds: CheckpointAdds;
  /** Every action in the file's order, as `read` gives them. */
  all(): Action[];
}

/**
 * What the reader of one checkpoint file may know of the table beyond that
 * file: the metadata, which another file of the checkpoint holds when this
 * one is a later part of a multi-part checkpoint or a sidecar. The caller
 * fills it in once it has read the file that holds it; a codec reads it when
 * it builds an add, not when it opens the file.
 */
export interface CheckpointReadContext {
  metadata?: Metadata;
}

/** Reads and writes the Parquet form of checkpoints. */
export interface CheckpointCodec {
  /** Reads the actions stored in one checkpoint part. */
  read(store: ObjectStore, key: string, context?: CheckpointReadContext): Promise<Action[]>;
  /**
   * Reads one checkpoint part with its adds as columns, each `Add` built
   * only when asked for; the same actions as `read`. A codec without it is
   * read with `read`.
   */
  readColumnar?(
    store: ObjectStore,
    key: string,
    context?: CheckpointReadContext,
  ): Promise<ColumnarCheckpointPart>;
  /**
   * Encodes checkpoint actions as one Parquet file; with `fileActionsOnly`,
   * as a sidecar whose only columns are `add` and `remove`.
   */
  write(
    actions: readonly Action[],
    schema: StructType,
    options?: { fileActionsOnly?: boolean },
  ): Uint8Array;
}

/** True if the table supports V2 checkpoints (the `v2Checkpoint` table feature). */
export function usesV2Checkpoints(protocol: Protocol): boolean {
  return protocol.minWriterVersion >= 7 &&
    (protocol.writerFeatures ?? []).includes("v2Checkpoint");
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
  for (const add of activeFiles(state)) actions.push({ add });
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
 * Writes a checkpoint of `state` in the form its protocol asks for (classic,
 * or UUID-named V2 with a sidecar) and points `_last_checkpoint` at it.
 * Returns the hint that was written.
 */
export async function writeCheckpoint(
  store: ObjectStore,
  codec: CheckpointCodec,
  state: SnapshotState,
  options: { now?: number; tombstoneRetentionMs?: number } = {},
): Promise<LastCheckpoint> {
  // A checkpoint is a write: a writer feature neuralake does not know may
  // change what one must hold, so such a table is refused by name.
  checkCanWrite(state.protocol, state.metadata, state.schema, { kind: "checkpoint" });
  const now = options.now ?? Date.now();
  const retention = options.tombstoneRetentionMs ??
    tombstoneRetentionOf(state.metadata.configuration) ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  const actions = checkpointActions(state, now - retention);
  if (usesV2Checkpoints(state.protocol)) {
    return await writeV2Checkpoint(store, codec, state, actions, now);
  }
  const bytes = codec.write(actions, state.schema);
  // A checkpoint is a pure function of the version, so overwriting one that
  // another process wrote at the same version is harmless.
  await store.put(checkpointKey(state.version), bytes);
  const hint: LastCheckpoint = {
    version: state.version,
    size: actions.length,
    sizeInBytes: bytes.length,
    numOfAddFiles: fileCount(state),
  };
  await updateHint(store, hint);
  return hint;
}

/**
 * A UUID-named V2 checkpoint: the file actions go to one sidecar under
 * `_delta_log/_sidecars/` (written first, so that no checkpoint names a
 * sidecar that is not there), and the JSON top-level file holds
 * `checkpointMetadata`, the other actions and the `sidecar` action.
 */
async function writeV2Checkpoint(
  store: ObjectStore,
  codec: CheckpointCodec,
  state: SnapshotState,
  actions: Action[],
  now: number,
): Promise<LastCheckpoint> {
  const fileActions = actions.filter((a) => "add" in a || "remove" in a);
  const top: Action[] = [
    { checkpointMetadata: { version: state.version, tags: {} } },
    ...actions.filter((a) => !("add" in a || "remove" in a)),
  ];
  let sidecarBytes = 0;
  if (fileActions.length > 0) {
    const bytes = codec.write(fileActions, state.schema, { fileActionsOnly: true });
    const name = `${crypto.randomUUID()}.parquet`;
    await store.put(sidecarKey(name), bytes);
    const meta = await store.head(sidecarKey(name));
    const sidecar: Sidecar = {
      path: name,
      sizeInBytes: bytes.length,
      modificationTime: meta?.lastModified ?? now,
    };
    top.push({ sidecar });
    sidecarBytes = bytes.length;
  }
  const body = new TextEncoder().encode(serializeActions(top));
  const key = uuidCheckpointKey(state.version, crypto.randomUUID(), "json");
  await store.put(key, body);
  const written = await store.head(key);
  const hint: LastCheckpoint = {
    version: state.version,
    size: top.length + fileActions.length,
    sizeInBytes: body.length + sidecarBytes,
    numOfAddFiles: fileCount(state),
    v2Checkpoint: {
      path: key.slice(LOG_DIR.length + 1),
      sizeInBytes: body.length,
      modificationTime: written?.lastModified ?? now,
    },
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

/** The default `delta.logRetentionDuration`: 30 days, as in Delta. */
export const DEFAULT_LOG_RETENTION_MS = 30 * 86_400_000;

/**
 * Parses `delta.logRetentionDuration` (`interval 30 days`) into ms; a table
 * that does not set it keeps its log for `DEFAULT_LOG_RETENTION_MS`.
 */
export function logRetentionOf(config: Record<string, string>): number {
  return parseInterval(config["delta.logRetentionDuration"]) ?? DEFAULT_LOG_RETENTION_MS;
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
