/** The Markdown summary of a run. */

import assert from "node:assert/strict";
import { renderSummary } from "../../src/report/markdown.ts";
import { syntheticResults } from "../metrics/synthetic_run.ts";

Deno.test("renderSummary() shows PASSED and the headline figures of a passing run", () => {
  const md = renderSummary(syntheticResults());
  assert.match(md, /^# Streaming run streaming-20261127T105504Z$/m);
  assert.match(md, /^\*\*Verification: PASSED\*\*$/m);
  assert.ok(!md.includes("FAILED"));
  assert.match(md, /^\| Rows acknowledged \| 3,500 \|$/m);
  assert.match(md, /^\| Rows per second \| 1,400 \|$/m);
  assert.match(md, /^\| Commits \| 6 \|$/m);
  assert.match(md, /^\| Commit latency p50 \| 30\.0 ms \|$/m);
  assert.match(md, /^\| Commit latency p99 \| 50\.0 ms \|$/m);
  assert.match(md, /^\| Visibility latency p99 \| 70\.0 ms \|$/m);
});

Deno.test("renderSummary() shows FAILED and the failing check when a check fails", () => {
  const md = renderSummary(syntheticResults(true));
  assert.match(md, /^\*\*Verification: FAILED\*\* \(1 of 2 checks failed\)$/m);
  assert.match(md, /^\| no duplicate keys \| FAIL \| 12 duplicate keys \|$/m);
  assert.match(md, /^\| no acknowledged row missing \| pass \| 3500 of 3500 rows \|$/m);
  assert.ok(!md.includes("PASSED"));
});

Deno.test("renderSummary() has a table per writer, maintenance, chaos and time breakdown", () => {
  const md = renderSummary(syntheticResults());
  assert.match(md, /^\| writer-0 \| 1,500 \| 600 \| 3 \| 3 \| 0 \| 0 \| 2 \|$/m);
  assert.match(md, /^\| writer-1 \| 2,000 \| 800 \| 4 \| 2 \| 1 \| 1 \| 1 \|$/m);
  assert.match(md, /^\| compaction \| 1 \| 5 files \(6\.8 KiB\) into 1 \(6\.3 KiB\)/m);
  assert.match(md, /^\| checkpoint \| 1 \| last at version 6 \|$/m);
  assert.match(md, /^\| vacuum \| 1 \| 5 files deleted \(6\.8 KiB\) \|$/m);
  assert.match(
    md,
    /^Mode: kill-writers, 1 kills, 0 faults injected, 2 events \(every one listed below\)\.$/m,
  );
  assert.match(md, /^\| 1\.8 \| kill \| writer-1 \| SIGKILL during upload \|$/m);
  // 150 of 202 ms went to commits.
  assert.match(md, /^\| commit \| 0\.15 \| 74\.3% \|$/m);
  assert.match(md, /^\| generate \| 0\.01 \| 3\.5% \|$/m);
});

Deno.test("renderSummary() keeps tables intact when text holds pipes and line breaks", () => {
  const results = syntheticResults(true);
  results.verification.checks[1]!.detail = "a | b\nc";
  const md = renderSummary(results);
  assert.match(md, /^\| no duplicate keys \| FAIL \| a \\\| b c \|$/m);
});

Deno.test("renderSummary() gives one unit per column and explains conflicts and visibility", () => {
  const md = renderSummary(syntheticResults());
  assert.match(md, /^\| stage \| time \(s\) \| share \|$/m);
  assert.ok(!/^\| (generate|encode|upload|commit) \| [^|]*(ms|s) \| [^|]*% \|$/m.test(md), md);
  assert.match(md, /A conflict is a commit that lost the race for a table version/);
  assert.match(md, /a conflict costs\s+time, not a retry/);
  assert.match(md, /Visibility is the time from a batch's first row being generated/);
});

Deno.test("renderSummary() records the run's settings in human units", () => {
  const results = syntheticResults();
  results.config = {
    profile: "local",
    seed: 42,
    writers: 3,
    batchIntervalMs: 200,
    durationMs: 30_000,
    "vacuum.retentionMs": 604_800_000,
    batchRows: 100_000,
    "compaction.targetFileSize": 33_554_432,
    s3: { secret: "***" },
  };
  const md = renderSummary(results);
  assert.match(md, /^## Settings$/m);
  assert.match(md, /^\| profile \| local \|$/m);
  assert.match(md, /^\| seed \| 42 \|$/m);
  assert.match(md, /^\| writers \| 3 \|$/m);
  assert.match(md, /^\| batchIntervalMs \| 200 ms \|$/m);
  assert.match(md, /^\| durationMs \| 30\.0 s \|$/m);
  assert.match(md, /^\| vacuum\.retentionMs \| 7 days \|$/m);
  assert.match(md, /^\| batchRows \| 100,000 \|$/m);
  assert.match(md, /^\| compaction\.targetFileSize \| 32\.0 MiB \|$/m);
  assert.ok(!md.includes("secret"));
});
