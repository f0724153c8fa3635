/**
 * Log cleanup: delete commits and checkpoints that are older than the log
 * retention, only up to a checkpoint that keeps the table readable. A pure
 * plan and an execute step.
 *
 * Invariant (as in Delta): files are deleted only below the newest complete
 * checkpoint that is itself older than the retention, so the table stays
 * readable from that checkpoint and every version inside the retention can
 * still be reconstructed. `_last_checkpoint` is never deleted.
 */

import type { ObjectMeta, ObjectStore } from "../storage/object_store.ts";
import { logRetentionOf } from "../delta/checkpoint.ts";
import { LOG_DIR, parseLogPath } from "../delta/log_path.ts";

/** The default log retention: 30 days, as in Delta. */
export const DEFAULT_LOG_RETENTION_MS = 30 * 86_400_000;

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
  // Complete checkpoints whose every part is older than the cutoff.
  const parts = new Map<number, { count: number; expected: number; oldest: boolean }>();
  for (const { meta, path } of parsed) {
    if (path!.type !== "checkpoint" && path!.type !== "multipart-checkpoint") continue;
    const entry = parts.get(path!.version) ?? {
      count: 0,
      expected: path!.parts ?? 1,
      oldest: true,
    };
    entry.count++;
    entry.oldest &&= meta.lastModified <= cutoffMs;
    parts.set(path!.version, entry);
  }
  let keepFrom: number | undefined;
  for (const [version, entry] of parts) {
    if (
      entry.count >= entry.expected && entry.oldest &&
      (keepFrom === undefined || version > keepFrom)
    ) {
      keepFrom = version;
    }
  }
  if (keepFrom === undefined) return { keepFromVersion: undefined, delete: [] };
  const del = parsed
    .filter(({ meta, path }) => path!.version < keepFrom! && meta.lastModified <= cutoffMs)
    .map(({ meta }) => meta);
  return { keepFromVersion: keepFrom, delete: del };
}

/** Options of a log cleanup. */
export interface LogCleanupOptions {
  /** Retention in ms. @default the table's delta.logRetentionDuration, else 30 days */
  retentionMs?: number;
  dryRun?: boolean;
  now?: () => number;
}

/** The outcome of a log cleanup. */
export interface LogCleanupResult {
  plan: LogCleanupPlan;
  filesDeleted: number;
  dryRun: boolean;
}

/** Cleans up the log of a table whose configuration is `config`. */
export async function cleanupLog(
  store: ObjectStore,
  config: Record<string, string>,
  options: LogCleanupOptions = {},
): Promise<LogCleanupResult> {
  const retention = options.retentionMs ?? logRetentionOf(config) ?? DEFAULT_LOG_RETENTION_MS;
  const now = (options.now ?? Date.now)();
  const listing: ObjectMeta[] = [];
  for await (const meta of store.list(`${LOG_DIR}/`)) listing.push(meta);
  const plan = planLogCleanup(listing, now - retention);
  const dryRun = options.dryRun ?? false;
  if (dryRun || plan.delete.length === 0) return { plan, filesDeleted: 0, dryRun };
  // Oldest first, so an interrupted cleanup never leaves a gap below kept files.
  const keys = plan.delete.map((m) => m.key).sort();
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
  return { plan, filesDeleted, dryRun };
}
