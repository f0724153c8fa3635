/**
 * `verify`: prove that a table is whole. Every referenced file exists with
 * its logged size, each file's row count matches its statistics (and its
 * deletion vector, if any, reads and deletes only rows the file has), the log has
 * no gaps, and the newest checkpoint agrees with a replay of the commits it
 * summarises. Each check reports what it found; a check that cannot run (its
 * inputs were cleaned up) says so instead of passing silently. An older
 * version is verified as a reader of it would find it: its files, the
 * commits up to it, and the newest checkpoint at or before it.
 */

import type { ObjectMeta, ObjectStore } from "../storage/object_store.ts";
import { mapLimit } from "../util/concurrency.ts";
import {
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  type ParsedLogPath,
  parseLogPath,
} from "../delta/log_path.ts";
import {
  checkVersionAvailable,
  completeCheckpointVersions,
  hintProblem,
  readLastCheckpoint,
  TableNotFoundError,
} from "../delta/log_segment.ts";
import { loadSnapshot, type Snapshot } from "../delta/snapshot.ts";
import { decodeFilePath } from "../delta/partition.ts";
import { openParquet } from "../parquet/decode.ts";
import { numRecordsOf } from "./describe.ts";
import { deletedRowsOf } from "./deletion_vectors.ts";
import { objectSourceOf } from "./object_source.ts";
import { snapshotOf, type Table } from "./table.ts";
import { activeFiles } from "../delta/replay.ts";

/** The result of one check. */
export interface VerifyCheck {
  name: string;
  passed: boolean;
  /** True when the check could not run; `passed` is then true and `detail` says why. */
  skipped: boolean;
  /**
   * True when the check passed with a finding worth repairing that readers
   * go past (a damaged or stale `_last_checkpoint`): `detail` and `problems`
   * say what and where.
   */
  warning?: boolean;
  detail: string;
  /** The first problems found (at most 20). */
  problems: string[];
}

/** The result of `verify`. */
export interface VerifyReport {
  table: string;
  version: number;
  files: number;
  passed: boolean;
  checks: VerifyCheck[];
}

const MAX_PROBLEMS = 20;

/** Options of `verifyTable`. */
export interface VerifyOptions {
  /** Told after each data file's footer is checked: how many of how many. */
  onFile?: (done: number, total: number) => void;
  /**
   * The version to verify, which must lie between the earliest version that
   * can be reconstructed and the latest (else `VersionUnavailableError`).
   * @default the latest
   */
  version?: number;
}

/** Verifies the latest version of a table, or the version `options.version`. */
export async function verifyTable(
  table: Table,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const logListing: ObjectMeta[] = [];
  for await (const meta of table.store.list(`${LOG_DIR}/`)) logListing.push(meta);
  const { version } = options;
  if (version !== undefined) {
    const files = logListing.map((m) => parseLogPath(m.key)).filter((p) => p !== undefined);
    if (files.length === 0) throw new TableNotFoundError(table.uri);
    checkVersionAvailable(files, version, table.uri);
  }
  checks.push(checkLogContiguous(logListing, version));
  checks.push(await checkHint(table.store, logListing));
  let snapshot: Snapshot;
  try {
    snapshot = await snapshotOf(table, version === undefined ? {} : { version });
  } catch (error) {
    if (!logListing.some((m) => parseLogPath(m.key))) throw error;
    // A damaged log (a gap, a missing checkpoint part) is a finding, reported with the rest.
    checks.push({
      name: "table_loads",
      passed: false,
      skipped: false,
      detail: `${
        version === undefined ? "the latest version" : `version ${version}`
      } cannot be reconstructed`,
      problems: [(error as Error).message],
    });
    const versions = logListing.map((m) => parseLogPath(m.key)?.version ?? -1);
    return {
      table: table.uri,
      version: version ?? Math.max(...versions),
      files: 0,
      passed: false,
      checks,
    };
  }
  const files = [...activeFiles(snapshot)];

  // Files exist with their logged sizes (one listing, not one request per file).
  const sizes = new Map<string, number>();
  for await (const meta of table.store.list("")) sizes.set(meta.key, meta.size);
  const missing: string[] = [];
  let sizeMismatch = 0;
  for (const add of files) {
    const key = decodeFilePath(add.path);
    const size = sizes.get(key);
    if (size === undefined) missing.push(`missing: ${key}`);
    else if (size !== add.size) {
      sizeMismatch++;
      missing.push(`size of ${key} is ${size} bytes, the log says ${add.size}`);
    }
  }
  checks.push({
    name: "files_exist",
    passed: missing.length === 0,
    skipped: false,
    detail: missing.length === 0
      ? `all ${files.length} referenced files exist with their logged sizes`
      : `${missing.length - sizeMismatch} missing, ${sizeMismatch} with the wrong size`,
    problems: missing.slice(0, MAX_PROBLEMS),
  });

  // Row counts in the Parquet footers match the statistics, and deletion
  // vectors delete rows the files have.
  const countProblems: string[] = [];
  let counted = 0;
  let withoutStats = 0;
  let liveRows = 0;
  let done = 0;
  await mapLimit(files, 16, async (add) => {
    try {
      await checkRowCount(add);
    } finally {
      options.onFile?.(++done, files.length);
    }
  });
  async function checkRowCount(add: (typeof files)[number]): Promise<void> {
    const key = decodeFilePath(add.path);
    if (!sizes.has(key)) return;
    const expected = numRecordsOf(add.stats);
    if (expected === undefined) {
      withoutStats++;
      return;
    }
    try {
      // Only the footer is needed: read by ranges, not the whole file.
      const file = await openParquet(
        await objectSourceOf(table.store, key, sizes.get(key), { ranges: true }),
      );
      counted++;
      if (file.numRows !== expected) {
        countProblems.push(`${key} holds ${file.numRows} rows, its stats say ${expected}`);
      }
      const deleted = await deletedRowsOf(table, add);
      const last = deleted.length ? deleted[deleted.length - 1]! : -1;
      if (last >= file.numRows) {
        countProblems.push(
          `${key} holds ${file.numRows} rows, its deletion vector deletes row ${last}`,
        );
      }
      liveRows += file.numRows - deleted.length;
    } catch (error) {
      countProblems.push(`${key} cannot be read: ${(error as Error).message}`);
    }
  }
  checks.push({
    name: "row_counts_match_stats",
    passed: countProblems.length === 0,
    skipped: false,
    detail: `${counted.toLocaleString("en-US")} files checked (${
      liveRows.toLocaleString("en-US")
    } live rows)${withoutStats ? `, ${withoutStats} without stats` : ""}${
      countProblems.length ? `, ${countProblems.length} wrong` : ""
    }`,
    problems: countProblems.slice(0, MAX_PROBLEMS),
  });

  checks.push(await checkCheckpointAgrees(table, snapshot));
  return {
    table: table.uri,
    version: snapshot.version,
    files: files.length,
    passed: checks.every((c) => c.passed),
    checks,
  };
}

/**
 * The commits present form one run with no gaps, ending at the newest (or,
 * verifying an older version, the commits up to it), and starting at
 * version 0 or at most one after a complete checkpoint: the commits before
 * the first one present were cleaned up only if a checkpoint replaces them.
 */
function checkLogContiguous(listing: ObjectMeta[], upTo = Infinity): VerifyCheck {
  const parsed = listing.map((m) => parseLogPath(m.key)).filter((p) => p !== undefined);
  const versions = parsed
    .filter((p) => p.type === "commit" && p.version <= upTo)
    .map((p) => p.version)
    .sort((a, b) => a - b);
  const checkpoints = completeCheckpointVersions(parsed).filter((v) => v <= upTo);
  if (versions.length === 0) {
    // Cleaned up down to a checkpoint: it replaces every commit up to it.
    const checkpoint = checkpoints.at(-1);
    if (checkpoint !== undefined) {
      return {
        name: "log_has_no_gaps",
        passed: true,
        skipped: false,
        detail:
          `no commits after the checkpoint at version ${checkpoint}, which replaces the commits up to it`,
        problems: [],
      };
    }
  }
  const problems: string[] = [];
  // Before the first commit: the ones a checkpoint does not replace (the
  // first commit after the newest checkpoint before it, lost).
  const first = versions[0];
  if (first !== undefined && first > 0 && !checkpoints.some((v) => v >= first - 1)) {
    // Every checkpoint is then below first - 1: from after the newest one.
    const from = (checkpoints.at(-1) ?? -1) + 1;
    problems.push(
      from === first - 1
        ? `version ${from} is missing`
        : `versions ${from} to ${first - 1} are missing`,
    );
  }
  for (let i = 1; i < versions.length; i++) {
    if (versions[i] !== versions[i - 1]! + 1) {
      const from = versions[i - 1]! + 1;
      const to = versions[i]! - 1;
      problems.push(
        from === to ? `version ${from} is missing` : `versions ${from} to ${to} are missing`,
      );
    }
  }
  const last = versions[versions.length - 1];
  return {
    name: "log_has_no_gaps",
    passed: problems.length === 0 && versions.length > 0,
    skipped: false,
    detail: versions.length === 0
      ? "the log holds no commits"
      : `commits ${first} to ${last} are present${problems.length ? ", with gaps" : ""}`,
    problems: problems.slice(0, MAX_PROBLEMS),
  };
}

/**
 * `_last_checkpoint`, if present, points at a checkpoint that exists in the
 * form it describes: delta-rs and delta-kernel trust it and refuse a table
 * whose hint points at nothing, although neuralake reads past it. A hint
 * that cannot be read at all (empty, torn, not JSON, no version) is only a
 * warning: PROTOCOL.md makes the file a hint, readers ignore it and list
 * the log, and so was the table verified. So is a hint that names a
 * checkpoint since deleted when a newer one exists: readers that list from
 * its version find the newer one.
 */
async function checkHint(store: ObjectStore, listing: ObjectMeta[]): Promise<VerifyCheck> {
  const name = "last_checkpoint_exists";
  if (!listing.some((m) => m.key === LAST_CHECKPOINT_KEY)) {
    return {
      name,
      passed: true,
      skipped: true,
      detail: "there is no _last_checkpoint",
      problems: [],
    };
  }
  const hint = await readLastCheckpoint(store);
  if (!hint) {
    return {
      name,
      passed: true,
      skipped: false,
      warning: true,
      detail: `${LAST_CHECKPOINT_KEY} cannot be read, so readers list the log instead, ` +
        "as this check did: write a checkpoint (neuralake checkpoint) to replace it",
      problems: [`${LAST_CHECKPOINT_KEY}: ${await hintDamage(store)}`],
    };
  }
  const files = listing
    .map((m) => parseLogPath(m.key))
    .filter((p) => p !== undefined && p.version >= hint.version) as ParsedLogPath[];
  const problem = hintProblem(hint, files);
  if (problem !== undefined) {
    return {
      name,
      passed: false,
      skipped: false,
      detail:
        "_last_checkpoint points at nothing usable, so other engines cannot open the table: " +
        "write a checkpoint (neuralake checkpoint) to repair it",
      problems: [`_last_checkpoint: ${problem}`],
    };
  }
  const at = completeCheckpointVersions(files).filter((v) => v === hint.version);
  const newer = completeCheckpointVersions(files).filter((v) => v > hint.version);
  if (at.length === 0 && newer.length > 0) {
    // hintProblem accepts it: a listing from the hinted version finds the newer one.
    const found = Math.min(...newer);
    return {
      name,
      passed: true,
      skipped: false,
      warning: true,
      detail: `_last_checkpoint names version ${hint.version}, whose checkpoint is gone; ` +
        `readers that list from there find the checkpoint at version ${found}`,
      problems: [
        `${LAST_CHECKPOINT_KEY}: it names a checkpoint at version ${hint.version}, which does not exist`,
      ],
    };
  }
  return {
    name,
    passed: true,
    skipped: false,
    detail: `_last_checkpoint points at the checkpoint at version ${hint.version}`,
    problems: [],
  };
}

/** What is wrong with a `_last_checkpoint` that `readLastCheckpoint` cannot use. */
async function hintDamage(store: ObjectStore): Promise<string> {
  const bytes = await store.get(LAST_CHECKPOINT_KEY);
  if (!bytes || bytes.length === 0) return "the file is empty";
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return `the file is not JSON (${(error as Error).message})`;
  }
  return `the file is not a JSON object with a non-negative integer version: ${
    JSON.stringify(value).slice(0, 80)
  }`;
}

/**
 * The newest checkpoint equals a replay that does not use it (from an older
 * checkpoint or from version 0).
 */
async function checkCheckpointAgrees(table: Table, snapshot: Snapshot): Promise<VerifyCheck> {
  const name = "checkpoint_matches_replay";
  const checkpoint = snapshot.segment.checkpoint;
  if (!checkpoint) {
    return {
      name,
      passed: true,
      skipped: true,
      detail: "the table has no checkpoint",
      problems: [],
    };
  }
  const fromCheckpoint = await loadSnapshot(table.store, table.codec, {
    version: checkpoint.version,
  });
  let replayed: Snapshot;
  try {
    replayed = await loadSnapshot(hideCheckpoint(table.store, checkpoint.keys), table.codec, {
      version: checkpoint.version,
    });
  } catch (error) {
    return {
      name,
      passed: true,
      skipped: true,
      detail: `cannot replay version ${checkpoint.version} without its checkpoint: ${
        (error as Error).message
      }`,
      problems: [],
    };
  }
  const problems: string[] = [];
  for (const [path, add] of replayed.files) {
    const other = fromCheckpoint.files.get(path);
    if (!other) problems.push(`the checkpoint lacks ${path}`);
    else if (other.size !== add.size) {
      problems.push(`the checkpoint gives ${path} size ${other.size}, the log ${add.size}`);
    }
  }
  for (const path of fromCheckpoint.files.keys()) {
    if (!replayed.files.has(path)) {
      problems.push(`the checkpoint has ${path}, which the log removed or never added`);
    }
  }
  for (const [appId, txn] of replayed.txns) {
    if (fromCheckpoint.txns.get(appId)?.version !== txn.version) {
      problems.push(
        `txn ${appId}: the checkpoint says ${
          fromCheckpoint.txns.get(appId)?.version
        }, the log ${txn.version}`,
      );
    }
  }
  if (
    fromCheckpoint.metadata.id !== replayed.metadata.id ||
    fromCheckpoint.metadata.schemaString !== replayed.metadata.schemaString
  ) {
    problems.push("the checkpoint's metadata differs from the log's");
  }
  if (JSON.stringify(fromCheckpoint.protocol) !== JSON.stringify(replayed.protocol)) {
    problems.push("the checkpoint's protocol differs from the log's");
  }
  return {
    name,
    passed: problems.length === 0,
    skipped: false,
    detail:
      `checkpoint ${checkpoint.version} (${fromCheckpoint.files.size} files) against a replay ${
        replayed.segment.checkpoint
          ? `from checkpoint ${replayed.segment.checkpoint.version}`
          : "from version 0"
      }`,
    problems: problems.slice(0, MAX_PROBLEMS),
  };
}

/** A read-only view of a store in which some checkpoint files do not exist. */
function hideCheckpoint(store: ObjectStore, keys: string[]): ObjectStore {
  const hidden = new Set([...keys, LAST_CHECKPOINT_KEY]);
  return {
    uri: store.uri,
    get: (key, range) => hidden.has(key) ? Promise.resolve(undefined) : store.get(key, range),
    head: (key) => hidden.has(key) ? Promise.resolve(undefined) : store.head(key),
    async *list(prefix, startAfter) {
      for await (const meta of store.list(prefix, startAfter)) {
        if (!hidden.has(meta.key)) yield meta;
      }
    },
    put: () => Promise.reject(new Error("read-only view")),
    putIfAbsent: () => Promise.reject(new Error("read-only view")),
    delete: () => Promise.reject(new Error("read-only view")),
  };
}
