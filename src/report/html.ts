/**
 * The HTML report of a streaming run (`report.html`): one self-contained page
 * with inline CSS and inline SVG charts (throughput over time, the commit
 * latency histogram with p50 and p99, and the live file count over time,
 * which shows the compaction sawtooth), plus the tables of the Markdown
 * summary.
 *
 * Invariants: no scripts and no external resources; every text from the
 * results is HTML-escaped.
 */

import type { RunResults } from "../metrics/results.ts";
import {
  breakdownTable,
  chaosTable,
  checksTable,
  headlineRows,
  latencyTable,
  maintenanceTable,
  type TextTable,
  verdict,
  verificationNote,
  writersTable,
} from "./format.ts";
import { escapeXml } from "../util/xml.ts";
import { histogramChart, lineChart, type TimeMark } from "./svg.ts";

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
  margin: 2rem auto; max-width: 980px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #dde2ea; }
.meta { color: #5b6576; }
.verdict { display: inline-block; padding: .3rem .8rem; border-radius: 4px; font-weight: 700; }
.verdict.passed { background: #e3f6e8; color: #17652f; }
.verdict.failed { background: #fde6e6; color: #a11b1b; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #e6e9ef; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { color: #a11b1b; font-weight: 600; }
.chart { display: block; margin: .5rem 0 1rem; }
.chart-title { font-weight: 600; font-size: 13px; fill: #1d2430; }
.axis { stroke: #4a5262; }
.grid { stroke: #eceff4; }
.tick-mark { stroke: #4a5262; }
.tick, .axis-label { font-size: 11px; fill: #4a5262; }
.no-data { font-size: 14px; fill: #8a93a3; }
.line { fill: none; stroke: #2f6fde; stroke-width: 1.6; }
.dot { fill: #2f6fde; }
.bar { fill: #7aa5ee; }
.marker { stroke: #d2452d; stroke-dasharray: 4 3; }
.chaos-mark { stroke-width: 1; stroke-dasharray: 2 2; }
.chaos-kill { stroke: #a11b1b; }
.chaos-fault { stroke: #d98c1f; opacity: .6; }
.marker-label { font-size: 11px; fill: #d2452d; }
`;

/** The kills and faults of a run, as marks on the charts' time axes. */
function chaosMarks(r: RunResults): TimeMark[] {
  return r.chaos.events
    .filter((e) => e.action === "kill" || e.action === "fault")
    .map((e) => ({
      x: e.t_s,
      kind: e.action === "kill" ? "kill" : "fault",
      label: `${e.t_s} s ${e.action} ${e.role_id}: ${e.detail}`,
    }));
}

/** Renders a table; cells that look numeric are right-aligned. */
function htmlTable(t: TextTable, failRow?: (row: string[]) => boolean): string {
  const head = `<tr>${t.header.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>`;
  const body = t.rows.map((row) => {
    const cls = failRow?.(row) ? ' class="fail"' : "";
    const cells = row.map((text) => {
      const numeric = /^[-+]?[\d,.]+( ?(ms|s|%|B|KiB|MiB|GiB|TiB))?$/.test(text);
      return `<td${numeric ? ' class="num"' : ""}>${escapeXml(text)}</td>`;
    });
    return `<tr${cls}>${cells.join("")}</tr>`;
  });
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`;
}

/**
 * Renders the report page.
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
 * const text = renderHtml(results);
 * ```
 */
export function renderHtml(results: RunResults): string {
  const r = results;
  const v = verdict(r.verification.passed);
  const commit = r.latency_ms.commit;
  const marks = chaosMarks(r);
  // Both time charts span the whole run, so that their axes line up.
  const xRange = [0, Number.isFinite(r.wall_seconds) ? r.wall_seconds : 0] as const;
  const throughput = lineChart(
    r.timeseries.throughput.map((p) => ({ x: p.t_s, y: p.rows_per_second })),
    {
      title: "Acknowledged rows per second",
      xLabel: "run time (s)",
      yLabel: "rows/s",
      marks,
      xRange,
    },
  );
  const latency = histogramChart(
    r.histograms.commit_ms,
    commit.count > 0
      ? [{ label: "p50", value: commit.p50 }, { label: "p99", value: commit.p99 }]
      : [],
    {
      title: `Commit latency (${commit.count} commits${
        r.histograms.commit_ms.scale === "log" ? ", log scale" : ""
      })`,
      xLabel: "commit latency (ms)",
      yLabel: "commits",
    },
  );
  const files = lineChart(
    r.timeseries.file_count.map((p) => ({ x: p.t_s, y: p.files })),
    {
      title: "Live data files",
      xLabel: "run time (s)",
      yLabel: "files",
      step: true,
      marks,
      xRange,
    },
  );
  const sections = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>neuralake streaming run ${escapeXml(r.run_id)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    `<h1>Streaming run ${escapeXml(r.run_id)}</h1>`,
    `<p class="meta">Table <code>${escapeXml(r.table)}</code>, started ${
      escapeXml(r.started_at)
    }, finished ${escapeXml(r.finished_at)} (${escapeXml(String(r.wall_seconds))} s)</p>`,
    `<p class="verdict ${v.toLowerCase()}">Verification: ${v}</p>`,
    "<h2>Headline</h2>",
    htmlTable({ header: ["metric", "value"], rows: headlineRows(r) }),
    "<h2>Throughput</h2>",
    throughput,
    "<h2>Commit latency</h2>",
    latency,
    "<h2>Files</h2>",
    files,
    "<h2>Writers</h2>",
    r.writers.length > 0 ? htmlTable(writersTable(r)) : "<p>No writer committed a batch.</p>",
    "<h2>Latency</h2>",
    htmlTable(latencyTable(r)),
    "<h2>Maintenance</h2>",
    htmlTable(maintenanceTable(r)),
    "<h2>Chaos</h2>",
    `<p>Mode: ${
      escapeXml(r.chaos.mode)
    }, ${r.chaos.kills} kills, ${r.chaos.faults} faults injected, ${
      r.chaos.missed > 0
        ? `${r.chaos.missed} planned actions that did NOT happen (listed as chaos_missed), `
        : ""
    }${r.chaos.events.length + r.chaos.events_omitted} events${
      r.chaos.events_omitted > 0
        ? ` (the first ${r.chaos.events.length} listed and charted, the rest in streaming_metrics.csv and its gzipped older segments, of which the oldest go past --run-files-max)`
        : ""
    } (kills are red and faults orange on the charts).</p>`,
    r.chaos.events.length > 0 ? htmlTable(chaosTable(r)) : "",
    "<h2>Where the time went</h2>",
    "<p>Time summed over all writer batches, per stage.</p>",
    htmlTable(breakdownTable(r)),
    "<h2>Verification</h2>",
    `<p class="verdict ${v.toLowerCase()}">${v}</p>`,
    verificationNote(r) ? `<p>${escapeXml(verificationNote(r))}</p>` : "",
    r.verification.checks.length > 0
      ? htmlTable(checksTable(r), (row) => row[1] === "FAIL")
      : "<p>No checks were run.</p>",
    "</body>",
    "</html>",
    "",
  ];
  return sections.join("\n");
}
