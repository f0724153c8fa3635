/**
 * Action reconciliation: the table state that a sequence of commits (and an
 * optional checkpoint) defines. Replay runs newest first and keeps the first
 * action it meets for each file path, app id and domain, as PROTOCOL.md's
 * "Action Reconciliation" describes; `applyCommit` then moves a state forward
 * one commit at a time for long-running readers.
 *
 * Invariants: a path is either active (in `files`) or a tombstone, never
 * both; the newest protocol and metadata win; file keys are decoded paths.
 */

import type { Action, Add, DomainMetadata, Metadata, Protocol, Remove, Txn } from "./actions.ts";
import { decodeFilePath, isAbsoluteFilePath } from "./partition.ts";
import { parseSchemaString, type StructType } from "./schema.ts";

/** The reconciled state of a table at one version. */
export interface SnapshotState {
  version: number;
  protocol: Protocol;
  metadata: Metadata;
  schema: StructType;
  /** Active files by decoded path. */
  files: Map<string, Add>;
  /** Removed files by decoded path (for vacuum and checkpoints). */
  tombstones: Map<string, Remove>;
  /** The last committed version per application id. */
  txns: Map<string, Txn>;
  /** Domain metadata by domain name, including removed markers. */
  domains: Map<string, DomainMetadata>;
}

/** The key that identifies a file: its decoded path plus its deletion vector, if any. */
export function fileKey(path: string, dvId?: string): string {
  // An absolute path is its own key: replay only matches it with itself, and
  // only readers follow it (writers refuse it by decodeFilePath's error).
  const decoded = isAbsoluteFilePath(path) ? path : decodeFilePath(path);
  return dvId ? `${decoded}\u0000${dvId}` : decoded;
}

function dvIdOf(action: Add | Remove): string | undefined {
  const dv = action.deletionVector;
  return dv ? `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ""}` : undefined;
}

/**
 * Replays commits (given newest first, each as its actions) and then the
 * checkpoint's actions into a state at `version`.
 */
export function replay(
  version: number,
  commitsNewestFirst: readonly (readonly Action[])[],
  checkpoint: readonly Action[],
  where: string,
): SnapshotState {
  let protocol: Protocol | undefined;
  let metadata: Metadata | undefined;
  const files = new Map<string, Add>();
  const tombstones = new Map<string, Remove>();
  const seen = new Set<string>();
  const txns = new Map<string, Txn>();
  const domains = new Map<string, DomainMetadata>();

  const visit = (action: Action) => {
    if ("add" in action) {
      const key = fileKey(action.add.path, dvIdOf(action.add));
      if (!seen.has(key)) {
        seen.add(key);
        files.set(key, action.add);
      }
    } else if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      if (!seen.has(key)) {
        seen.add(key);
        tombstones.set(key, action.remove);
      }
    } else if ("txn" in action) {
      if (!txns.has(action.txn.appId)) txns.set(action.txn.appId, action.txn);
    } else if ("domainMetadata" in action) {
      const d = action.domainMetadata;
      if (!domains.has(d.domain)) domains.set(d.domain, d);
    } else if ("metaData" in action) {
      metadata ??= action.metaData;
    } else if ("protocol" in action) {
      protocol ??= action.protocol;
    }
  };
  for (const commit of commitsNewestFirst) {
    // Within one commit an add and a remove of the same path cannot both be
    // live; a remove of an older file and an add with a new DV can, and they
    // have different keys.
    for (const action of commit) visit(action);
  }
  if (!replayCheckpoint(checkpoint, seen, files, tombstones, visit)) {
    // The checkpoint repeats a file: replay it action by action, the first one winning.
    for (const [key] of files) if (!seen.has(key)) files.delete(key);
    for (const [key] of tombstones) if (!seen.has(key)) tombstones.delete(key);
    for (const action of checkpoint) visit(action);
  }

  if (!protocol) throw new Error(`Cannot load ${where}: no protocol action in the log`);
  if (!metadata) throw new Error(`Cannot load ${where}: no metaData action in the log`);
  return {
    version,
    protocol,
    metadata,
    schema: parseSchemaString(metadata.schemaString),
    files,
    tombstones,
    txns,
    domains,
  };
}

/**
 * Replays a checkpoint's actions after the commits (whose file keys are in
 * `seen`). A checkpoint is reconciled, so each file key appears in it once:
 * its file actions go straight into `files` and `tombstones`, checked only
 * against the commits' keys, without adding 100,000 keys to `seen`. Returns
 * false, having left `seen` alone, if the checkpoint repeated a key or both
 * added and removed one after all; the caller then undoes the checkpoint's
 * files and replays it action by action.
 */
function replayCheckpoint(
  checkpoint: readonly Action[],
  seen: Set<string>,
  files: Map<string, Add>,
  tombstones: Map<string, Remove>,
  visit: (action: Action) => void,
): boolean {
  const fromCommits = seen.size;
  let inserted = 0;
  const removed: string[] = [];
  for (const action of checkpoint) {
    if ("add" in action) {
      const key = fileKey(action.add.path, dvIdOf(action.add));
      if (fromCommits === 0 || !seen.has(key)) {
        files.set(key, action.add);
        inserted++;
      }
    } else if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      if (fromCommits === 0 || !seen.has(key)) {
        tombstones.set(key, action.remove);
        removed.push(key);
        inserted++;
      }
    } else visit(action);
  }
  if (files.size + tombstones.size !== fromCommits + inserted) return false;
  // A path the checkpoint both adds and removes would now be in both.
  for (const key of removed) if (files.has(key)) return false;
  return true;
}

/**
 * Applies the commit at `state.version + 1` to a state, in place. Used by
 * roles that follow the log rather than reload it.
 */
export function applyCommit(state: SnapshotState, actions: readonly Action[]): void {
  for (const action of actions) {
    if ("add" in action) {
      const key = fileKey(action.add.path, dvIdOf(action.add));
      state.tombstones.delete(key);
      state.files.set(key, action.add);
    } else if ("remove" in action) {
      const key = fileKey(action.remove.path, dvIdOf(action.remove));
      state.files.delete(key);
      state.tombstones.set(key, action.remove);
    } else if ("txn" in action) {
      state.txns.set(action.txn.appId, action.txn);
    } else if ("domainMetadata" in action) {
      state.domains.set(action.domainMetadata.domain, action.domainMetadata);
    } else if ("metaData" in action) {
      state.metadata = action.metaData;
      state.schema = parseSchemaString(action.metaData.schemaString);
    } else if ("protocol" in action) {
      state.protocol = action.protocol;
    }
  }
  state.version += 1;
}

/**
 * Drops the tombstones whose `deletionTimestamp` is at or before `cutoffMs`
 * (a tombstone without one counts as expired, as in checkpoints), in place.
 * A state that follows the log for days would otherwise keep every file
 * ever removed; checkpoints drop the same tombstones (PROTOCOL.md,
 * "Checkpoints": expired tombstones may be left out). Returns how many went.
 */
export function expireTombstones(state: SnapshotState, cutoffMs: number): number {
  let expired = 0;
  for (const [key, remove] of state.tombstones) {
    if ((remove.deletionTimestamp ?? 0) <= cutoffMs) {
      state.tombstones.delete(key);
      expired++;
    }
  }
  return expired;
}

/**
 * The last version an application committed (its `txn` marker), or
 * undefined if it never committed to this table. A writer that restarts
 * resumes after it, so that no batch is written twice.
 */
export function lastAppVersion(state: SnapshotState, appId: string): number | undefined {
  return state.txns.get(appId)?.version;
}
