/**
 * A table handle: the store under a table URI plus the checkpoint codec, and
 * the small joins between storage, the Parquet layer and the Delta layer that
 * every operation needs (loading a snapshot, reading a data file's bytes).
 */

import type { ObjectStore } from "../storage/object_store.ts";
import { openStore, type OpenStoreOptions } from "../storage/open.ts";
import type { CheckpointCodec } from "../delta/checkpoint.ts";
import { followLog, type LoadOptions, loadSnapshot, type Snapshot } from "../delta/snapshot.ts";
import { checkCanRead } from "../delta/protocol.ts";
import { DEFAULT_TOMBSTONE_RETENTION_MS, tombstoneRetentionOf } from "../delta/checkpoint.ts";
import { expireTombstones, type SnapshotState } from "../delta/replay.ts";
import type { KnownCommits } from "../delta/commit_feed.ts";
import { type VersionAtTime, versionAtTimestamp } from "../delta/time_travel.ts";
import { LOG_DIR } from "../delta/log_path.ts";
import { parquetCheckpointCodec } from "./checkpoint_codec.ts";

// What roles and commands need of the Delta layer, so that they reach it only
// through operations.
export { TableNotFoundError, VersionUnavailableError } from "../delta/log_segment.ts";
export { LOG_DIR } from "../delta/log_path.ts";
export { DEFAULT_TOMBSTONE_RETENTION_MS, tombstoneRetentionOf } from "../delta/checkpoint.ts";
export { lastAppVersion } from "../delta/replay.ts";
export { schemaFromFields, tableFields } from "../delta/schema.ts";
export { checkCanWrite } from "../delta/protocol.ts";
export { CommitFeed, type KnownCommits, type SharedFeed } from "../delta/commit_feed.ts";
export type { Snapshot } from "../delta/snapshot.ts";
export { TimestampBeforeTableError, type VersionAtTime } from "../delta/time_travel.ts";

/** An opened table location (the table need not exist yet). */
export interface Table {
  uri: string;
  store: ObjectStore;
  codec: CheckpointCodec;
}

/** Opens the table at a path, `file://` URI or `s3://bucket/prefix`. */
export async function openTable(uri: string, options: OpenStoreOptions = {}): Promise<Table> {
  const store = await openStore(uri, options);
  return { uri: store.uri, store, codec: parquetCheckpointCodec };
}

/** Wraps an existing store (tests, in-memory tables). */
export function tableOfStore(store: ObjectStore): Table {
  return { uri: store.uri, store, codec: parquetCheckpointCodec };
}

/**
 * Makes durable every commit already in the table's log, for a caller that
 * counts a commit it found there as acknowledged: the committer may have
 * linked it and stopped (killed, or its flush failed) before flushing the
 * log. Costs one directory flush on a local store; nothing on S3, where a
 * commit is durable once its PUT is answered.
 */
export async function syncLog(table: Table): Promise<void> {
  await table.store.syncPrefix?.(`${LOG_DIR}/`);
}

/** Loads a snapshot of the table. */
export function snapshotOf(table: Table, options: LoadOptions = {}): Promise<Snapshot> {
  return loadSnapshot(table.store, table.codec, options);
}

/**
 * The version of the table at `timestampMs` (ms since the epoch): the latest
 * version committed at or before it, by in-commit timestamps where the
 * table has them and by commit file times elsewhere (`versionAtTimestamp`).
 * A time after the latest commit gives the latest version; one before the
 * earliest version available throws `TimestampBeforeTableError`.
 */
export async function versionAtTime(table: Table, timestampMs: number): Promise<VersionAtTime> {
  const latest = await snapshotOf(table);
  return await versionAtTimestamp(table.store, latest, timestampMs);
}

/** Options of `followTable`. */
export interface FollowOptions {
  /**
   * How long tombstones are kept in memory.
   * @default the table's delta.deletedFileRetentionDuration, else 7 days
   */
  tombstoneRetentionMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
  /** Commits known without a read (`CommitFeed`). @default none */
  known?: KnownCommits;
}

/**
 * Reads the commits after `state`'s version into it, in place, and drops
 * the tombstones past retention, so that a state followed for days holds
 * the files removed within the retention only, as a checkpoint does.
 * Returns the number of commits applied.
 */
export async function followTable(
  store: ObjectStore,
  state: SnapshotState,
  options: FollowOptions = {},
): Promise<number> {
  const applied = await followLog(store, state, options.known);
  const retention = options.tombstoneRetentionMs ??
    tombstoneRetentionOf(state.metadata.configuration) ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  expireTombstones(state, (options.now ?? Date.now)() - retention);
  return applied;
}

/** The newest snapshot each table handle has seen, kept to be moved forward. */
const latest = new WeakMap<Table, Snapshot>();

/**
 * The latest snapshot, moved forward from the one this handle loaded last
 * (reading only the commits since) instead of loaded again. A process that
 * writes to a table in a loop then reads each new commit once, not the whole
 * segment every time. The result is the caller's own copy.
 */
export async function latestSnapshotOf(table: Table): Promise<Snapshot> {
  let snapshot = latest.get(table);
  if (snapshot) {
    await followTable(table.store, snapshot);
    checkCanRead(snapshot.protocol, snapshot.metadata);
  } else {
    snapshot = await snapshotOf(table);
    latest.set(table, snapshot);
  }
  return {
    ...snapshot,
    files: new Map(snapshot.files),
    tombstones: new Map(snapshot.tombstones),
    txns: new Map(snapshot.txns),
    domains: new Map(snapshot.domains),
  };
}
