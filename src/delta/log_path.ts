/**
 * Names of the files in `_delta_log/`: parsing a key into what it is, and
 * spelling the key of a commit or checkpoint. One concept, no I/O.
 *
 * Invariant: versions are non-negative safe integers, zero-padded to 20
 * digits in every key this module spells.
 */

/** The directory that holds the log, relative to the table root. */
export const LOG_DIR = "_delta_log";

/** The key of the `_last_checkpoint` hint file. */
export const LAST_CHECKPOINT_KEY = `${LOG_DIR}/_last_checkpoint`;

/** The directory of v2 checkpoint sidecar files, relative to the table root. */
export const SIDECAR_DIR = `${LOG_DIR}/_sidecars`;

/** What a file in the log directory is. */
export type LogFileType =
  | "commit"
  | "checkpoint"
  | "multipart-checkpoint"
  | "uuid-checkpoint"
  | "compacted"
  | "crc";

/** A parsed log file name. */
export interface ParsedLogPath {
  key: string;
  version: number;
  type: LogFileType;
  /** For multi-part checkpoints: this part (1-based) and the number of parts. */
  part?: number;
  parts?: number;
  /** For compacted log files: the last version covered. */
  endVersion?: number;
  /** For UUID-named (v2) checkpoints: the format of the top-level file. */
  format?: "json" | "parquet";
}

/** Zero-pads a version to 20 digits. */
export function padVersion(version: number): string {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new RangeError(`Invalid table version: ${version}`);
  }
  return String(version).padStart(20, "0");
}

/** The key of the commit file for `version`. */
export function commitKey(version: number): string {
  return `${LOG_DIR}/${padVersion(version)}.json`;
}

/** The key of a single-part classic checkpoint. */
export function checkpointKey(version: number): string {
  return `${LOG_DIR}/${padVersion(version)}.checkpoint.parquet`;
}

/** The key of part `part` of an `parts`-part checkpoint. */
export function multipartCheckpointKey(version: number, part: number, parts: number): string {
  const p = String(part).padStart(10, "0");
  const n = String(parts).padStart(10, "0");
  return `${LOG_DIR}/${padVersion(version)}.checkpoint.${p}.${n}.parquet`;
}

/** The key of a UUID-named (v2) checkpoint. */
export function uuidCheckpointKey(
  version: number,
  uuid: string,
  format: "json" | "parquet",
): string {
  return `${LOG_DIR}/${padVersion(version)}.checkpoint.${uuid}.${format}`;
}

/** The key of a sidecar file named in a `sidecar` action (its `path`). */
export function sidecarKey(name: string): string {
  return `${SIDECAR_DIR}/${name}`;
}

/**
 * The key of the sidecar that a `sidecar` action's `path` names, or
 * undefined if the path cannot name a file of this table's
 * `_delta_log/_sidecars/` (the protocol keeps sidecars there; writers are
 * encouraged to store only the file name, URI-encoded).
 */
export function sidecarKeyOf(path: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const slash = name.lastIndexOf("/");
  if (slash >= 0) {
    if (!name.slice(0, slash).endsWith(SIDECAR_DIR)) return undefined;
    name = name.slice(slash + 1);
  }
  if (name === "" || name === "." || name === ".." || name.includes("\\")) return undefined;
  return sidecarKey(name);
}

const COMMIT = /^(\d{20})\.json$/;
const CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const UUID_CHECKPOINT = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;
const COMPACTED = /^(\d{20})\.(\d{20})\.compacted\.json$/;
const CRC = /^(\d{20})\.crc$/;

/**
 * Parses a key such as `_delta_log/00000000000000000010.checkpoint.parquet`.
 * Returns `undefined` for keys that are not log files (including
 * `_last_checkpoint` and anything in subdirectories).
 */
export function parseLogPath(key: string): ParsedLogPath | undefined {
  const prefix = `${LOG_DIR}/`;
  if (!key.startsWith(prefix)) return undefined;
  const name = key.slice(prefix.length);
  if (name.includes("/")) return undefined;
  let m = COMMIT.exec(name);
  if (m) return { key, version: Number(m[1]), type: "commit" };
  m = CHECKPOINT.exec(name);
  if (m) return { key, version: Number(m[1]), type: "checkpoint" };
  m = MULTIPART.exec(name);
  if (m) {
    return {
      key,
      version: Number(m[1]),
      type: "multipart-checkpoint",
      part: Number(m[2]),
      parts: Number(m[3]),
    };
  }
  m = UUID_CHECKPOINT.exec(name);
  if (m) {
    return {
      key,
      version: Number(m[1]),
      type: "uuid-checkpoint",
      format: m[2] as "json" | "parquet",
    };
  }
  m = COMPACTED.exec(name);
  if (m) {
    return { key, version: Number(m[1]), type: "compacted", endVersion: Number(m[2]) };
  }
  m = CRC.exec(name);
  if (m) return { key, version: Number(m[1]), type: "crc" };
  return undefined;
}
