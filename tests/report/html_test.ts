/** The self-contained HTML report of a run. */

import { assert, assertEquals, assertMatch } from "../_helpers/assert.ts";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { buildResults } from "../../src/metrics/results.ts";
import { renderHtml } from "../../src/report/html.ts";
import { syntheticContext, syntheticResults } from "../metrics/synthetic_run.ts";

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

Deno.test("renderHtml() draws three SVG charts and the headline table, with no NaN", () => {
  const html = renderHtml(syntheticResults());
  assert(html.startsWith("<!DOCTYPE html>"));
  assertEquals(count(html, /<svg/g), 3);
  assert(!/NaN|Infinity/.test(html));
  assertMatch(html, /Acknowledged rows per second/);
  assertMatch(html, /Commit latency \(5 commits\)/);
  assertMatch(html, /Live data files/);
  assertMatch(html, /<td>Rows acknowledged<\/td><td class="num">3,500<\/td>/);
  assertMatch(html, /p99 50/);
  assertMatch(html, /Verification: PASSED/);
});

Deno.test("renderHtml() is self-contained: no scripts, no external resources", () => {
  const html = renderHtml(syntheticResults());
  assert(!/<script/i.test(html));
  assert(!/<link|<img|@import|url\(/i.test(html));
  assert(!/(src|href)=/i.test(html));
});

Deno.test("renderHtml() escapes a table name holding a script tag", () => {
  const results = syntheticResults();
  results.table = `s3://bucket/<script>alert("x")</script>`;
  results.verification.checks[0]!.name = "<img src=x onerror=alert(1)>";
  results.writers[0]!.id = "writer-<b>0</b>";
  const html = renderHtml(results);
  assert(!/<script/i.test(html));
  assert(!html.includes("<img"));
  assert(!html.includes("<b>0"));
  assertMatch(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
});

Deno.test("renderHtml() shows FAILED and marks the failing check", () => {
  const html = renderHtml(syntheticResults(true));
  assertMatch(html, /<p class="verdict failed">Verification: FAILED<\/p>/);
  assertMatch(html, /<tr class="fail"><td>no duplicate keys<\/td><td>FAIL<\/td>/);
  assert(!html.includes("PASSED"));
});

Deno.test("renderHtml() of a run with no events still draws three charts without NaN", () => {
  const context = syntheticContext();
  const instant = renderHtml(
    buildResults(new MetricsRecorder(), { ...context, finishedAt: context.startedAt }),
  );
  assertEquals(count(instant, /<svg/g), 3);
  assertEquals(count(instant, /No data/g), 3);
  assert(!/NaN|Infinity/.test(instant));
  // Over 2.5 s without rows, throughput is a flat line at zero.
  const idle = renderHtml(buildResults(new MetricsRecorder(), context));
  assertEquals(count(idle, /<svg/g), 3);
  assertEquals(count(idle, /No data/g), 2);
  assert(!/NaN|Infinity/.test(idle));
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
  assertEquals(r.timeseries.throughput.length, 1);
  const html = renderHtml(r);
  assertEquals(count(html, /<svg/g), 3);
  assertEquals(count(html, /No data/g), 0);
  assert(!/NaN|Infinity/.test(html));
});
