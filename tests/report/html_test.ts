/** The self-contained HTML report of a run. */

import assert from "node:assert/strict";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { buildResults } from "../../src/metrics/results.ts";
import { renderHtml } from "../../src/report/html.ts";
import { syntheticContext, syntheticResults } from "../metrics/synthetic_run.ts";

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

Deno.test("renderHtml() draws three SVG charts and the headline table, with no NaN", () => {
  const html = renderHtml(syntheticResults());
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.equal(count(html, /<svg/g), 3);
  assert.ok(!/NaN|Infinity/.test(html));
  assert.match(html, /Acknowledged rows per second/);
  assert.match(html, /Commit latency \(5 commits\)/);
  assert.match(html, /Live data files/);
  assert.match(html, /<td>Rows acknowledged<\/td><td class="num">3,500<\/td>/);
  assert.match(html, /p99 50/);
  assert.match(html, /Verification: PASSED/);
});

Deno.test("renderHtml() is self-contained: no scripts, no external resources", () => {
  const html = renderHtml(syntheticResults());
  assert.ok(!/<script/i.test(html));
  assert.ok(!/<link|<img|@import|url\(/i.test(html));
  assert.ok(!/(src|href)=/i.test(html));
});

Deno.test("renderHtml() escapes a table name holding a script tag", () => {
  const results = syntheticResults();
  results.table = `s3://bucket/<script>alert("x")</script>`;
  results.verification.checks[0]!.name = "<img src=x onerror=alert(1)>";
  results.writers[0]!.id = "writer-<b>0</b>";
  const html = renderHtml(results);
  assert.ok(!/<script/i.test(html));
  assert.ok(!html.includes("<img"));
  assert.ok(!html.includes("<b>0"));
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
});

Deno.test("renderHtml() shows FAILED and marks the failing check", () => {
  const html = renderHtml(syntheticResults(true));
  assert.match(html, /<p class="verdict failed">Verification: FAILED<\/p>/);
  assert.match(html, /<tr class="fail"><td>no duplicate keys<\/td><td>FAIL<\/td>/);
  assert.ok(!html.includes("PASSED"));
});

Deno.test("renderHtml() of a run with no events still draws three charts without NaN", () => {
  const context = syntheticContext();
  const instant = renderHtml(
    buildResults(new MetricsRecorder(), { ...context, finishedAt: context.startedAt }),
  );
  assert.equal(count(instant, /<svg/g), 3);
  assert.equal(count(instant, /No data/g), 3);
  assert.ok(!/NaN|Infinity/.test(instant));
  // Over 2.5 s without rows, throughput is a flat line at zero.
  const idle = renderHtml(buildResults(new MetricsRecorder(), context));
  assert.equal(count(idle, /<svg/g), 3);
  assert.equal(count(idle, /No data/g), 2);
  assert.ok(!/NaN|Infinity/.test(idle));
});

Deno.test("renderHtml() of single-point series draws them without NaN", () => {
  const recorder = new MetricsRecorder();
  recorder.record({
    t_ms: 0,
    time: "2026-11-27T10:55:04.000Z",
    role: "writer",
    role_id: "writer-0",
    event: "batch_committed",
    rows: 10,
    commit_ms: 4,
  });
  recorder.record({
    t_ms: 0,
    time: "2026-11-27T10:55:04.000Z",
    role: "orchestrator",
    role_id: "orchestrator",
    event: "table_state",
    files_total: 1,
  });
  const r = buildResults(recorder, {
    ...syntheticContext(),
    finishedAt: new Date("2026-11-27T10:55:04.500Z"),
  });
  assert.equal(r.timeseries.throughput.length, 1);
  const html = renderHtml(r);
  assert.equal(count(html, /<svg/g), 3);
  assert.equal(count(html, /No data/g), 0);
  assert.ok(!/NaN|Infinity/.test(html));
});
