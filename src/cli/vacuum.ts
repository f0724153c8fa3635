/**
 * `neuralake vacuum <table>`: delete unreferenced data files past retention.
 */

import { DEFAULT_VACUUM_RETENTION_MS } from "../ops/vacuum.ts";
import { openTable } from "../ops/table.ts";
import { boolFlag, durationFlag, GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { printJson, write } from "./output.ts";
import { formatVacuum, vacuumOnce } from "./vacuum_once.ts";

export const VACUUM_HELP = `Usage: neuralake vacuum <table> [options]

Delete data files that the latest version does not reference and that are
past the retention. Never deletes a referenced file, a file removed or
written within the retention (a writer may not have committed it yet), the
log, hidden directories, or anything outside the table.

Options:
  --retention <duration>   How long unreferenced files are kept (default: the
                           table's delta.deletedFileRetentionDuration, else 7d)
  --allow-short-retention  Allow a retention below the table's (demo runs only)
  --dry-run                Only report what would be deleted

${GLOBAL_HELP}`;

/** Arguments of `vacuum`. */
export interface VacuumArgs {
  table: string;
  retentionMs: number | undefined;
  allowShortRetention: boolean;
  dryRun: boolean;
  json: boolean;
}

/** Parses `vacuum` arguments. */
export function parseVacuumArgs(argv: string[]): VacuumArgs {
  const args = parseCommandArgs("vacuum", argv, {
    retention: { type: "string" },
    "allow-short-retention": { type: "boolean" },
    "dry-run": { type: "boolean" },
  });
  const [table] = positionals(args, ["table"], "vacuum");
  return {
    table: table!,
    retentionMs: durationFlag(args, "retention", "vacuum"),
    allowShortRetention: boolFlag(args, "allow-short-retention"),
    dryRun: boolFlag(args, "dry-run"),
    json: args.values.json === true,
  };
}

/** Runs `vacuum`. */
export async function runVacuum(args: VacuumArgs): Promise<number> {
  const table = openTable(args.table);
  const result = await vacuumOnce(table, {
    ...(args.retentionMs !== undefined ? { retentionMs: args.retentionMs } : {}),
    allowShortRetention: args.allowShortRetention,
    dryRun: args.dryRun,
  });
  if (args.json) {
    printJson({
      table: table.uri,
      version: result.plan.version,
      dry_run: result.dryRun,
      retention_ms: result.plan.retentionMs,
      default_retention_ms: DEFAULT_VACUUM_RETENTION_MS,
      files_to_delete: result.plan.delete.length,
      bytes_to_delete: result.plan.bytes,
      files_deleted: result.filesDeleted,
      bytes_deleted: result.bytesDeleted,
      kept: result.plan.kept,
      failed: result.failed,
      ...(result.dryRun ? { would_delete: result.plan.delete.map((m) => m.key) } : {}),
    });
  } else {
    write(formatVacuum(table, result));
    if (result.dryRun) { for (const m of result.plan.delete.slice(0, 50)) write(`  ${m.key}\n`); }
  }
  return result.failed.length ? 1 : 0;
}
