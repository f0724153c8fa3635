/**
 * `health` as a table operation: the storage probes of `storage/health.ts`
 * plus whether a Delta table is there (the newest version in its log). A
 * location without a table is healthy; whether a table is there is
 * reported, not judged.
 */

import { LOG_DIR, parseLogPath } from "../delta/log_path.ts";
import {
  checkLocalHealth,
  checkS3Health,
  type LocalStorageHealth,
  type S3HealthReport,
} from "../storage/health.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { LocalStore } from "../storage/local.ts";
import type { S3Store } from "../storage/s3/s3_store.ts";
import { messageOf } from "../util/errors.ts";

/** Whether a Delta table is at the location. */
export interface TableCheck {
  /** True if the log holds a commit or checkpoint; null if it was not or could not be read. */
  exists: boolean | null;
  /** The newest version in the log, or null. */
  version: number | null;
  /** Why the log could not be listed (a failure). */
  error?: string;
  /** Why the log was not looked at (an earlier check failed). */
  skipped?: string;
}

/** What `health` found at an S3 location. */
export interface S3LocationHealth extends S3HealthReport {
  kind: "s3";
  table: TableCheck;
}

/** What `health` found at a local path. */
export interface LocalHealthReport extends LocalStorageHealth {
  kind: "local";
  table: TableCheck;
}

/** Either report. */
export type LocationHealth = S3LocationHealth | LocalHealthReport;

/** Runs the S3 checks and, if the bucket answered, looks for a table. */
export async function checkS3Location(store: S3Store): Promise<S3LocationHealth> {
  const report = await checkS3Health(store);
  const table: TableCheck = report.bucket.ok
    ? await checkTable(store)
    : { exists: null, version: null, skipped: "not checked: the bucket is not reachable" };
  return { kind: "s3", ...report, ok: report.ok && table.error === undefined, table };
}

/**
 * Checks a local table root (see `checkLocalHealth`) and, if it is a
 * directory, looks for a table in it.
 */
export async function checkLocalLocation(path: string): Promise<LocalHealthReport> {
  const storage = await checkLocalHealth(path);
  const table: TableCheck = storage.directory.isDirectory
    ? await checkTable(new LocalStore(storage.path))
    : storage.directory.existed
    ? { exists: null, version: null, skipped: "not checked: the root is not a directory" }
    : { exists: false, version: null };
  return { kind: "local", ...storage, ok: storage.ok && table.error === undefined, table };
}

/** Looks for commits and checkpoints in the log. */
async function checkTable(store: ObjectStore): Promise<TableCheck> {
  try {
    let version = -1;
    for await (const meta of store.list(`${LOG_DIR}/`)) {
      const parsed = parseLogPath(meta.key);
      if (parsed?.type === "commit" || parsed?.type === "checkpoint") {
        version = Math.max(version, parsed.version);
      }
    }
    return { exists: version >= 0, version: version >= 0 ? version : null };
  } catch (error) {
    return { exists: null, version: null, error: `Cannot list ${LOG_DIR}/: ${messageOf(error)}` };
  }
}
