/**
 * The log segment of a version: the newest complete checkpoint at or before
 * it, plus the contiguous JSON commits after the checkpoint up to the version.
 * Finding it takes one `_last_checkpoint` read and one listing from the
 * hinted version (a full listing when there is no usable hint).
 *
 * Invariants:
 * - The commits of a segment have no gaps, and the segment ends at the
 *   newest commit listed: a missing commit is an error that names it, never
 *   the end of the table (so no writer can commit into a hole).
 * - A multi-part checkpoint is used only when all its parts are present;
 *   an incomplete one is skipped for an older complete checkpoint, as the
 *   protocol requires of readers.
 * - `_last_checkpoint` is only a hint: a stale one is corrected by the
 *   listing, and one that points at no checkpoint is reported (by
 *   `hintProblem`) and read past with a full listing, as Spark does.
 * - A version asked for lies between the earliest that can be
 *   reconstructed (commit 0, else the oldest complete checkpoint) and the
 *   latest, or `VersionUnavailableError` says which bound it passed.
 *
 * Where a listing reads a whole directory and a `head` is a local `stat`,
 * `probeLogSegment` finds the latest segment without a listing: the hinted
 * checkpoint's files, then the commits after it looked up one by one. It
 * keeps the gap invariant as far as lookups can: see its comment.
 */

import type { ObjectStore } from "../storage/object_store.ts";
import { log } from "../util/log.ts";
import { sleep } from "../util/backoff.ts";
import {
  checkpointKey,
  commitKey,
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  multipartCheckpointKey,
  padVersion,
  type ParsedLogPath,
  parseLogPath,
} from "./log_path.ts";

/** The `v2Checkpoint` field of `_last_checkpoint` (PROTOCOL.md, "Last Checkpoint File"). */
export interface LastCheckpointV2 {
  /** The file name of the UUID-named checkpoint inside `_delta_log/`. */
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  nonFileActions?: unknown[];
  sidecarFiles?: unknown[];
}

/** The content of `_last_checkpoint` that readers use. */
export interface LastCheckpoint {
  version: number;
  size: number;
  parts?: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
  v2Checkpoint?: LastCheckpointV2;
}

/** A checkpoint chosen for a segment. */
export interface SegmentCheckpoint {
  version: number;
  /** The keys of its top-level files: the parts in part order, or the one file. */
  keys: string[];
}

/** What must be read to reconstruct one version. */
export interface LogSegment {
  version: number;
  checkpoint: SegmentCheckpoint | undefined;
  /** Commits after the checkpoint, ascending, ending at `version`. */
  commits: ParsedLogPath[];
  /** The newest version present in the log (at listing time). */
  latestVersion: number;
}

/** Raised when the table root holds no Delta log. */
export class TableNotFoundError extends Error {
  constructor(uri: string) {
    super(`No Delta table at ${uri}: there is no _delta_log with commits`);
    this.name = "TableNotFoundError";
  }
}

/** Reads `_last_checkpoint`, or undefined if it is absent or unreadable. */
export async function readLastCheckpoint(store: ObjectStore): Promise<LastCheckpoint | undefined> {
  const bytes = await store.get(LAST_CHECKPOINT_KEY);
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    if (!Number.isSafeInteger(value?.version) || value.version < 0) return undefined;
    return value as LastCheckpoint;
  } catch {
    // A torn or foreign hint is only a hint: the listing decides.
    return undefined;
  }
}

/**
 * Finds the segment for `version` (the latest if undefined). Throws
 * `TableNotFoundError` if there is no log, and an error naming the missing
 * version if the log cannot reconstruct the version asked for.
 */
export async function buildLogSegment(
  store: ObjectStore,
  version?: number,
): Promise<LogSegment> {
  for (let attempt = 1;; attempt++) {
    try {
      return await buildOnce(store, version);
    } catch (error) {
      if (!(error instanceof LogGapError) || attempt >= LISTING_ATTEMPTS) throw error;
      await sleep(LISTING_RETRY_MS * attempt);
    }
  }
}

/**
 * Listings a gap must survive before it is reported. A listing is not a
 * snapshot: a local directory read while commits are linked into it can
 * return commit N + 1 and miss commit N, created just before it, and an
 * eventually consistent store can do the same. A commit that is really
 * missing is missing from every listing.
 */
const LISTING_ATTEMPTS = 3;
const LISTING_RETRY_MS = 25;

/** A gap in the commits of a segment (internal: retried, then thrown). */
class LogGapError extends Error {}

async function buildOnce(store: ObjectStore, version: number | undefined): Promise<LogSegment> {
  const hint = await readLastCheckpoint(store);
  if (hint !== undefined && (version === undefined || hint.version <= version)) {
    const files = await listLog(store, `${LOG_DIR}/${padVersion(hint.version)}`);
    const problem = hintProblem(hint, files);
    if (problem === undefined) {
      const segment = segmentFrom(files, version);
      if (segment?.checkpoint) {
        checkSegment(segment, version, store.uri, files);
        return segment;
      }
    }
    // Readers that trust the hint (delta-rs) refuse such a table; the log
    // itself is whole, so read it from the start, as Spark does.
    log("delta").warn(
      "{uri}: _last_checkpoint is not usable ({problem}); reading the whole log instead. Writing a checkpoint repairs it",
      { uri: store.uri, problem: problem ?? "it names no complete checkpoint" },
    );
  }
  const files = await listLog(store, undefined);
  const segment = segmentFrom(files, version);
  if (!segment) throw new TableNotFoundError(store.uri);
  if (version !== undefined) checkVersionAvailable(files, version, store.uri);
  checkSegment(segment, version, store.uri, files);
  return segment;
}

/** A segment found by `probeLogSegment`, with what its caller must still check. */
export interface ProbedSegment {
  segment: LogSegment;
  /**
   * When the newest commit found was last modified (epoch ms): the commit
   * after it, absent, can only be younger. The caller trusts the segment
   * only if no log cleanup that keeps the table's retention can have
   * deleted that commit (`probeIsTrusted`).
   */
  lastCommitModified: number;
}

/**
 * Commits looked up past the first absent one. A commit among them means a
 * gap: the listing then reports it by name. Lookups cost microseconds each.
 */
const GAP_LOOKAHEAD = 16;

/**
 * Finds the segment of the latest version from `_last_checkpoint` by lookups
 * alone, for stores whose listing reads the whole log directory and whose
 * `head` is cheap (a local disk, `headIsCheap`): the hinted checkpoint's
 * files and the commit at its version N must exist, then commits N + 1,
 * N + 2, ... are looked up until one is absent. Resolves undefined (the
 * caller lists) when there is no hint, a hinted file or commit N is
 * missing, or a commit exists within `GAP_LOOKAHEAD` versions after the
 * first absent one.
 *
 * Versions are contiguous by protocol, and put-if-absent lets no writer
 * create commit K before K - 1 exists, so an absent commit after present
 * ones is the end of the table unless commits were deleted. Log cleanup
 * deletes only commits older than the log retention and below a
 * checkpoint; commit N goes only under a newer checkpoint than the hint's,
 * and the caller rules out the cleanup of the first absent commit with
 * `probeIsTrusted` once the table's retention is known. What lookups
 * cannot see is a run of more than `GAP_LOOKAHEAD` commits deleted by
 * hand after the hinted checkpoint with later commits left in place.
 * A newer checkpoint than the hint's is not needed: replaying from the
 * hinted one gives the same state.
 */
export async function probeLogSegment(store: ObjectStore): Promise<ProbedSegment | undefined> {
  const hint = await readLastCheckpoint(store);
  const keys = hint && hintedCheckpointKeys(hint);
  if (!hint || !keys) return undefined;
  for (const key of keys) if (!await store.head(key)) return undefined;
  const commits: ParsedLogPath[] = [];
  let lastCommitModified: number | undefined;
  let next = hint.version;
  for (;; next++) {
    const key = commitKey(next);
    const meta = await store.head(key);
    if (!meta) break;
    if (next > hint.version) commits.push({ key, version: next, type: "commit" });
    lastCommitModified = meta.lastModified;
  }
  if (lastCommitModified === undefined) return undefined;
  for (let ahead = 1; ahead <= GAP_LOOKAHEAD; ahead++) {
    if (await store.head(commitKey(next + ahead))) return undefined;
  }
  const latest = next - 1;
  return {
    segment: {
      version: latest,
      checkpoint: { version: hint.version, keys },
      commits,
      latestVersion: latest,
    },
    lastCommitModified,
  };
}

/**
 * Whether a probed segment stands: its newest commit is younger than half
 * the log retention (`retentionMs`, the table's `delta.logRetentionDuration`
 * or the default 30 days), so the absent commit after it is younger still
 * and no cleanup that keeps the retention can have deleted it. The half
 * leaves room for clocks that differ and for a cleanup forced to a shorter
 * retention than the table's. A table idle for longer is listed instead.
 */
export function probeIsTrusted(
  probed: ProbedSegment,
  retentionMs: number,
  nowMs: number,
): boolean {
  return nowMs - probed.lastCommitModified < retentionMs / 2;
}

/** The keys of the checkpoint `hint` describes, or undefined if it names no file of the log. */
function hintedCheckpointKeys(hint: LastCheckpoint): string[] | undefined {
  if (hint.v2Checkpoint) {
    const parsed = parseLogPath(`${LOG_DIR}/${hint.v2Checkpoint.path}`);
    return parsed && parsed.version === hint.version && isCheckpoint(parsed)
      ? [parsed.key]
      : undefined;
  }
  const parts = hint.parts ?? 1;
  if (!Number.isSafeInteger(parts) || parts < 1) return undefined;
  if (parts === 1) return [checkpointKey(hint.version)];
  return Array.from(
    { length: parts },
    (_, i) => multipartCheckpointKey(hint.version, i + 1, parts),
  );
}

/**
 * What is wrong with `hint` given a listing of the log from its version on,
 * or undefined if a reader that trusts it (delta-rs, delta-kernel) can use
 * it: a complete checkpoint exists at or after its version, and the one at
 * its version has the form it describes.
 */
export function hintProblem(
  hint: LastCheckpoint,
  files: readonly ParsedLogPath[],
): string | undefined {
  const at = files.filter((f) => f.version === hint.version && isCheckpoint(f));
  const later = completeCheckpointVersions(files).filter((v) => v > hint.version);
  const name = `version ${hint.version}`;
  if (hint.v2Checkpoint) {
    // Any single-file checkpoint at its version serves as well (delta-kernel checks the count).
    const key = `${LOG_DIR}/${hint.v2Checkpoint.path}`;
    const single = at.some((f) => f.type !== "multipart-checkpoint" || f.parts === 1);
    if (at.some((f) => f.key === key) || single || later.length > 0) return undefined;
    return `it names the checkpoint ${key}, which does not exist`;
  }
  const parts = hint.parts ?? 1;
  const complete = completeCheckpoint(at);
  if (complete === undefined) {
    if (later.length > 0) return undefined;
    return at.length > 0
      ? `it names the checkpoint at ${name}, which is incomplete`
      : `it names a checkpoint at ${name}, which does not exist`;
  }
  const withParts = at.filter((f) => f.type === "multipart-checkpoint" && f.parts === parts);
  const matches = parts === 1
    ? at.some((f) => f.type !== "multipart-checkpoint" || f.parts === 1)
    : new Set(withParts.map((f) => f.part)).size === parts;
  return matches
    ? undefined
    : `it says the checkpoint at ${name} has ${parts} part${
      parts === 1 ? "" : "s"
    }, and no such checkpoint is complete`;
}

/** Lists the log files after `startAfter` (all if undefined), parsed. */
export async function listLog(
  store: ObjectStore,
  startAfter: string | undefined,
): Promise<ParsedLogPath[]> {
  const out: ParsedLogPath[] = [];
  for await (const meta of store.list(`${LOG_DIR}/`, startAfter)) {
    const parsed = parseLogPath(meta.key);
    if (parsed) out.push(parsed);
  }
  return out;
}

function isCheckpoint(f: ParsedLogPath): boolean {
  return f.type === "checkpoint" || f.type === "multipart-checkpoint" ||
    f.type === "uuid-checkpoint";
}

/** The versions that hold a complete checkpoint, ascending. */
export function completeCheckpointVersions(files: readonly ParsedLogPath[]): number[] {
  const byVersion = groupCheckpoints(files);
  return [...byVersion.keys()]
    .filter((v) => completeCheckpoint(byVersion.get(v)!) !== undefined)
    .sort((a, b) => a - b);
}

function groupCheckpoints(files: readonly ParsedLogPath[]): Map<number, ParsedLogPath[]> {
  const checkpoints = new Map<number, ParsedLogPath[]>();
  for (const f of files) {
    if (!isCheckpoint(f)) continue;
    const list = checkpoints.get(f.version) ?? [];
    list.push(f);
    checkpoints.set(f.version, list);
  }
  return checkpoints;
}

/** Picks the checkpoint and commits for `version` from a listing. */
function segmentFrom(
  files: readonly ParsedLogPath[],
  version: number | undefined,
): LogSegment | undefined {
  const commits = new Map<number, ParsedLogPath>();
  let latest = -1;
  for (const f of files) {
    if (f.type === "commit") commits.set(f.version, f);
    if (f.type === "commit" || isCheckpoint(f)) latest = Math.max(latest, f.version);
  }
  if (latest < 0) return undefined;
  const target = version ?? latest;
  const checkpoints = groupCheckpoints(files);
  let chosen: SegmentCheckpoint | undefined;
  const candidates = [...checkpoints.keys()].filter((v) => v <= target).sort((a, b) => b - a);
  for (const v of candidates) {
    const complete = completeCheckpoint(checkpoints.get(v)!);
    if (complete) {
      chosen = { version: v, keys: complete };
      break;
    }
  }
  const start = chosen ? chosen.version + 1 : 0;
  const segmentCommits: ParsedLogPath[] = [];
  for (let v = start; v <= target; v++) {
    const c = commits.get(v);
    // A gap is reported by checkSegment with the right message.
    if (!c) break;
    segmentCommits.push(c);
  }
  return { version: target, checkpoint: chosen, commits: segmentCommits, latestVersion: latest };
}

/**
 * Returns the keys of a complete checkpoint at one version, or undefined.
 * All complete forms hold the same state; the order of preference follows
 * delta-kernel: a UUID-named (v2) checkpoint (the greatest name), then the
 * complete multi-part checkpoint with the most parts, then a classic one.
 */
function completeCheckpoint(files: readonly ParsedLogPath[]): string[] | undefined {
  const uuid = files.filter((f) => f.type === "uuid-checkpoint").map((f) => f.key).sort();
  if (uuid.length > 0) return [uuid[uuid.length - 1]!];
  const byCount = new Map<number, Map<number, string>>();
  for (const f of files) {
    if (f.type !== "multipart-checkpoint") continue;
    const parts = byCount.get(f.parts!) ?? new Map<number, string>();
    parts.set(f.part!, f.key);
    byCount.set(f.parts!, parts);
  }
  const counts = [...byCount.keys()].sort((a, b) => b - a);
  for (const count of counts) {
    const parts = byCount.get(count)!;
    const keys: string[] = [];
    for (let p = 1; p <= count; p++) {
      const key = parts.get(p);
      if (!key) break;
      keys.push(key);
    }
    if (keys.length === count) return keys;
  }
  const single = files.find((f) => f.type === "checkpoint");
  return single ? [single.key] : undefined;
}

function checkSegment(
  segment: LogSegment,
  version: number | undefined,
  uri: string,
  files: readonly ParsedLogPath[],
): void {
  if (version !== undefined && version > segment.latestVersion) {
    throw new VersionUnavailableError(
      `Version ${version} of ${uri} does not exist: the latest version is ${segment.latestVersion}`,
      version,
    );
  }
  const start = segment.checkpoint ? segment.checkpoint.version + 1 : 0;
  const expected = segment.version - start + 1;
  if (segment.commits.length !== expected) {
    const missing = start + segment.commits.length;
    const base = segment.checkpoint
      ? `after the checkpoint at version ${segment.checkpoint.version}`
      : "and there is no checkpoint before it";
    throw new LogGapError(
      `Cannot reconstruct version ${segment.version} of ${uri}: commit ${missing} is missing ${base}${
        incompleteNote(files, start, segment.version)
      } (the log may have been cleaned up or damaged)`,
    );
  }
}

/** Says which checkpoints in [from, to] were skipped because parts are missing. */
function incompleteNote(files: readonly ParsedLogPath[], from: number, to: number): string {
  const torn: string[] = [];
  for (const [v, group] of groupCheckpoints(files)) {
    if (v < from || v > to || completeCheckpoint(group)) continue;
    const first = group[0]!;
    const have = new Set(group.map((f) => f.part)).size;
    torn.push(`version ${v} has ${have} of its ${first.parts} parts`);
  }
  return torn.length ? `, and the checkpoint at ${torn.sort().join(", at ")}` : "";
}

/**
 * The earliest version that can be reconstructed: 0 when its commit is
 * there, else the oldest complete checkpoint at or before `latest` (earlier
 * commits were cleaned up); undefined when there is neither.
 */
export function earliestReadableVersion(
  files: readonly ParsedLogPath[],
  latest: number,
): number | undefined {
  if (files.some((f) => f.type === "commit" && f.version === 0)) return 0;
  return completeCheckpointVersions(files).filter((v) => v <= latest)[0];
}

/**
 * Raised for a version that the log cannot give: after its latest version,
 * or before the earliest one that can be reconstructed.
 */
export class VersionUnavailableError extends RangeError {
  /** The version asked for. */
  readonly version: number;
  constructor(message: string, version: number) {
    super(message);
    this.name = "VersionUnavailableError";
    this.version = version;
  }
}

/**
 * Throws `VersionUnavailableError` unless `version` lies between the
 * earliest version the log `files` can reconstruct and the latest it holds.
 * A gap in between is not judged here (loading that version names it).
 */
export function checkVersionAvailable(
  files: readonly ParsedLogPath[],
  version: number,
  where: string,
): void {
  let latest = -1;
  for (const f of files) {
    if (f.type !== "crc" && f.type !== "compacted") latest = Math.max(latest, f.version);
  }
  if (latest < 0) throw new VersionUnavailableError(`${where} has no log`, version);
  if (version > latest) {
    throw new VersionUnavailableError(
      `Version ${version} of ${where} does not exist: the latest version is ${latest}`,
      version,
    );
  }
  const earliest = earliestReadableVersion(files, latest);
  if (earliest === undefined) {
    throw new VersionUnavailableError(
      `Cannot reconstruct version ${version} of ${where}: the log has neither commit 0 nor a complete checkpoint to start from`,
      version,
    );
  }
  if (version < earliest) {
    throw new VersionUnavailableError(
      `Cannot reconstruct version ${version} of ${where}: the earliest version that can be is ${earliest}, its oldest checkpoint (the commits before it were cleaned up)`,
      version,
    );
  }
}
