/**
 * `--version N | --timestamp T`: which version of a table a command reads
 * (`scan`, `describe`, `history`, `verify`). Parses both flags the same way
 * for every command, refuses them together, and makes an error about the
 * version they name start with the flag and the value as typed, so that
 * `--timestamp 2020-01-01: ... before its earliest available version ...`
 * says which flag to change.
 */

import {
  type Table,
  TimestampBeforeTableError,
  type VersionAtTime,
  versionAtTime,
  VersionUnavailableError,
} from "../ops/table.ts";
import { intFlag, type ParsedArgs, stringFlag, timestampFlag, UsageError } from "./args.ts";

/** The `parseArgs` options of the two flags. */
export const AS_OF_OPTIONS = {
  version: { type: "string" },
  timestamp: { type: "string" },
} as const;

/** The two flags' help lines, in the layout of the commands' help. */
export function asOfHelp(verb: string): string {
  return `  --version <N>        ${verb} version N (default: the latest)
  --timestamp <time>   ${verb} the latest version committed at or before this
                       time (ISO-8601, a date, or epoch milliseconds; see
                       scan --help for how commit times are found)`;
}

/** What the flags asked for: nothing (the latest), a version, or a time. */
export interface AsOf {
  version: number | undefined;
  /** The time in ms since the epoch, and as typed. */
  timestamp: number | undefined;
  timestampText: string | undefined;
}

/** Reads `--version` and `--timestamp`; both at once is a usage error. */
export function parseAsOf(args: ParsedArgs, command: string): AsOf {
  const version = intFlag(args, "version", command);
  const timestamp = timestampFlag(args, "timestamp", command);
  if (version !== undefined && timestamp !== undefined) {
    throw new UsageError("--version and --timestamp cannot be used together", command);
  }
  return { version, timestamp, timestampText: stringFlag(args, "timestamp") };
}

/** The version the flags name, and with `--timestamp` how it was chosen. */
export interface ResolvedAsOf {
  /** Undefined: the latest. */
  version: number | undefined;
  at: VersionAtTime | undefined;
}

/**
 * Finds the version `--timestamp` names (`versionAtTime`); `--version` is
 * taken as given (the operation judges it). A time before the table's
 * earliest version is an error starting with the flag.
 */
export async function resolveAsOf(table: Table, asOf: AsOf): Promise<ResolvedAsOf> {
  if (asOf.timestamp === undefined) return { version: asOf.version, at: undefined };
  const at = await withAsOfFlag(asOf, () => versionAtTime(table, asOf.timestamp!));
  return { version: at.version, at };
}

/**
 * Runs `work`, and makes a `VersionUnavailableError` or
 * `TimestampBeforeTableError` it throws start with the flag and its value.
 */
export async function withAsOfFlag<T>(asOf: AsOf, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const flag = asOf.timestamp !== undefined
      ? `--timestamp ${asOf.timestampText}`
      : asOf.version !== undefined
      ? `--version ${asOf.version}`
      : undefined;
    if (
      flag !== undefined &&
      (error instanceof VersionUnavailableError || error instanceof TimestampBeforeTableError)
    ) {
      throw new Error(`${flag}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** How `at` was timed, for people: `2026-01-31T12:00:00.000Z (commit file time)`. */
export function describeCommitTime(at: VersionAtTime): string {
  return `${new Date(at.commitTimestamp).toISOString()} (${
    at.source === "inCommitTimestamp" ? "in-commit timestamp" : "commit file time"
  })`;
}

/** The keys `--json` adds for `--timestamp`: when the chosen version was committed. */
export function commitTimeFields(
  at: VersionAtTime | undefined,
): { commit_timestamp?: number; commit_timestamp_source?: string } {
  return at ? { commit_timestamp: at.commitTimestamp, commit_timestamp_source: at.source } : {};
}
