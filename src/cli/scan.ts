/**
 * `neuralake scan <table>`: read rows, with projection, a predicate, time
 * travel and a limit, as a text table, CSV, NDJSON or Parquet.
 */

import { formatCount } from "../report/format.ts";
import { type ScanStats, scanTable, UnknownColumnError } from "../ops/scan.ts";
import { openTable, type VersionAtTime } from "../ops/table.ts";
import { PredicateError } from "../ops/predicate.ts";
import {
  commaList,
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { AS_OF_OPTIONS, type AsOf, parseAsOf, resolveAsOf, withAsOfFlag } from "./as_of.ts";
import { printJson } from "./output.ts";
import { ProgressLine } from "./progress.ts";
import {
  csvWriter,
  jsonDocumentWriter,
  ndjsonWriter,
  parquetWriter,
  tableWriter,
  TextSink,
} from "./scan_output.ts";

export const SCAN_HELP = `Usage: neuralake scan <table> [options]

Read rows of a table. Files and row groups that cannot match --where are
skipped using partition values and statistics (data skipping).

Options:
  --columns <a,b>      Columns to return, in this order (default: all)
  --where <predicate>  Comparisons joined by and/or/not, for example
                       "timestamp_us >= '2024-01-01T00:00:00Z' and region = 'M1'"
                       (=, !=, <, <=, >, >=, IS [NOT] NULL, [NOT] IN (...))
  --version <N>        Read version N (time travel; default: the latest)
  --timestamp <time>   Read the table as it was at this time: the latest version
                       committed at or before it (ISO-8601 such as
                       2026-01-31T12:00:00Z, a date, or epoch milliseconds)
  --limit <N>          Return at most N rows (default: all)
  --format <f>         table (default on a terminal), csv, ndjson (default otherwise)
                       or parquet (needs --output)
  --output <file>      Write rows to a file instead of stdout

Commit times are the commits' in-commit timestamps where the table has them
(delta.enableInCommitTimestamps), else their log files' modification times.
A --timestamp after the latest commit reads the latest version; one before
the earliest version available is an error naming that version's time.

With --json, stdout gets one JSON object: the rows (unless --output is given)
and the scan figures, including how many files were skipped.

With --output, or with stdout redirected to a file or a pipe, the rows
written so far show on stderr when stderr is a terminal (not with --json).

Rows are written as they are read, one row group at a time, so output of
any size streams with bounded memory. The table format aligns its columns
on the first 1000 rows. With --limit, no file is read once the rows are in.

In ndjson and --json: timestamps are ISO-8601 UTC with microseconds, dates
YYYY-MM-DD, int64 numbers (strings beyond 2^53), decimals strings, binary base64;
structs objects, arrays arrays, maps arrays of [key, value] pairs (in csv and
table output, that JSON as text). A variant is the JSON value it holds; in csv
and table output, Spark's to_json of it (UTC), where a variant null is "null"
and a SQL NULL empty.

${GLOBAL_HELP}`;

type Format = "table" | "csv" | "ndjson" | "parquet";

/** Arguments of `scan`. */
export interface ScanArgs extends AsOf {
  table: string;
  columns: string[];
  where: string | undefined;
  limit: number | undefined;
  format: Format;
  output: string | undefined;
  json: boolean;
}

/** Parses `scan` arguments. */
export function parseScanArgs(argv: string[], isTerminal = Deno.stdout.isTerminal()): ScanArgs {
  const args = parseCommandArgs("scan", argv, {
    columns: { type: "string" },
    where: { type: "string" },
    ...AS_OF_OPTIONS,
    limit: { type: "string" },
    format: { type: "string" },
    output: { type: "string", short: "o" },
  });
  const [table] = positionals(args, ["table"], "scan");
  const output = stringFlag(args, "output");
  const formatText = stringFlag(args, "format") ?? (isTerminal && !output ? "table" : "ndjson");
  if (!["table", "csv", "ndjson", "parquet"].includes(formatText)) {
    throw new UsageError(
      `--format must be table, csv, ndjson or parquet, got "${formatText}"`,
      "scan",
    );
  }
  if (formatText === "parquet" && !output) {
    throw new UsageError("--format parquet needs --output <file>", "scan");
  }
  const asOf = parseAsOf(args, "scan");
  return {
    ...asOf,
    table: table!,
    columns: commaList(stringFlag(args, "columns")),
    where: stringFlag(args, "where"),
    limit: intFlag(args, "limit", "scan"),
    format: formatText as Format,
    output,
    json: args.values.json === true,
  };
}

/** The progress line's text while rows are written. */
export function scanProgressText(rows: number, stats: ScanStats): string {
  return `scan: wrote ${formatCount(rows)} rows, read ${formatCount(stats.filesRead)} of ${
    formatCount(stats.filesTotal)
  } files`;
}

/** Which of stdout and stderr are terminals. */
export interface Terminals {
  stdout: boolean;
  stderr: boolean;
}

/**
 * Whether `scan` shows a progress line on stderr: only where stderr is a
 * terminal and never with `--json`, and only while the rows do not go to
 * that terminal (they go to `--output`, or stdout is redirected to a file or
 * a pipe), since the line would be drawn over them.
 */
export function scanShowsProgress(
  args: Pick<ScanArgs, "json" | "output">,
  terminals: Terminals = { stdout: Deno.stdout.isTerminal(), stderr: Deno.stderr.isTerminal() },
): boolean {
  if (args.json || !terminals.stderr) return false;
  return args.output !== undefined || !terminals.stdout;
}

/**
 * Runs `scan`. Rows written to a file (`--output`, or a redirected stdout)
 * show a progress line on stderr on a terminal (`scanShowsProgress`); rows
 * on the terminal are progress enough.
 */
export async function runScan(
  args: ScanArgs,
  progress: ProgressLine = new ProgressLine(scanShowsProgress(args)),
): Promise<number> {
  const table = await openTable(args.table);
  const { version, at } = await resolveAsOf(table, args);
  const scan = await withAsOfFlag(args, () =>
    scanTable(table, {
      ...(args.columns.length ? { columns: args.columns } : {}),
      ...(args.where ? { where: args.where } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
    })).catch((error) => {
      // A predicate that does not fit the table is a usage mistake.
      if (error instanceof PredicateError) {
        throw new UsageError(`--where ${JSON.stringify(args.where)}: ${error.message}`, "scan");
      }
      // So is a column the table does not have.
      if (error instanceof UnknownColumnError) {
        throw new UsageError(`--columns ${args.columns.join(",")}: ${error.message}`, "scan");
      }
      throw error;
    });

  if (args.json && !args.output) {
    const doc = jsonDocumentWriter(new TextSink(Deno.stdout), scan.fields);
    for await (const batch of scan.batches) await doc.batch(batch);
    await doc.finish(summary(scan.stats, at));
    return 0;
  }

  const file = args.output ? await openOutput(args.output) : undefined;
  const target = file ?? Deno.stdout;
  try {
    const sink = new TextSink(target);
    const writer = args.format === "parquet"
      ? parquetWriter(target, scan.fields)
      : args.format === "table"
      ? tableWriter(sink, scan.fields)
      : args.format === "csv"
      ? csvWriter(sink, scan.fields)
      : ndjsonWriter(sink, scan.fields);
    let rows = 0;
    for await (const batch of scan.batches) {
      await writer.batch(batch);
      rows += batch.length;
      progress.update(scanProgressText(rows, scan.stats));
    }
    await writer.end();
  } finally {
    progress.clear();
    file?.close();
  }
  if (args.json) {
    printJson({ output: args.output, columns: scan.fields, stats: summary(scan.stats, at) });
  } else {
    const s = scan.stats;
    console.error(
      `${formatCount(s.rowsReturned)} rows from version ${s.version}${
        at ? ` (committed at ${new Date(at.commitTimestamp).toISOString()})` : ""
      }: read ${formatCount(s.filesRead)} of ${formatCount(s.filesTotal)} files (${
        formatCount(s.filesSkipped)
      } skipped by statistics), ${formatCount(s.rowGroupsSkipped)} row groups skipped`,
    );
  }
  return 0;
}

function summary(stats: ScanStats, at?: VersionAtTime) {
  return {
    version: stats.version,
    ...(at
      ? {
        commit_timestamp: at.commitTimestamp,
        commit_timestamp_source: at.source,
      }
      : {}),
    rows: stats.rowsReturned,
    rows_read: stats.rowsRead,
    files_total: stats.filesTotal,
    files_skipped: stats.filesSkipped,
    files_read: stats.filesRead,
    row_groups_read: stats.rowGroupsRead,
    row_groups_skipped: stats.rowGroupsSkipped,
    bytes_read: stats.bytesRead,
  };
}

/** Opens the --output file, or says which file could not be written. */
async function openOutput(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (error) {
    throw new Error(`Cannot write --output ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
