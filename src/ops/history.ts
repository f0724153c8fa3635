/**
 * Table history: the commitInfo of each version, newest first, read from the
 * JSON commits that are still in the log, all of them or those up to a
 * version.
 */

import { type CommitInfo, parseCommit } from "../delta/actions.ts";
import { LOG_DIR, type ParsedLogPath, parseLogPath } from "../delta/log_path.ts";
import {
  checkVersionAvailable,
  completeCheckpointVersions,
  TableNotFoundError,
} from "../delta/log_segment.ts";
import { mapLimit } from "../util/concurrency.ts";
import type { Table } from "./table.ts";

/** One entry of the history. */
export interface HistoryEntry {
  version: number;
  /**
   * The commit's time: `commitInfo.inCommitTimestamp` when the commit has one
   * (the inCommitTimestamp feature makes it the commit's timestamp, which
   * `commitInfo.timestamp` and the file time need not equal), else
   * `commitInfo.timestamp`, else the commit file's modification time.
   */
  timestamp: number;
  operation: string | undefined;
  operationParameters: Record<string, unknown> | undefined;
  engineInfo: string | undefined;
  txnId: string | undefined;
  /** Counts of the actions in the commit, by kind. */
  actions: Record<string, number>;
}

/** Options of `readHistory`. */
export interface HistoryOptions {
  /** At most this many entries. @default all */
  limit?: number;
  /**
   * Only the commits up to this version, which must lie between the earliest
   * version that can be reconstructed and the latest (else
   * `VersionUnavailableError`). @default the latest
   */
  version?: number;
}

/** Reads the history, newest first. */
export async function readHistory(
  table: Table,
  options: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const files: ParsedLogPath[] = [];
  const commits: { version: number; key: string; lastModified: number }[] = [];
  for await (const meta of table.store.list(`${LOG_DIR}/`)) {
    const parsed = parseLogPath(meta.key);
    if (parsed) files.push(parsed);
    if (parsed?.type === "commit") {
      commits.push({ version: parsed.version, key: meta.key, lastModified: meta.lastModified });
    }
  }
  // A log cleaned up down to a checkpoint (the commits it replaces deleted)
  // is a table with no history left to show, not a missing table.
  if (commits.length === 0 && completeCheckpointVersions(files).length === 0) {
    throw new TableNotFoundError(table.uri);
  }
  const upTo = options.version ?? Infinity;
  if (options.version !== undefined) checkVersionAvailable(files, options.version, table.uri);
  const kept = commits.filter((c) => c.version <= upTo).sort((a, b) => b.version - a.version);
  const chosen = kept.slice(0, Math.min(kept.length, options.limit ?? Infinity));
  return await mapLimit(chosen, 16, async (c) => {
    const bytes = await table.store.get(c.key);
    const actions = bytes ? parseCommit(new TextDecoder().decode(bytes), c.key) : [];
    let info: CommitInfo | undefined;
    const counts: Record<string, number> = {};
    for (const a of actions) {
      const kind = Object.keys(a)[0]!;
      if ("commitInfo" in a) info = a.commitInfo;
      else counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return {
      version: c.version,
      timestamp: typeof info?.inCommitTimestamp === "number"
        ? info.inCommitTimestamp
        : typeof info?.timestamp === "number"
        ? info.timestamp
        : c.lastModified,
      operation: info?.operation,
      operationParameters: info?.operationParameters,
      engineInfo: info?.engineInfo,
      txnId: info?.txnId,
      actions: counts,
    };
  });
}
