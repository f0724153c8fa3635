/**
 * The Markdown summary of a streaming run (`summary_report.md`): headline
 * figures, writers, latencies, maintenance, chaos, where the time went, and
 * the verification with one unmistakable PASSED or FAILED line.
 *
 * Invariant: table cells never break the table: pipes are escaped and line
 * breaks become spaces.
 */

import type { RunResults } from "../metrics/results.ts";
import {
  breakdownTable,
  chaosTable,
  checksTable,
  formatCount,
  headlineRows,
  latencyTable,
  maintenanceTable,
  settingsTable,
  type TextTable,
  verdict,
  verificationNote,
  writersTable,
} from "./format.ts";

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n|\r/g, " ");
}

/** Escapes text for inline Markdown outside tables. */
function inline(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, " ");
}

function table(t: TextTable): string[] {
  return [
    `| ${t.header.map(cell).join(" | ")} |`,
    `| ${t.header.map(() => "---").join(" | ")} |`,
    ...t.rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
}

/**
 * Renders the summary.
 *
 * @example
 * ```ts
 * import { MetricsRecorder } from "../metrics/recorder.ts";
 * import { buildResults } from "../metrics/results.ts";
 *
 * const results = buildResults(new MetricsRecorder(), {
 *   runId: "streaming-20261127T105504Z",
 *   startedAt: new Date("2026-11-27T10:55:04Z"),
 *   finishedAt: new Date("2026-11-27T10:56:04Z"),
 *   table: "./neuralake-data/recordings",
 *   config: {},
 *   verification: { passed: true, checks: [] },
 * });
 * const text = renderSummary(results);
 * ```
 */
export function renderSummary(results: RunResults): string {
  const r = results;
  const v = verdict(r.verification.passed);
  const failed = r.verification.checks.filter((c) => !c.passed);
  const lines: string[] = [
    `# Streaming run ${inline(r.run_id)}`,
    "",
    `**Verification: ${v}**${
      failed.length > 0
        ? ` (${failed.length} of ${r.verification.checks.length} checks failed)`
        : ""
    }`,
    "",
    `- Table: \`${r.table.replace(/`/g, "'")}\``,
    `- Started ${r.started_at}, finished ${r.finished_at} (${r.wall_seconds} s)`,
    "",
    "## Headline",
    "",
    ...table({ header: ["metric", "value"], rows: headlineRows(r) }),
    "",
    "A conflict is a commit that lost the race for a table version to another role. The writer",
    "then reads the versions it lost to, and as appends by other writers never clash with its own,",
    "commits the same batch at the next free version within the same attempt: a conflict costs",
    "time, not a retry. Retries count batches sent again after a failed attempt, which also show",
    "under batches failed.",
    "",
    "Visibility is the time from a batch's first row being generated to the commit that makes the",
    "batch readable in the table: what a reader waits for a sample, at most.",
    "",
    "## Settings",
    "",
    ...(Object.keys(r.config).length > 0
      ? table(settingsTable(r))
      : ["No settings were recorded."]),
    "",
    "## Writers",
    "",
    ...(r.writers.length > 0 ? table(writersTable(r)) : ["No writer committed a batch."]),
    "",
    "## Latency",
    "",
    ...table(latencyTable(r)),
    "",
    "## Maintenance",
    "",
    ...table(maintenanceTable(r)),
    "",
    "## Chaos",
    "",
    `Mode: ${inline(r.chaos.mode)}, ${formatCount(r.chaos.kills)} kills, ${
      formatCount(r.chaos.faults)
    } faults injected, ${
      r.chaos.missed > 0
        ? `${
          formatCount(r.chaos.missed)
        } planned actions that did NOT happen (listed as chaos_missed), `
        : ""
    }${
      r.chaos.events_omitted > 0
        ? `${formatCount(r.chaos.events.length + r.chaos.events_omitted)} events (the first ${
          formatCount(r.chaos.events.length)
        } listed below, the rest in streaming_metrics.csv and its gzipped older segments, of which ` +
          `the oldest go past --run-files-max).`
        : `${formatCount(r.chaos.events.length)} events (every one listed below).`
    }`,
    "",
    ...(r.chaos.events.length > 0 ? [...table(chaosTable(r)), ""] : []),
    "## Where the time went",
    "",
    "Time summed over all writer batches, per stage.",
    "",
    ...table(breakdownTable(r)),
    "",
    "## Verification",
    "",
    `**${v}**`,
    "",
    ...(verificationNote(r) ? [verificationNote(r), ""] : []),
    ...(r.verification.checks.length > 0 ? table(checksTable(r)) : ["No checks were run."]),
    "",
  ];
  return lines.join("\n");
}
