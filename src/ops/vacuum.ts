/**
 * Vacuum: delete data files that the current version does not reference once
 * they are past retention. Split into a pure plan (testable with an injected
 * clock) and an execute step; a dry run stops after the plan.
 *
 * Safety (DESIGN.md, "Vacuum safety"). Vacuum never deletes:
 * - a file that the current snapshot references, as a data file or as the
 *   deletion-vector file of one (a DV file holds vectors of many files);
 * - a file whose `remove` tombstone is younger than the retention (nor the
 *   DV file such a tombstone names);
 * - a file whose last modification is younger than the retention (it may
 *   belong to a writer that has not committed yet);
 * - the log, or anything in a hidden directory (`_` or `.` prefix) other than
 *   a partition directory, `_change_data` or `_delta_index` (Delta's rule),
 *   nor a UniForm table's Iceberg metadata (`metadata/`);
 * - anything outside the table root: paths from the log are only compared,
 *   never followed, and every key the store lists is inside the root;
 * - whatever retention it is given, a file younger than
 *   `VACUUM_RETENTION_FLOOR_MS`: the longest an append may hold an uploaded,
 *   uncommitted file (`APPEND_HOLD_BUDGET_MS`, enforced by ops/append.ts)
 *   plus a margin for a commit in flight and clock skew between machines.
 *   A short retention may be allowed; losing an acknowledged row may not.
 * A full pass also removes the store's stale temporary files (a put or
 * commit killed half way), once they are older than the retention and an
 * hour, far longer than any put or commit keeps one.
 * The listing is taken before the snapshot is loaded, so that a file
 * committed between the two is in the snapshot.
 *
 * A log-only pass lists nothing: its candidates are the snapshot's expired
 * tombstones. It is cheaper on big tables but leaves orphans (files a killed
 * writer uploaded and never committed) for the next full pass.
 */

import { formatDuration } from "../util/units.ts";
import type { DeleteOutcome, ObjectMeta, ObjectStore } from "../storage/object_store.ts";
import { compareKeys } from "../storage/keys.ts";
import type { Add, Remove } from "../delta/actions.ts";
import { decodeFilePath } from "../delta/partition.ts";
import { deletionVectorKey } from "./deletion_vectors.ts";
import { DEFAULT_TOMBSTONE_RETENTION_MS, tombstoneRetentionOf } from "../delta/checkpoint.ts";
import { LOG_DIR } from "../delta/log_path.ts";
import { checkCanWrite } from "../delta/protocol.ts";
import type { SnapshotState } from "../delta/replay.ts";
import type { KnownCommits } from "../delta/commit_feed.ts";
import { followLog } from "../delta/snapshot.ts";
import { APPEND_HOLD_BUDGET_MS } from "./append.ts";
import { mapLimit } from "../util/concurrency.ts";
import { activeFiles } from "../delta/replay.ts";

/**
 * The default retention of deleted files: 7 days, as in Delta. The same
 * default of `delta.deletedFileRetentionDuration` as the checkpoints'
 * tombstones keep, so vacuum and the compactor judge one table alike.
 */
export const DEFAULT_VACUUM_RETENTION_MS = DEFAULT_TOMBSTONE_RETENTION_MS;

/**
 * Time for a commit already sent when an append's hold budget ran out to
 * land, and for clock skew between the vacuuming machine and the store.
 */
const FLOOR_MARGIN_MS = 5_000;

/**
 * The shortest retention vacuum ever uses, whatever it is asked: longer than
 * an append may hold an uploaded file before committing it, so vacuum never
 * deletes a file that a writer will still commit.
 */
export const VACUUM_RETENTION_FLOOR_MS = APPEND_HOLD_BUDGET_MS + FLOOR_MARGIN_MS;

/** Stale temporary files are removed only past this age (and the retention). */
export const TEMP_FILE_MIN_AGE_MS = 3_600_000;

/** Why a listed file was kept. */
export interface VacuumKept {
  active: number;
  youngTombstone: number;
  youngFile: number;
  hidden: number;
}

/** What a vacuum would delete. */
export interface VacuumPlan {
  version: number;
  /** The retention used: the one asked for, raised to the floor if below it. */
  retentionMs: number;
  /** True when the retention asked for was below `VACUUM_RETENTION_FLOOR_MS`. */
  raisedToFloor: boolean;
  cutoffMs: number;
  delete: ObjectMeta[];
  bytes: number;
  kept: VacuumKept;
}

/** Inputs of the pure planner. */
export interface VacuumPlanInput {
  listing: readonly ObjectMeta[];
  /** Keys the snapshot references: data files and their DV files. */
  files: ReadonlyMap<string, unknown>;
  /** Tombstones by the keys they name: data files and their DV files. */
  tombstones: ReadonlyMap<string, Remove>;
  partitionColumns: readonly string[];
  /** The table writes Iceberg metadata (UniForm): its `metadata` directory is hidden. */
  icebergMetadata?: boolean;
  version: number;
  nowMs: number;
  retentionMs: number;
}

/** Decides which listed files vacuum may delete. Pure. */
export function planVacuum(input: VacuumPlanInput): VacuumPlan {
  const retentionMs = Math.max(input.retentionMs, VACUUM_RETENTION_FLOOR_MS);
  const cutoffMs = input.nowMs - retentionMs;
  const kept: VacuumKept = { active: 0, youngTombstone: 0, youngFile: 0, hidden: 0 };
  const del: ObjectMeta[] = [];
  let bytes = 0;
  for (const meta of input.listing) {
    if (isHidden(meta.key, input.partitionColumns, input.icebergMetadata)) {
      kept.hidden++;
      continue;
    }
    if (input.files.has(meta.key)) {
      kept.active++;
      continue;
    }
    const tombstone = input.tombstones.get(meta.key);
    if (tombstone && (tombstone.deletionTimestamp ?? 0) > cutoffMs) {
      kept.youngTombstone++;
      continue;
    }
    if (meta.lastModified > cutoffMs) {
      kept.youngFile++;
      continue;
    }
    del.push(meta);
    bytes += meta.size;
  }
  return {
    version: input.version,
    retentionMs,
    raisedToFloor: retentionMs > input.retentionMs,
    cutoffMs,
    delete: del,
    bytes,
    kept,
  };
}

/**
 * The tombstones as a listing, for a log-only pass. A tombstone's file was
 * committed before it was removed, so its deletion time stands in for the
 * file's age.
 */
function tombstoneListing(tombstones: ReadonlyMap<string, Remove>): ObjectMeta[] {
  const listing: ObjectMeta[] = [];
  for (const [key, remove] of tombstones) {
    const size = key === decodeFilePath(remove.path) ? remove.size ?? 0 : 0;
    listing.push({ key, size, lastModified: remove.deletionTimestamp ?? 0 });
  }
  return listing;
}

/**
 * Sizes and times for a keys-only listing, with a `head` only where the plan
 * needs the file's own: the planner keeps hidden and referenced files
 * whatever their metadata, so they get none that could ever let one go
 * (size 0, modified at +Infinity). A file a tombstone names gets the
 * tombstone's deletion time and size, as a log-only pass does: it was
 * committed before it was removed, so it is no younger than that, and only
 * when the tombstone is past retention can it be deleted. A file the log
 * never named (a writer's upload not committed yet, or an orphan) and a file
 * whose size or deletion time the tombstone does not give are looked at with `head`, and a file
 * gone since the listing is dropped.
 */
async function describeListed(
  store: ObjectStore,
  listed: readonly string[],
  keys: { files: ReadonlyMap<string, unknown>; tombstones: ReadonlyMap<string, Remove> },
  partitionColumns: readonly string[],
  icebergMetadata: boolean,
): Promise<ObjectMeta[]> {
  const listing: ObjectMeta[] = [];
  const unknown: string[] = [];
  for (const key of listed) {
    if (isHidden(key, partitionColumns, icebergMetadata) || keys.files.has(key)) {
      listing.push({ key, size: 0, lastModified: Infinity });
      continue;
    }
    const remove = keys.tombstones.get(key);
    const size = remove && key === decodeFilePath(remove.path) ? remove.size : undefined;
    const removedAt = remove?.deletionTimestamp;
    if (size != null && removedAt != null) listing.push({ key, size, lastModified: removedAt });
    else unknown.push(key);
  }
  const heads = await mapLimit(unknown, 8, (key) => store.head(key));
  for (const meta of heads) if (meta) listing.push(meta);
  return listing;
}

/**
 * The store keys a snapshot references and the keys its tombstones name:
 * each file's data key and, for a file with a deletion vector stored in a
 * file under the table root, that DV file's key. Snapshot maps are keyed by
 * path plus vector id, so one data file can stand under several entries.
 */
export function referencedKeys(
  rootUri: string,
  files: Iterable<Add>,
  tombstones: Iterable<Remove>,
): { files: Map<string, true>; tombstones: Map<string, Remove> } {
  const live = new Map<string, true>();
  for (const add of files) {
    live.set(decodeFilePath(add.path), true);
    const dvKey = add.deletionVector ? deletionVectorKey(rootUri, add.deletionVector) : undefined;
    if (dvKey !== undefined) live.set(dvKey, true);
  }
  const removed = new Map<string, Remove>();
  const keep = (key: string, remove: Remove) => {
    const had = removed.get(key);
    if (!had || (had.deletionTimestamp ?? 0) < (remove.deletionTimestamp ?? 0)) {
      removed.set(key, remove);
    }
  };
  for (const remove of tombstones) {
    keep(decodeFilePath(remove.path), remove);
    const dvKey = remove.deletionVector
      ? deletionVectorKey(rootUri, remove.deletionVector)
      : undefined;
    if (dvKey !== undefined) keep(dvKey, remove);
  }
  return { files: live, tombstones: removed };
}

/**
 * True for keys that vacuum must not touch: the log, and anything under a
 * directory or with a name that starts with `_` or `.`, except partition
 * directories such as `_part=1` and, as in Delta's own rule
 * (`isHiddenDirectory`), change data files (`_change_data`, which no
 * snapshot references) and `_delta_index`: those are vacuumed past
 * retention like any other file. With `icebergMetadata` (a UniForm table,
 * `icebergMetadataOf`), anything named `metadata` is hidden too: the
 * table's Iceberg metadata lives there, and the Delta log names none of it.
 */
export function isHidden(
  key: string,
  partitionColumns: readonly string[],
  icebergMetadata = false,
): boolean {
  // Most keys have no segment that starts with `_` or `.`: those are answered
  // without splitting the key (a full pass asks for every file listed).
  const first = key.charCodeAt(0);
  if (
    !icebergMetadata && first !== 95 && first !== 46 && !key.includes("/_") &&
    !key.includes("/.")
  ) return false;
  if (key === LOG_DIR || key.startsWith(`${LOG_DIR}/`)) return true;
  const segments = key.split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (icebergMetadata && segment === "metadata") return true;
    if (!segment.startsWith("_") && !segment.startsWith(".")) continue;
    if (segment.startsWith("_change_data") || segment.startsWith("_delta_index")) continue;
    const isDir = i < segments.length - 1;
    const eq = segment.indexOf("=");
    if (isDir && eq > 0 && partitionColumns.includes(segment.slice(0, eq))) continue;
    return true;
  }
  return false;
}

/**
 * Whether a table's configuration has it write Iceberg metadata beside the
 * Delta log (UniForm, `delta.universalFormat.enabledFormats` naming
 * `iceberg`), as Delta's VACUUM asks (`UniversalFormat.icebergEnabled`).
 */
export function icebergMetadataOf(configuration: Readonly<Record<string, string>>): boolean {
  const formats = configuration["delta.universalFormat.enabledFormats"] ?? "";
  return formats.split(",").some((f) => f.trim().toLowerCase() === "iceberg");
}

/** Options of a vacuum run. */
export interface VacuumOptions {
  /** Retention in ms. @default the table's delta.deletedFileRetentionDuration, else 7 days */
  retentionMs?: number;
  /** Allow a retention shorter than the table's (demo runs only). @default false */
  allowShortRetention?: boolean;
  /**
   * Without `allowShortRetention`, raise a `retentionMs` shorter than the
   * table's to the table's instead of refusing it: the stream's vacuum role,
   * whose run-wide retention must not shorten what a table promises its
   * other readers. @default false
   */
  atLeastTableRetention?: boolean;
  /** Plan only; delete nothing. @default false */
  dryRun?: boolean;
  /**
   * `full` lists the table and deletes every unreferenced expired file;
   * `log-only` deletes only files the log removed, without listing.
   * @default "full"
   */
  mode?: VacuumMode;
  /** The clock. @default Date.now */
  now?: () => number;
  /**
   * Commits known without a read (`CommitFeed`), for the last look before
   * deleting: the exact bytes this process put, so the look sees what a read
   * would. Pass the same to `loadState`'s loader. @default none
   */
  known?: KnownCommits;
  /**
   * Told how the pass goes, for a progress line: once the table is listed,
   * and as deletions complete. With it, deletions go to the store in chunks
   * of `VACUUM_PROGRESS_CHUNK` keys, each still one batched call. @default none
   */
  onProgress?: (progress: VacuumProgress) => void;
}

/** How far a vacuum pass has got (`VacuumOptions.onProgress`). */
export type VacuumProgress =
  | { phase: "listed"; files: number }
  | { phase: "deleting"; done: number; total: number };

/**
 * Keys per delete call when progress is asked for: ten S3 DeleteObjects of
 * 1,000, or half a second of local unlinks, so a line moves on a big vacuum
 * and each call still batches and parallelises as one.
 */
export const VACUUM_PROGRESS_CHUNK = 10_000;

/** What a vacuum pass considers: the whole listing, or the log's tombstones. */
export type VacuumMode = "full" | "log-only";

/** The outcome of a vacuum run. */
export interface VacuumResult {
  dryRun: boolean;
  /** The retention chosen, and whether it is the table's (before the floor: `plan.retentionMs`). */
  retention: VacuumRetention;
  plan: VacuumPlan;
  filesDeleted: number;
  bytesDeleted: number;
  /** Stale temporary files removed (a full pass on a store that makes them). */
  tempFilesDeleted: number;
  failed: { key: string; reason: string }[];
}

/** The retention a vacuum uses, and where it comes from. */
export interface VacuumRetention {
  /** The retention, before vacuum's floor. */
  ms: number;
  /** The table's: its `delta.deletedFileRetentionDuration`, else Delta's 7 days. */
  tableMs: number;
  /** Whether the table declares `delta.deletedFileRetentionDuration`. */
  declared: boolean;
  /**
   * `table` when the table's retention is used (none asked for, or a
   * shorter one raised to it), `asked` when the retention asked for is used
   * (as long as the table's or longer, or shorter and allowed).
   */
  source: "table" | "asked";
}

/**
 * The retention a vacuum of a table whose properties are `config` uses:
 * the one asked for, else the table's `delta.deletedFileRetentionDuration`,
 * else Delta's 7 days. One shorter than the table's is refused (as Spark's
 * `retentionDurationCheck` and delta-rs's `enforce_retention_duration`
 * refuse it) unless `allowShortRetention`, or raised to the table's with
 * `atLeastTableRetention`.
 */
export function chooseVacuumRetention(
  config: Record<string, string>,
  options: VacuumOptions,
): VacuumRetention {
  const declaredMs = tombstoneRetentionOf(config);
  const tableMs = declaredMs ?? DEFAULT_VACUUM_RETENTION_MS;
  const declared = declaredMs !== undefined;
  const asked = options.retentionMs;
  if (asked === undefined) return { ms: tableMs, tableMs, declared, source: "table" };
  if (asked >= tableMs || options.allowShortRetention) {
    return { ms: asked, tableMs, declared, source: "asked" };
  }
  if (options.atLeastTableRetention) return { ms: tableMs, tableMs, declared, source: "table" };
  throw new RangeError(
    `Refusing to vacuum with a retention of ${formatDuration(asked)}, shorter than the table's ${
      formatDuration(tableMs)
    }${
      declared ? "" : " (Delta's default: the table declares no delta.deletedFileRetentionDuration)"
    }: files that readers or uncommitted writers still need could be deleted. Pass --allow-short-retention if you are sure`,
  );
}

/** The retention a vacuum uses, refusing a short one unless allowed (`chooseVacuumRetention`). */
export function vacuumRetention(
  config: Record<string, string>,
  options: VacuumOptions,
): number {
  return chooseVacuumRetention(config, options).ms;
}

/**
 * Vacuums a table. `loadState` loads the current snapshot; it is called after
 * the listing (see the header comment).
 */
export async function vacuum(
  store: ObjectStore,
  loadState: () => Promise<SnapshotState>,
  options: VacuumOptions = {},
): Promise<VacuumResult> {
  const now = options.now ?? Date.now;
  const logOnly = options.mode === "log-only";
  let listing: ObjectMeta[] = [];
  // Where a listing's sizes and times cost a stat per file, only the keys are
  // listed now, and described once the snapshot says which need it.
  let listedKeys: string[] | undefined;
  if (!logOnly && store.listKeys) {
    // In the order the store finds them: the plan only looks keys up.
    listedKeys = (await store.listKeys("", { ordered: false }))
      .filter((key) => !key.startsWith(`${LOG_DIR}/`));
  } else if (!logOnly) {
    for await (const meta of store.list("")) {
      if (!meta.key.startsWith(`${LOG_DIR}/`)) listing.push(meta);
    }
  }
  if (!logOnly) {
    options.onProgress?.({ phase: "listed", files: listedKeys?.length ?? listing.length });
  }
  const state = await loadState();
  checkCanWrite(state.protocol, state.metadata, state.schema, { kind: "vacuum" });
  const keys = referencedKeys(store.uri, activeFiles(state), state.tombstones.values());
  if (logOnly) listing.push(...tombstoneListing(keys.tombstones));
  if (listedKeys) {
    listing = await describeListed(
      store,
      listedKeys,
      keys,
      state.metadata.partitionColumns,
      icebergMetadataOf(state.metadata.configuration),
    );
  }
  const retention = chooseVacuumRetention(state.metadata.configuration, options);
  const plan = planVacuum({
    listing,
    files: keys.files,
    tombstones: keys.tombstones,
    partitionColumns: state.metadata.partitionColumns,
    icebergMetadata: icebergMetadataOf(state.metadata.configuration),
    version: state.version,
    nowMs: now(),
    retentionMs: retention.ms,
  });
  const result: VacuumResult = {
    dryRun: options.dryRun ?? false,
    retention,
    plan,
    filesDeleted: 0,
    bytesDeleted: 0,
    tempFilesDeleted: 0,
    failed: [],
  };
  const removeTemporaries = async () => {
    if (result.dryRun || logOnly || !store.removeStaleTemporaries) return;
    const age = Math.max(plan.retentionMs, TEMP_FILE_MIN_AGE_MS);
    result.tempFilesDeleted = await store.removeStaleTemporaries(now() - age);
  };
  if (result.dryRun || plan.delete.length === 0) {
    // What a dry run would delete is shown in key order, however listed.
    if (listedKeys) plan.delete.sort((a, b) => compareKeys(a.key, b.key));
    await removeTemporaries();
    return result;
  }
  // Last look before deleting: a file committed since the snapshot was loaded
  // is referenced now and must stay. With no new commit, the plan already
  // excludes every referenced file.
  if (await followLog(store, state, options.known) > 0) {
    const stillReferenced = referencedKeys(store.uri, activeFiles(state), []).files;
    plan.delete = plan.delete.filter((m) => !stillReferenced.has(m.key));
    plan.bytes = plan.delete.reduce((n, m) => n + m.size, 0);
  }
  // One call: each store batches and parallelises its own deletes (S3 sends
  // DeleteObjects of 1,000 keys, several at once; the local store unlinks on
  // this thread in runs, with a few more unlinks in flight on the blocking
  // pool once the machine is busy). The temporary files are swept meanwhile, between those runs. The
  // two sets are disjoint (listings never show temporary files).
  const deleting = deleteKeys(store, plan.delete.map((m) => m.key), options.onProgress);
  await Promise.all([deleting, removeTemporaries()]);
  const outcome = await deleting;
  result.filesDeleted = outcome.deleted.length;
  if (outcome.deleted.length === plan.delete.length) result.bytesDeleted = plan.bytes;
  else {
    // Some failed: sum the sizes of those that went.
    const sizes = new Map(plan.delete.map((m) => [m.key, m.size]));
    for (const key of outcome.deleted) result.bytesDeleted += sizes.get(key) ?? 0;
  }
  result.failed.push(...outcome.failed);
  return result;
}

/** Deletes `keys` in one call, or in chunks that report progress. */
async function deleteKeys(
  store: ObjectStore,
  keys: string[],
  onProgress: VacuumOptions["onProgress"],
): Promise<DeleteOutcome> {
  if (!onProgress) return await store.delete(keys);
  const outcome: DeleteOutcome = { deleted: [], failed: [] };
  onProgress({ phase: "deleting", done: 0, total: keys.length });
  for (let at = 0; at < keys.length; at += VACUUM_PROGRESS_CHUNK) {
    const chunk = await store.delete(keys.slice(at, at + VACUUM_PROGRESS_CHUNK));
    outcome.deleted.push(...chunk.deleted);
    outcome.failed.push(...chunk.failed);
    onProgress({
      phase: "deleting",
      done: Math.min(keys.length, at + VACUUM_PROGRESS_CHUNK),
      total: keys.length,
    });
  }
  return outcome;
}
