/**
 * `neuralake optimize <table>`: one compaction pass, then exit, for nightly
 * scripts. Exit status: 0 when every planned bin was committed (or lost to a
 * concurrent commit, which leaves the table as it was), 1 when a bin gave up
 * or the table cannot be optimized, 2 for a usage error (including a
 * `--where` that names a non-partition column).
 */

import { formatCount } from "../report/format.ts";
import { OPTIMIZE_MIN_FILES, type OptimizeResult, optimizeTable } from "../ops/optimize.ts";
import { PredicateError } from "../ops/predicate.ts";
import { openTable } from "../ops/table.ts";
import { formatBytes } from "../util/units.ts";
import {
  boolFlag,
  bytesFlag,
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { formatFields, printJson, write } from "./output.ts";

/** The default target size of merged files. */
export const DEFAULT_OPTIMIZE_TARGET = 128 * 1024 * 1024;

export const OPTIMIZE_HELP = `Usage: neuralake optimize <table> [options]

Run one compaction pass (Delta OPTIMIZE, bin-packing) and exit: merge the
small files of each partition into files of about --target-size, and rewrite
files whose deletion vectors delete over 5% of their rows without those rows.
Commits remove + add with dataChange=false, so readers and concurrent writers
are unaffected; a bin that loses to a concurrent commit is dropped. A second
run right after finds nothing to do when each partition's data fits in one
file of the target size; with more, it may merge leftover small outputs once
more, and then settles.

Options:
  --target-size <bytes>  Size that merged files aim for (default: 128MiB)
  --min-files <n>        Fewest small files in a partition worth merging (default: 2)
  --where <predicate>    Only partitions matching a predicate on partition
                         columns, e.g. "session_id = 's1' AND day >= '2026-11-01'"
  --dry-run              Only report the bins that would be merged

Prints files and bytes before and after, the bins, rows and time (--json: one
document). On a terminal a progress line goes to stderr.
SIGINT or SIGTERM lets the bin in progress finish, keeps the bins committed
and starts no other (a second signal ends it at once).
Exit status: 0 done (bins lost to concurrent commits included), 1 a bin gave
up, the pass was interrupted or the table cannot be optimized, 2 usage error.

${GLOBAL_HELP}`;

/** Arguments of `optimize`. */
export interface OptimizeArgs {
  table: string;
  targetSize: number;
  minFiles: number;
  where: string | undefined;
  dryRun: boolean;
  json: boolean;
}

/** Parses `optimize` arguments. */
export function parseOptimizeArgs(argv: string[]): OptimizeArgs {
  const args = parseCommandArgs("optimize", argv, {
    "target-size": { type: "string" },
    "min-files": { type: "string" },
    where: { type: "string" },
    "dry-run": { type: "boolean" },
  });
  const [table] = positionals(args, ["table"], "optimize");
  const targetSize = bytesFlag(args, "target-size", "optimize") ?? DEFAULT_OPTIMIZE_TARGET;
  if (targetSize < 1) throw new UsageError("--target-size must be at least 1 byte", "optimize");
  const minFiles = intFlag(args, "min-files", "optimize") ?? OPTIMIZE_MIN_FILES;
  if (minFiles < 2) throw new UsageError("--min-files must be at least 2", "optimize");
  return {
    table: table!,
    targetSize,
    minFiles,
    where: stringFlag(args, "where"),
    dryRun: boolFlag(args, "dry-run"),
    json: args.values.json === true,
  };
}

/** Runs `optimize`. */
export async function runOptimize(args: OptimizeArgs): Promise<number> {
  const table = await openTable(args.table);
  const tty = Deno.stderr.isTerminal();
  const progress = (text: string) => {
    if (tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[2K${text}`));
  };
  // The first SIGINT or SIGTERM lets the bin in progress finish and starts
  // no other; a second one ends the process at once.
  const interrupt = new AbortController();
  const signals = ["SIGINT", "SIGTERM"] as const;
  const unlisten = () => {
    for (const [i, s] of signals.entries()) Deno.removeSignalListener(s, listeners[i]!);
  };
  const listeners = signals.map((signal) => {
    const listener = () => {
      unlisten();
      progress(`optimize: ${signal}, stopping after the bin in progress`);
      interrupt.abort();
    };
    Deno.addSignalListener(signal, listener);
    return listener;
  });
  let result: OptimizeResult;
  try {
    result = await optimizeTable(table, {
      signal: interrupt.signal,
      targetFileSize: args.targetSize,
      minFiles: args.minFiles,
      ...(args.where !== undefined ? { where: args.where } : {}),
      dryRun: args.dryRun,
      onBin: (outcome, index, bins) =>
        progress(
          `optimize: bin ${index}/${bins} ${outcome.kind}, ${outcome.filesIn} files, ${
            formatBytes(outcome.bytesIn)
          }`,
        ),
    });
  } catch (error) {
    // A predicate that does not fit the table is a usage mistake.
    if (error instanceof PredicateError) {
      throw new UsageError(`--where ${JSON.stringify(args.where)}: ${error.message}`, "optimize");
    }
    throw error;
  } finally {
    if (!interrupt.signal.aborted) unlisten();
    progress("");
  }
  if (args.json) {
    printJson({
      table: table.uri,
      dry_run: result.dryRun,
      where: args.where ?? null,
      target_size: args.targetSize,
      version_before: result.versionBefore,
      version_after: result.versionAfter,
      checkpointed: result.checkpointed ?? null,
      files_before: result.before.files,
      bytes_before: result.before.bytes,
      files_after: result.after.files,
      bytes_after: result.after.bytes,
      files_in_scope: result.inScope.files,
      bytes_in_scope: result.inScope.bytes,
      bins_planned: result.bins.length,
      bins_committed: result.committed,
      bins_conflicted: result.conflicts,
      bins_gave_up: result.gaveUp,
      files_removed: result.filesRemoved,
      files_added: result.filesAdded,
      rows_rewritten: result.rows,
      interrupted: result.interrupted,
      elapsed_ms: Math.round(result.ms),
      bins: result.bins.map((b, i) => ({
        partition: b.partitionValues,
        files: b.files,
        bytes: b.bytes,
        ...(result.outcomes[i]
          ? {
            outcome: result.outcomes[i]!.kind,
            ...(result.outcomes[i]!.version !== undefined
              ? { version: result.outcomes[i]!.version }
              : {}),
            ...(result.outcomes[i]!.reason ? { reason: result.outcomes[i]!.reason } : {}),
          }
          : {}),
      })),
    });
  } else {
    write(formatFields([
      ["table", table.uri],
      [
        "version",
        result.versionAfter === result.versionBefore
          ? String(result.versionBefore)
          : `${result.versionBefore} -> ${result.versionAfter}`,
      ],
      ["before", `${formatCount(result.before.files)} files, ${formatBytes(result.before.bytes)}`],
      [
        result.dryRun ? "after (unchanged)" : "after",
        `${formatCount(result.after.files)} files, ${formatBytes(result.after.bytes)}`,
      ],
      [
        result.dryRun ? "would merge" : "bins",
        result.dryRun
          ? `${formatCount(result.bins.length)} bins of ${
            formatCount(result.bins.reduce((n, b) => n + b.files, 0))
          } files`
          : `${result.committed} committed, ${result.conflicts} lost to concurrent commits, ${result.gaveUp} gave up${
            result.interrupted
              ? `, ${result.bins.length - result.outcomes.length} not started (interrupted)`
              : ""
          }`,
      ],
      ["rows rewritten", formatCount(result.rows)],
      ["time", `${(result.ms / 1000).toFixed(2)} s`],
    ]));
    if (result.dryRun) {
      for (const b of result.bins.slice(0, 50)) {
        write(
          `  ${JSON.stringify(b.partitionValues)}: ${b.files} files, ${formatBytes(b.bytes)}\n`,
        );
      }
    }
  }
  return result.gaveUp > 0 || result.interrupted ? 1 : 0;
}
