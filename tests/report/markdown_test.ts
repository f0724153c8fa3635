/** The Markdown summary of a run. */

import { assert, assertMatch } from "../_helpers/assert.ts";
import { renderSummary } from "../../src/report/markdown.ts";
import { syntheticResults } from "../metrics/synthetic_run.ts";

Deno.test("renderSummary() shows PASSED and the headline figures of a passing run", () => {
  const md = renderSummary(syntheticResults());
  assertMatch(md, /^# Streaming run streaming-20261127T105504Z$/m);
  assertMatch(md, /^\*\*Verification: PASSED\*\*$/m);
  assert(!md.includes("FAILED"));
  assertMatch(md, /^\| Rows acknowledged \| 3,500 \|$/m);
  assertMatch(md, /^\| Rows per second \| 1,400 \|$/m);
  assertMatch(md, /^\| Commits \| 6 \|$/m);
  assertMatch(md, /^\| Commit latency p50 \| 30\.0 ms \|$/m);
  assertMatch(md, /^\| Commit latency p99 \| 50\.0 ms \|$/m);
  assertMatch(md, /^\| Visibility latency p99 \| 70\.0 ms \|$/m);
});

Deno.test("renderSummary() shows FAILED and the failing check when a check fails", () => {
  const md = renderSummary(syntheticResults(true));
  assertMatch(md, /^\*\*Verification: FAILED\*\* \(1 of 2 checks failed\)$/m);
  assertMatch(md, /^\| no duplicate keys \| FAIL \| 12 duplicate keys \|$/m);
  assertMatch(md, /^\| no acknowledged row missing \| pass \| 3500 of 3500 rows \|$/m);
  assert(!md.includes("PASSED"));
});

Deno.test("renderSummary() has a table per writer, maintenance, chaos and time breakdown", () => {
  const md = renderSummary(syntheticResults());
  assertMatch(md, /^\| writer-0 \| writer \| 1,500 \| 600 \| 3 \| 3 \| 0 \| 0 \| 2 \|$/m);
  assertMatch(md, /^\| writer-1 \| writer \| 2,000 \| 800 \| 4 \| 2 \| 1 \| 1 \| 1 \|$/m);
  assertMatch(md, /^\| compaction \| 1 \| 5 files \(6\.8 KiB\) into 1 \(6\.3 KiB\)/m);
  assertMatch(md, /^\| checkpoint \| 1 \| last at version 6 \|$/m);
  assertMatch(md, /^\| vacuum \| 1 \| 5 files deleted \(6\.8 KiB\) \|$/m);
  assertMatch(
    md,
    /^Mode: kill-writers, 1 kills, 0 faults injected, 2 events \(every one listed below\)\.$/m,
  );
  assertMatch(md, /^\| 1\.8 \| kill \| writer-1 \| SIGKILL during upload \|$/m);
  // 150 of 202 ms went to commits.
  assertMatch(md, /^\| commit \| 0\.15 \| 74\.3% \|$/m);
  assertMatch(md, /^\| generate \| 0\.01 \| 3\.5% \|$/m);
});

Deno.test("renderSummary() keeps tables intact when text holds pipes and line breaks", () => {
  const results = syntheticResults(true);
  results.verification.checks[1]!.detail = "a | b\nc";
  const md = renderSummary(results);
  assertMatch(md, /^\| no duplicate keys \| FAIL \| a \\\| b c \|$/m);
});

Deno.test("renderSummary() gives one unit per column and explains conflicts and visibility", () => {
  const md = renderSummary(syntheticResults());
  assertMatch(md, /^\| stage \| time \(s\) \| share \|$/m);
  assert(!/^\| (generate|encode|upload|commit) \| [^|]*(ms|s) \| [^|]*% \|$/m.test(md), md);
  assertMatch(md, /A conflict is a commit that lost the race for a table version/);
  assertMatch(md, /a conflict costs\s+time, not a retry/);
  assertMatch(md, /Visibility is the time from a batch's first row being generated/);
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
  assertMatch(md, /^## Settings$/m);
  assertMatch(md, /^\| profile \| local \|$/m);
  assertMatch(md, /^\| seed \| 42 \|$/m);
  assertMatch(md, /^\| writers \| 3 \|$/m);
  assertMatch(md, /^\| batchIntervalMs \| 200 ms \|$/m);
  assertMatch(md, /^\| durationMs \| 30 s \|$/m);
  assertMatch(md, /^\| vacuum\.retentionMs \| 7 days \|$/m);
  assertMatch(md, /^\| batchRows \| 100,000 \|$/m);
  assertMatch(md, /^\| compaction\.targetFileSize \| 32\.0 MiB \|$/m);
  assert(!md.includes("secret"));
});

Deno.test("renderSummary() marks percentiles taken from a sketch (a long run's) as approximate", () => {
  const r = syntheticResults();
  const exact = renderSummary(r);
  assert(!exact.includes("≈"), "exact percentiles are not marked");
  r.latency_ms.commit = { ...r.latency_ms.commit, approximate: true };
  const md = renderSummary(r);
  assertMatch(md, /^\| Commit latency p50 \| ≈30\.0 ms \|$/m);
  assertMatch(md, /^\| Commit latency p99 \| ≈50\.0 ms \|$/m);
  assertMatch(md, /^\| Visibility latency p99 \| 70\.0 ms \|$/m);
  assertMatch(
    md,
    /^\| commit \| 5 \| 30\.0 ms \| ≈30\.0 ms \| ≈50\.0 ms \| ≈50\.0 ms \| 50\.0 ms \|$/m,
  );
});

Deno.test("renderSummary() says where chaos events past those listed are: the CSV and its segments", () => {
  const results = syntheticResults();
  results.chaos.events_omitted = 20_000;
  const md = renderSummary(results);
  assertMatch(
    md,
    /20,002 events \(the first 2 listed below, the rest in streaming_metrics\.csv and its gzipped older segments, of which the oldest go past --run-files-max\)\./,
  );
});
