/**
 * Time travel by timestamp: the version of a table at a point in time is the
 * latest version whose commit timestamp is at or before it (PROTOCOL.md,
 * "In-Commit Timestamps"; Spark's `timestampAsOf`).
 *
 * A commit's timestamp is its `commitInfo.inCommitTimestamp` from the
 * version that enabled in-commit timestamps on (the latest metadata's
 * `delta.inCommitTimestampEnablementVersion`, or every version when the
 * table was created with them), and the modification time of its commit
 * file otherwise (S3's LastModified from the listing). File times are made
 * strictly increasing as Spark makes them (a commit whose file is not newer
 * than its predecessor's counts as 1 ms after it), so a clock step or a copy
 * of the log cannot make the answer depend on search order.
 *
 * A time before the earliest version that can be reconstructed is an error
 * naming that version's time (as in Spark; delta-rs gives its earliest
 * version instead). A time after the latest commit gives the latest version
 * (as in delta-rs; Spark refuses it by default).
 *
 * The earliest version is `earliestReadableVersion`'s, as for a version
 * asked by number (`checkVersionAvailable`, `log_segment.ts`).
 */

import { joinUri, type ObjectStore } from "../storage/object_store.ts";
import { parseCommit } from "./actions.ts";
import { commitKey, LOG_DIR, type ParsedLogPath, parseLogPath } from "./log_path.ts";
import { earliestReadableVersion } from "./log_segment.ts";
import { inCommitTimestampsEnabled } from "./protocol.ts";
import type { SnapshotState } from "./replay.ts";

/** The version chosen for a timestamp, and why. */
export interface VersionAtTime {
  version: number;
  /** The chosen version's commit timestamp, in ms since the epoch. */
  commitTimestamp: number;
  /** Where that timestamp comes from. */
  source: "inCommitTimestamp" | "fileModificationTime";
}

/** Raised for a time before the table's earliest version that can be read. */
export class TimestampBeforeTableError extends Error {
  /** The earliest version that can be read, and its commit timestamp. */
  readonly earliestVersion: number;
  readonly earliestTimestamp: number;
  constructor(message: string, earliestVersion: number, earliestTimestamp: number) {
    super(message);
    this.name = "TimestampBeforeTableError";
    this.earliestVersion = earliestVersion;
    this.earliestTimestamp = earliestTimestamp;
  }
}

/**
 * The latest version of the table in `store` whose commit timestamp is at or
 * before `timestampMs`, given the latest snapshot (`latest`: its version
 * bounds the search, its metadata says whether and since when in-commit
 * timestamps are on). Lists the log once and reads only the commits a
 * binary search over in-commit timestamps needs.
 */
export async function versionAtTimestamp(
  store: ObjectStore,
  latest: Pick<SnapshotState, "version" | "metadata">,
  timestampMs: number,
): Promise<VersionAtTime> {
  const files: (ParsedLogPath & { lastModified: number })[] = [];
  for await (const meta of store.list(`${LOG_DIR}/`)) {
    const parsed = parseLogPath(meta.key);
    if (parsed && parsed.version <= latest.version) {
      files.push({ ...parsed, lastModified: meta.lastModified });
    }
  }
  const commitTimes = new Map<number, number>();
  for (const f of files) if (f.type === "commit") commitTimes.set(f.version, f.lastModified);
  const earliest = earliestVersion(files, latest.version, store.uri);

  // File times from the earliest version on, strictly increasing.
  const fileTimes: number[] = [];
  for (let v = earliest; v <= latest.version; v++) {
    let time = commitTimes.get(v);
    if (time === undefined && v === earliest) {
      // The earliest version is a checkpoint whose commit was cleaned up: its file's time.
      time = Math.min(...files.filter((f) => f.version === v).map((f) => f.lastModified));
    }
    if (time === undefined) {
      throw new Error(
        `Cannot time travel table ${store.uri}: commit ${
          joinUri(store.uri, commitKey(v))
        } is missing from the log`,
      );
    }
    fileTimes.push(v > earliest ? Math.max(time, fileTimes[v - earliest - 1]! + 1) : time);
  }
  const fileTimeOf = (v: number) => fileTimes[v - earliest]!;

  let ictFrom = latest.version + 1;
  if (inCommitTimestampsEnabled(latest.metadata)) {
    const enabledAt = Number(
      latest.metadata.configuration["delta.inCommitTimestampEnablementVersion"] ?? 0,
    );
    ictFrom = Math.max(Number.isSafeInteger(enabledAt) ? enabledAt : 0, earliest);
  }
  const ict = new Map<number, number>();
  const ictOf = async (v: number) => {
    let time = ict.get(v);
    if (time === undefined) {
      time = await inCommitTimestampOf(store, v);
      ict.set(v, time);
    }
    return time;
  };

  if (ictFrom <= latest.version && timestampMs >= await ictOf(ictFrom)) {
    // The latest v in [ictFrom, latest] with ict(v) <= t; ict(ictFrom) <= t holds.
    let low = ictFrom;
    let high = latest.version;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (await ictOf(mid) <= timestampMs) low = mid;
      else high = mid - 1;
    }
    return { version: low, commitTimestamp: await ictOf(low), source: "inCommitTimestamp" };
  }
  // File times, below the in-commit range (if any).
  const last = Math.min(ictFrom, latest.version + 1) - 1;
  let found = -1;
  for (let v = last; v >= earliest; v--) {
    if (fileTimeOf(v) <= timestampMs) {
      found = v;
      break;
    }
  }
  if (found < 0) {
    const earliestTime = earliest < ictFrom ? fileTimeOf(earliest) : await ictOf(earliest);
    throw new TimestampBeforeTableError(
      `Cannot time travel table ${store.uri} to ${
        iso(timestampMs)
      }: that is before its earliest available version, ${earliest}, committed at ${
        iso(earliestTime)
      } (${earliestTime} ms)`,
      earliest,
      earliestTime,
    );
  }
  return { version: found, commitTimestamp: fileTimeOf(found), source: "fileModificationTime" };
}

function earliestVersion(
  files: readonly ParsedLogPath[],
  latest: number,
  where: string,
): number {
  const earliest = earliestReadableVersion(files, latest);
  if (earliest === undefined) {
    throw new Error(
      `Cannot time travel table ${where}: its log has neither commit 0 nor a complete checkpoint to start from`,
    );
  }
  return earliest;
}

/** The `inCommitTimestamp` of the commit at `version`, which must have one. */
async function inCommitTimestampOf(store: ObjectStore, version: number): Promise<number> {
  const key = commitKey(version);
  const bytes = await store.get(key);
  if (!bytes) {
    throw new Error(
      `Cannot time travel table ${store.uri}: commit ${joinUri(store.uri, key)} is missing`,
    );
  }
  for (const action of parseCommit(new TextDecoder().decode(bytes), joinUri(store.uri, key))) {
    if ("commitInfo" in action) {
      const time = action.commitInfo.inCommitTimestamp;
      if (typeof time === "number" && Number.isFinite(time)) return time;
      break;
    }
  }
  throw new Error(
    `Cannot time travel table ${store.uri}: commit ${
      joinUri(store.uri, key)
    } has no commitInfo.inCommitTimestamp, though in-commit timestamps are enabled from version ${version} or earlier`,
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
