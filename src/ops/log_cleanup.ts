/**
 * Log cleanup: delete commits and checkpoints that are older than the log
 * retention, only up to a checkpoint that keeps the table readable. A pure
 * plan and an execute step.
 *
 * Invariants (as in Delta, PROTOCOL.md "Metadata Cleanup"): files are
 * deleted only below the newest complete checkpoint that is itself older
 * than the retention, so the table stays readable from that checkpoint and
 * every version inside the retention can still be reconstructed.
 * `_last_checkpoint` is never deleted. A v2 checkpoint sidecar is deleted
 * only when no kept checkpoint names it and it is older than both the
 * retention and a day (a writer publishes sidecars before the checkpoint
 * that names them); if a kept checkpoint cannot be read, no sidecar is
 * deleted.
 */

import type { ObjectMeta, ObjectStore } from "../storage/object_store.ts";
import { type CheckpointCodec, logRetentionOf } from "../delta/checkpoint.ts";
import { LOG_DIR, parseLogPath, SIDECAR_DIR, sidecarKeyOf } from "../delta/log_path.ts";
import { readCheckpointActions } from "../delta/snapshot.ts";
import { log } from "../util/log.ts";
import { parquetCheckpointCodec } from "./checkpoint_codec.ts";

/** What log cleanup would delete. */
export interface LogCleanupPlan {
  /** The checkpoint version that the table is readable from afterwards. */
  keepFromVersion: number | undefined;
  delete: ObjectMeta[];
}

/** Decides which log files may go. Pure. */
export function planLogCleanup(listing: readonly ObjectMeta[], cutoffMs: number): LogCleanupPlan {
  const parsed = listing
    .map((meta) => ({ meta, path: parseLogPath(meta.key) }))
    .filter((x) => x.path !== undefined);
  // Complete checkpoints whose every part is older than the cutoff. Each
  // checkpoint counts on its own: a single-file one (classic or UUID), or the
  // parts of one n-part set, never parts of sets of other sizes at the same
  // version (two writers that died while writing it).
  const parts = new Map<
    string,
    { version: number; count: number; expected: number; oldest: boolean }
  >();
  for (const { meta, path } of parsed) {
    if (!isCheckpoint(path!.type)) continue;
    const id = path!.type === "multipart-checkpoint"
      ? `${path!.version}/${path!.parts}`
      : `${path!.version}/${meta.key}`;
    const entry = parts.get(id) ?? {
      version: path!.version,
      count: 0,
      expected: path!.parts ?? 1,
      oldest: true,
    };
    entry.count++;
    entry.oldest &&= meta.lastModified <= cutoffMs;
    parts.set(id, entry);
  }
  let keepFrom: number | undefined;
  for (const { version, count, expected, oldest } of parts.values()) {
    if (count >= expected && oldest && (keepFrom === undefined || version > keepFrom)) {
      keepFrom = version;
    }
  }
  if (keepFrom === undefined) return { keepFromVersion: undefined, delete: [] };
  const del = parsed
    .filter(({ meta, path }) => path!.version < keepFrom! && meta.lastModified <= cutoffMs)
    .map(({ meta }) => meta);
  return { keepFromVersion: keepFrom, delete: del };
}

function isCheckpoint(type: string): boolean {
  return type === "checkpoint" || type === "multipart-checkpoint" || type === "uuid-checkpoint";
}

/** Sidecars younger than this are kept even if nothing names them yet. */
export const SIDECAR_MIN_AGE_MS = 86_400_000;

/**
 * Decides which sidecar files may go: those no kept checkpoint references
 * (`referenced` holds their keys) that are older than the cutoff and than
 * `SIDECAR_MIN_AGE_MS`. Pure.
 */
export function planSidecarCleanup(
  sidecars: readonly ObjectMeta[],
  referenced: ReadonlySet<string>,
  cutoffMs: number,
  nowMs: number,
): ObjectMeta[] {
  const before = Math.min(cutoffMs, nowMs - SIDECAR_MIN_AGE_MS);
  return sidecars.filter((m) => !referenced.has(m.key) && m.lastModified <= before);
}

/**
 * The log retention of a table whose configuration is `config`: its
 * `delta.logRetentionDuration`, else Delta's default of 30 days.
 */
export function tableLogRetention(config: Record<string, string>): number {
  return logRetentionOf(config);
}

/** Options of a log cleanup. */
export interface LogCleanupOptions {
  /** Retention in ms. @default the table's delta.logRetentionDuration, else 30 days */
  retentionMs?: number;
  dryRun?: boolean;
  now?: () => number;
  /** Reads kept checkpoints to find the sidecars they name. @default the Parquet codec */
  codec?: CheckpointCodec;
}

/** The outcome of a log cleanup. */
export interface LogCleanupResult {
  plan: LogCleanupPlan;
  /** Unreferenced sidecars that are (or, in a dry run, would be) deleted. */
  sidecars: ObjectMeta[];
  /** Log files and sidecars deleted. */
  filesDeleted: number;
  dryRun: boolean;
}

/** Cleans up the log of a table whose configuration is `config`. */
export async function cleanupLog(
  store: ObjectStore,
  config: Record<string, string>,
  options: LogCleanupOptions = {},
): Promise<LogCleanupResult> {
  const retention = options.retentionMs ?? logRetentionOf(config);
  const now = (options.now ?? Date.now)();
  const listing: ObjectMeta[] = [];
  const sidecarListing: ObjectMeta[] = [];
  for await (const meta of store.list(`${LOG_DIR}/`)) {
    (meta.key.startsWith(`${SIDECAR_DIR}/`) ? sidecarListing : listing).push(meta);
  }
  const plan = planLogCleanup(listing, now - retention);
  let sidecars: ObjectMeta[] = [];
  if (sidecarListing.length > 0) {
    try {
      const referenced = await referencedSidecars(
        store,
        options.codec ?? parquetCheckpointCodec,
        listing,
        plan,
      );
      sidecars = planSidecarCleanup(sidecarListing, referenced, now - retention, now);
    } catch (error) {
      // Without every reference known, no sidecar is safe to delete.
      log("log_cleanup").warn("Keeping every sidecar of {uri}: {error}", {
        uri: store.uri,
        error: String(error),
      });
    }
  }
  const dryRun = options.dryRun ?? false;
  if (dryRun) return { plan, sidecars, filesDeleted: 0, dryRun };
  // Oldest first, so an interrupted cleanup never leaves a gap below kept
  // files; sidecars last, once no deleted checkpoint can be read any more.
  const keys = plan.delete.map((m) => m.key).sort().concat(sidecars.map((m) => m.key));
  let filesDeleted = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const outcome = await store.delete(keys.slice(i, i + 1000));
    filesDeleted += outcome.deleted.length;
    if (outcome.failed.length > 0) {
      throw new Error(
        `Log cleanup could not delete ${outcome.failed[0]!.key}: ${outcome.failed[0]!.reason}`,
      );
    }
  }
  return { plan, sidecars, filesDeleted, dryRun };
}

/**
 * The sidecar keys that the checkpoints kept by `plan` name. Multi-part
 * checkpoints never have sidecars; every other kept checkpoint is read.
 * Throws if one cannot be read: then no sidecar may be deleted.
 */
async function referencedSidecars(
  store: ObjectStore,
  codec: CheckpointCodec,
  listing: readonly ObjectMeta[],
  plan: LogCleanupPlan,
): Promise<Set<string>> {
  const deleted = new Set(plan.delete.map((m) => m.key));
  const referenced = new Set<string>();
  for (const meta of listing) {
    const path = parseLogPath(meta.key);
    if (deleted.has(meta.key) || !path) continue;
    if (path.type !== "checkpoint" && path.type !== "uuid-checkpoint") continue;
    for (const action of await readCheckpointActions(store, codec, meta.key)) {
      if (!("sidecar" in action)) continue;
      const key = sidecarKeyOf(action.sidecar.path);
      if (key) referenced.add(key);
    }
  }
  return referenced;
}
