/**
 * One vacuum pass with its report, shared by the `vacuum` command and the
 * vacuum role.
 */

import { vacuum, type VacuumOptions, type VacuumResult } from "../ops/vacuum.ts";
import { snapshotOf, type Table } from "../ops/table.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import { formatFields } from "./output.ts";
import { formatCount } from "../report/format.ts";

/** Runs one vacuum pass over a table. */
export function vacuumOnce(table: Table, options: VacuumOptions): Promise<VacuumResult> {
  return vacuum(table.store, () => snapshotOf(table), options);
}

/** The report of a pass, for people. */
export function formatVacuum(table: Table, result: VacuumResult): string {
  const { plan } = result;
  return formatFields([
    ["table", table.uri],
    ["version", String(plan.version)],
    [
      "retention",
      formatDuration(plan.retentionMs) +
      (plan.raisedToFloor ? " (raised to the floor: see vacuum --help)" : ""),
    ],
    [
      result.dryRun ? "would delete" : "deleted",
      result.dryRun
        ? `${formatCount(plan.delete.length)} files (${formatBytes(plan.bytes)})`
        : `${formatCount(result.filesDeleted)} files (${formatBytes(result.bytesDeleted)})`,
    ],
    [
      "kept",
      `${formatCount(plan.kept.active)} active, ${
        formatCount(plan.kept.youngTombstone)
      } recently removed, ${formatCount(plan.kept.youngFile)} recently written, ${
        formatCount(plan.kept.hidden)
      } hidden`,
    ],
    ...(result.tempFilesDeleted
      ? [["temporary files", `${result.tempFilesDeleted} stale ones deleted`] as [string, string]]
      : []),
    ...(result.failed.length
      ? [
        [
          "failed",
          `${result.failed.length}: ${result.failed[0]!.key}: ${result.failed[0]!.reason}`,
        ] as [string, string],
      ]
      : []),
  ]);
}
