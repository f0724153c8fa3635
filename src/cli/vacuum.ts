/**
 * `neuralake vacuum <table>`: delete unreferenced data files past retention.
 */

import { APPEND_HOLD_BUDGET_MS } from "../ops/append.ts";
import { residentMb } from "../util/native_memory.ts";
import { DEFAULT_VACUUM_RETENTION_MS, VACUUM_RETENTION_FLOOR_MS } from "../ops/vacuum.ts";
import { formatDuration } from "../util/units.ts";
import { formatCount } from "../report/format.ts";
import { openTable } from "../ops/table.ts";
import { boolFlag, durationFlag, GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { printJson, snakeCaseKeys, toJson, write } from "./output.ts";
import { formatVacuum, vacuumOnce } from "./vacuum_once.ts";
import { type ProgressLine, progressLine } from "./progress.ts";
import type { VacuumProgress, VacuumResult } from "../ops/vacuum.ts";
import { metricsAddrFlag } from "./stream_config.ts";
import { span } from "../util/tracing.ts";
import { JobMonitor } from "../metrics/monitor.ts";
import { stampEvent } from "../metrics/events.ts";

export const VACUUM_HELP = `Usage: neuralake vacuum <table> [options]

Delete data files that the latest version does not reference and that are
past the retention. Never deletes a referenced file, a file removed or
written within the retention (a writer may not have committed it yet), the
log, hidden directories, or anything outside the table. A full pass also
removes temporary files that a killed put or commit left (once older than
the retention and at least an hour).

Whatever --retention says, even with --allow-short-retention, files younger
than ${
  formatDuration(VACUUM_RETENTION_FLOOR_MS)
} are kept: a writer may hold an uploaded file for up to
${formatDuration(APPEND_HOLD_BUDGET_MS)} before committing it (and abandons it after that), plus
${
  formatDuration(VACUUM_RETENTION_FLOOR_MS - APPEND_HOLD_BUDGET_MS)
} for a commit in flight and clock skew. A shorter retention would let
vacuum delete a file that a writer then commits, losing acknowledged rows.

On a terminal, a pass shows its progress on stderr (not with --json).

Options:
  --retention <duration>   How long unreferenced files are kept (default: the
                           table's delta.deletedFileRetentionDuration, else 7d)
  --allow-short-retention  Allow a retention below the table's (demo runs only)
  --dry-run                Only report what would be deleted
  --log-only               Do not list the table: delete only files the log
                           removed (faster; orphans wait for a full pass)
  --every <duration>       Run as the vacuum role: a pass every <duration> until
                           --duration is up or SIGINT/SIGTERM (events as JSON lines)
  --duration <duration>    With --every: stop after this long (default: never)
  --metrics-addr <h:p>     With --every: serve /metrics and /healthz there
                           (default: none, nothing is served)

${GLOBAL_HELP}`;

/** How many files `vacuum --dry-run` lists for people (`--json` lists all). */
const DRY_RUN_LISTED = 50;

/** Arguments of `vacuum`. */
export interface VacuumArgs {
  table: string;
  retentionMs: number | undefined;
  allowShortRetention: boolean;
  dryRun: boolean;
  logOnly: boolean;
  everyMs: number | undefined;
  durationMs: number | undefined;
  /** With --every: serve /metrics and /healthz here. */
  metricsAddr: string | undefined;
  json: boolean;
}

/** Parses `vacuum` arguments. */
export function parseVacuumArgs(argv: string[]): VacuumArgs {
  const args = parseCommandArgs("vacuum", argv, {
    retention: { type: "string" },
    "allow-short-retention": { type: "boolean" },
    "dry-run": { type: "boolean" },
    "log-only": { type: "boolean" },
    every: { type: "string" },
    duration: { type: "string" },
    "metrics-addr": { type: "string" },
  });
  const [table] = positionals(args, ["table"], "vacuum");
  return {
    table: table!,
    retentionMs: durationFlag(args, "retention", "vacuum"),
    allowShortRetention: boolFlag(args, "allow-short-retention"),
    dryRun: boolFlag(args, "dry-run"),
    logOnly: boolFlag(args, "log-only"),
    everyMs: durationFlag(args, "every", "vacuum", { positive: true }),
    durationMs: durationFlag(args, "duration", "vacuum", { positive: true }),
    metricsAddr: metricsAddrFlag(args, "vacuum"),
    json: args.values.json === true,
  };
}

/** The progress line's text for a vacuum pass. */
export function vacuumProgressText(p: VacuumProgress): string {
  return p.phase === "listed"
    ? `vacuum: listed ${formatCount(p.files)} files, reading the log`
    : `vacuum: deleted ${formatCount(p.done)} of ${formatCount(p.total)} files`;
}

/**
 * Runs `vacuum`. A one-off pass shows a progress line on stderr on a
 * terminal (`progress`); a pass with `--every` prints a JSON line each.
 */
export async function runVacuum(
  args: VacuumArgs,
  progress: ProgressLine = progressLine(args.json),
): Promise<number> {
  const table = await openTable(args.table);
  const options = {
    ...(args.retentionMs !== undefined ? { retentionMs: args.retentionMs } : {}),
    allowShortRetention: args.allowShortRetention,
    dryRun: args.dryRun,
    mode: args.logOnly ? "log-only" as const : "full" as const,
  };
  if (args.everyMs !== undefined) return await vacuumLoop(table, options, args);
  let result: VacuumResult;
  try {
    result = await vacuumOnce(table, {
      ...options,
      ...(progress.enabled
        ? {
          onProgress: (p: VacuumProgress) =>
            progress.update(vacuumProgressText(p), p.phase === "deleting" && p.done === p.total),
        }
        : {}),
    });
  } finally {
    progress.clear();
  }
  if (args.json) {
    printJson({
      table: table.uri,
      version: result.plan.version,
      dry_run: result.dryRun,
      mode: options.mode,
      retention_ms: result.plan.retentionMs,
      retention_raised_to_floor: result.plan.raisedToFloor,
      temp_files_deleted: result.tempFilesDeleted,
      default_retention_ms: DEFAULT_VACUUM_RETENTION_MS,
      files_to_delete: result.plan.delete.length,
      bytes_to_delete: result.plan.bytes,
      files_deleted: result.filesDeleted,
      bytes_deleted: result.bytesDeleted,
      kept: snakeCaseKeys(result.plan.kept),
      failed: result.failed,
      ...(result.dryRun ? { would_delete: result.plan.delete.map((m) => m.key) } : {}),
    });
  } else {
    write(formatVacuum(table, result));
    if (result.dryRun) {
      const shown = result.plan.delete.slice(0, DRY_RUN_LISTED);
      for (const m of shown) write(`  ${m.key}\n`);
      const more = result.plan.delete.length - shown.length;
      if (more > 0) write(`  … and ${formatCount(more)} more (use --json for all)\n`);
    }
  }
  return result.failed.length ? 1 : 0;
}

/** The vacuum role on its own: a pass every interval, one JSON line per pass. */
async function vacuumLoop(
  table: Awaited<ReturnType<typeof openTable>>,
  options: Parameters<typeof vacuumOnce>[1],
  args: VacuumArgs,
): Promise<number> {
  let stopping = false;
  let wake!: () => void;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const started = Date.now();
  let failures = 0;
  const monitor = new JobMonitor(table.uri, "vacuum", `vacuum-${Deno.pid}`);
  if (args.metricsAddr !== undefined) monitor.serve(args.metricsAddr);
  try {
    while (!stopping) {
      const t0 = performance.now();
      const result = await span(
        "vacuum",
        { "neuralake.table": table.uri },
        () => vacuumOnce(table, options),
      );
      failures += result.failed.length;
      monitor.observe(stampEvent(started, Date.now(), {
        role: "vacuum",
        role_id: `vacuum-${Deno.pid}`,
        event: "vacuum",
        version: result.plan.version,
        files_deleted: result.filesDeleted,
        bytes: result.bytesDeleted,
        total_ms: Math.round(performance.now() - t0),
        rss_mb: residentMb(),
      }));
      write(
        toJson({
          t_ms: Date.now() - started,
          event: "vacuum",
          version: result.plan.version,
          dry_run: result.dryRun,
          files_deleted: result.filesDeleted,
          bytes_deleted: result.bytesDeleted,
          kept: snakeCaseKeys(result.plan.kept),
          failed: result.failed.length,
        }, 0) + "\n",
      );
      const left = args.durationMs ? started + args.durationMs - Date.now() : Infinity;
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(args.everyMs!, left));
      });
      if (args.durationMs && Date.now() - started >= args.durationMs) break;
    }
  } finally {
    await monitor.close();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return failures ? 1 : 0;
}
