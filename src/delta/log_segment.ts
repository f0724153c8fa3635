/**
 * The log segment of a version: the newest complete checkpoint at or before
 * it, plus the contiguous JSON commits after the checkpoint up to the version.
 * Finding it takes one `_last_checkpoint` read and one listing.
 *
 * Invariants: the commits of a segment have no gaps; a multi-part checkpoint
 * is used only when all its parts are present; a missing or stale
 * `_last_checkpoint` is corrected by the listing.
 */

import type { ObjectStore } from "../storage/object_store.ts";
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

/** The content of `_last_checkpoint` that readers use. */
export interface LastCheckpoint {
  version: number;
  size: number;
  parts?: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
}

/** A checkpoint chosen for a segment. */
export interface SegmentCheckpoint {
  version: number;
  /** The keys of its parts, in part order. */
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
    if (typeof value?.version !== "number") return undefined;
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
  const hint = await readLastCheckpoint(store);
  const useHint = hint !== undefined && (version === undefined || hint.version <= version);
  if (useHint && version === undefined && store.listIsCostly) {
    const probed = await probeFromHint(store, hint!);
    if (probed) return probed;
  }
  if (useHint) {
    const files = await listLog(store, `${LOG_DIR}/${padVersion(hint!.version)}`);
    const segment = segmentFrom(files, version);
    if (segment?.checkpoint && segment.checkpoint.version >= hint!.version) {
      checkSegment(segment, version, store.uri);
      return segment;
    }
    // The hinted checkpoint is missing or incomplete: fall back to a full listing.
  }
  const files = await listLog(store, undefined);
  const segment = segmentFrom(files, version);
  if (!segment) throw new TableNotFoundError(store.uri);
  checkSegment(segment, version, store.uri);
  return segment;
}

/**
 * For stores where a listing reads a whole directory: the segment of the
 * latest version from the hinted checkpoint and the commits found after it
 * by looking them up in turn, 16 at a time, up to the first that is absent.
 * A newer checkpoint that the hint does not know is not needed: replaying
 * from an older one gives the same state. Returns undefined if the hinted
 * checkpoint is not all there.
 */
async function probeFromHint(
  store: ObjectStore,
  hint: LastCheckpoint,
): Promise<LogSegment | undefined> {
  const parts = hint.parts ?? 1;
  const keys = parts === 1
    ? [checkpointKey(hint.version)]
    : Array.from({ length: parts }, (_, i) => multipartCheckpointKey(hint.version, i + 1, parts));
  const present = await Promise.all(keys.map((key) => store.head(key)));
  if (present.some((meta) => meta === undefined)) return undefined;
  const commits: ParsedLogPath[] = [];
  for (let next = hint.version + 1;; next += PROBE_BATCH) {
    const batch = Array.from({ length: PROBE_BATCH }, (_, i) => next + i);
    const found = await Promise.all(batch.map((v) => store.head(commitKey(v))));
    let stop = false;
    for (let i = 0; i < batch.length; i++) {
      if (!found[i]) {
        stop = true;
        break;
      }
      commits.push({ key: commitKey(batch[i]!), version: batch[i]!, type: "commit" });
    }
    if (stop) break;
  }
  const latest = commits.length ? commits[commits.length - 1]!.version : hint.version;
  return {
    version: latest,
    checkpoint: { version: hint.version, keys },
    commits,
    latestVersion: latest,
  };
}

const PROBE_BATCH = 16;

async function listLog(
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

/** Picks the checkpoint and commits for `version` from a listing. */
function segmentFrom(files: ParsedLogPath[], version: number | undefined): LogSegment | undefined {
  const commits = new Map<number, ParsedLogPath>();
  const checkpoints = new Map<number, ParsedLogPath[]>();
  let latest = -1;
  for (const f of files) {
    if (f.type === "commit") {
      commits.set(f.version, f);
      latest = Math.max(latest, f.version);
    } else if (f.type === "checkpoint" || f.type === "multipart-checkpoint") {
      const list = checkpoints.get(f.version) ?? [];
      list.push(f);
      checkpoints.set(f.version, list);
      latest = Math.max(latest, f.version);
    }
  }
  if (latest < 0) return undefined;
  const target = version ?? latest;
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
    if (!c) {
      // Reported by checkSegment with the right message.
      break;
    }
    segmentCommits.push(c);
  }
  return { version: target, checkpoint: chosen, commits: segmentCommits, latestVersion: latest };
}

/** Returns the keys of a complete checkpoint at one version, or undefined. */
function completeCheckpoint(files: ParsedLogPath[]): string[] | undefined {
  const single = files.find((f) => f.type === "checkpoint");
  if (single) return [single.key];
  // Group multi-part files by their part count; any complete group will do.
  const byCount = new Map<number, Map<number, string>>();
  for (const f of files) {
    if (f.type !== "multipart-checkpoint") continue;
    const parts = byCount.get(f.parts!) ?? new Map<number, string>();
    parts.set(f.part!, f.key);
    byCount.set(f.parts!, parts);
  }
  for (const [count, parts] of byCount) {
    if (parts.size !== count) continue;
    const keys: string[] = [];
    for (let p = 1; p <= count; p++) {
      const key = parts.get(p);
      if (!key) break;
      keys.push(key);
    }
    if (keys.length === count) return keys;
  }
  return undefined;
}

function checkSegment(segment: LogSegment, version: number | undefined, uri: string): void {
  if (version !== undefined && version > segment.latestVersion) {
    throw new RangeError(
      `Version ${version} of ${uri} does not exist: the latest version is ${segment.latestVersion}`,
    );
  }
  const start = segment.checkpoint ? segment.checkpoint.version + 1 : 0;
  const expected = segment.version - start + 1;
  if (segment.commits.length !== expected) {
    const missing = start + segment.commits.length;
    const base = segment.checkpoint
      ? `after the checkpoint at version ${segment.checkpoint.version}`
      : "and there is no checkpoint before it";
    throw new Error(
      `Cannot reconstruct version ${segment.version} of ${uri}: commit ${missing} is missing ${base} (the log may have been cleaned up)`,
    );
  }
}
