/**
 * Running `neuralake stream` as a user does (a child process of the real
 * command line) and checking a run: its own verification, its outputs, and
 * an independent read of the table by delta-rs.
 */

import { assert, assertEquals } from "./assert.ts";
import { deltaRs } from "./delta_rs.ts";
import { NEURALAKE_RUN } from "./cli.ts";
import { parse } from "csv-parse/sync";

/** Settings that make a short run exercise every role. */
const SHORT = [
  "--batch-rows",
  "20000",
  "--compaction-interval",
  "500ms",
  "--min-files",
  "4",
  "--vacuum-interval",
  "1500ms",
  "--retention",
  "15s",
  "--allow-short-retention",
  "--checkpoint-every",
  "20",
];

/** A finished run: its exit status, results and stderr. */
export interface Run {
  status: Deno.CommandStatus;
  // deno-lint-ignore no-explicit-any
  results: any;
  stderr: string;
  stdout: string;
}

/** Runs `neuralake stream` on `table` with short settings plus `args`. */
export async function stream(
  table: string,
  out: string,
  args: string[],
  options: {
    sigintAfterMs?: number;
    /**
     * Stops the run with SIGINT once its metrics events (streaming_metrics.csv,
     * as written so far) satisfy `until`; the run fails with `what` if they
     * do not within `timeoutMs` (then it is stopped anyway). With `during`, the
     * signal waits for it to return too. Pass a `--duration`
     * well past the timeout, so that the condition, not the clock, ends the run.
     */
    stopWhen?: {
      until: (events: MetricsRow[]) => boolean;
      what: string;
      /** @default 150_000 */
      timeoutMs?: number;
    };
    env?: Record<string, string>;
    /** Runs while the stream does, given a way to stop it (SIGINT); the run's result waits for it too. */
    during?: (stop: () => void) => Promise<void>;
    /** Add the short settings (false: the profile's, then `args`). @default true */
    short?: boolean;
  } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...NEURALAKE_RUN,
      "stream",
      table,
      "--out",
      out,
      ...(options.short === false ? [] : SHORT),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  let exited = false;
  const stop = () => {
    if (!exited) child.kill("SIGINT");
  };
  if (options.sigintAfterMs !== undefined) setTimeout(stop, options.sigintAfterMs);
  const outputDone = child.output().finally(() => (exited = true));
  const watch = options.stopWhen;
  const observing = options.during?.(stop) ?? Promise.resolve();
  const watching = watch
    ? stopWhenMet(out, watch.until, watch.timeoutMs ?? 150_000, () => exited)
    : Promise.resolve(true);
  // With `stopWhen`, the signal comes once the condition holds and `during` is done.
  if (watch) Promise.all([watching, observing]).then(stop, stop);
  const [output, , met] = await Promise.all([outputDone, observing, watching]);
  const stderr = new TextDecoder().decode(output.stderr);
  assert(
    met,
    `the run did not get there within ${(watch?.timeoutMs ?? 150_000) / 1000} s: ${watch?.what}; ${
      stderr.slice(-2000)
    }`,
  );
  const latest = await Deno.readLink(`${out}/latest`).catch(() => undefined);
  if (!output.success) console.error(stderr.slice(-3000));
  assert(latest, `no run directory was written: ${stderr.slice(-2000)}`);
  const results = JSON.parse(await Deno.readTextFile(`${out}/${latest}/streaming_results.json`));
  for (const file of ["streaming_metrics.csv", "summary_report.md", "report.html"]) {
    const info = await Deno.stat(`${out}/${latest}/${file}`);
    assert(info.size > 0, `${file} is empty`);
  }
  return { status: output, results, stderr, stdout: new TextDecoder().decode(output.stdout) };
}

/** One row of a run's streaming_metrics.csv, by column name. */
export type MetricsRow = Record<string, string>;

/**
 * Polls the run directory's metrics events under `out` until `until` holds
 * (true), the run exits, or `timeoutMs` passes (false).
 */
async function stopWhenMet(
  out: string,
  until: (events: MetricsRow[]) => boolean,
  timeoutMs: number,
  exited: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    await new Promise((r) => setTimeout(r, 250));
    const events = await metricsSoFar(out);
    if (events.length > 0 && until(events)) return true;
  }
  return false;
}

/** The complete lines of the one run directory's streaming_metrics.csv under `out`, so far. */
async function metricsSoFar(out: string): Promise<MetricsRow[]> {
  try {
    for await (const entry of Deno.readDir(out)) {
      if (!entry.isDirectory) continue;
      const text = await Deno.readTextFile(`${out}/${entry.name}/streaming_metrics.csv`);
      return parse(text.slice(0, text.lastIndexOf("\n") + 1), { columns: true }) as MetricsRow[];
    }
  } catch {
    // Not written yet, or a line cut mid-field: the next poll reads it again.
  }
  return [];
}

/**
 * What `checkRun` needs of a run, as a `stopWhen`: each of `writers` writers
 * committed a batch, the compactor compacted (unless `maintenance` is false)
 * and vacuum ran.
 */
export function everyRoleWorked(
  writers: number,
  options: { maintenance?: boolean } = {},
): { until: (events: MetricsRow[]) => boolean; what: string } {
  const ids = Array.from({ length: writers }, (_, w) => `writer-${w}`);
  const needs = [
    ...ids.map((id) => (e: MetricsRow) => e.role_id === id && e.event === "batch_committed"),
    ...(options.maintenance === false ? [] : [(e: MetricsRow) => e.event === "compaction"]),
    (e: MetricsRow) => e.event === "vacuum",
  ];
  return {
    until: (events) => needs.every((need) => events.some(need)),
    what: `each of ${ids.join(", ")} committed a batch, ${
      options.maintenance === false ? "" : "the compactor compacted, "
    }and vacuum ran`,
  };
}

/** delta-rs counts this run's rows: all present, each key once, per batch as acknowledged. */
export async function checkWithDeltaRs(
  table: string,
  run: Run,
  storageOptions?: Record<string, string>,
) {
  const stats = await deltaRs({
    op: "session_stats",
    uri: table,
    session: run.results.run_id,
    ...(storageOptions ? { storage_options: storageOptions } : {}),
  });
  assert(stats.ok, JSON.stringify(stats));
  assertEquals(stats.rows, run.results.totals.rows_acknowledged, "delta-rs row count");
  assertEquals(stats.distinct_keys, stats.rows, "every key once");
  const perWriter = new Map<string, number[]>();
  for (const [writer, seq] of stats.batches as [string, number, number][]) {
    perWriter.set(writer, [...(perWriter.get(writer) ?? []), seq]);
  }
  for (const [writer, seqs] of perWriter) {
    seqs.sort((a, b) => a - b);
    assertEquals(seqs, seqs.map((_, i) => seqs[0]! + i), `${writer} has no gaps`);
  }
}

/** The run verified, exited 0 and ran every role. */
export function checkRun(run: Run, writers: number, options: { maintenance?: boolean } = {}) {
  const r = run.results;
  assert(r.verification.passed, JSON.stringify(r.verification.checks, null, 1));
  assertEquals(run.status.code, 0, run.stderr.slice(-3000));
  assert(r.totals.rows_acknowledged > 0);
  assertEquals(r.writers.length, writers);
  if (options.maintenance !== false) {
    assert(r.compaction.runs >= 1, `no compaction ran: ${JSON.stringify(r.compaction)}`);
  }
  assert(r.vacuum.runs >= 1, `no vacuum ran: ${JSON.stringify(r.vacuum)}`);
  assert(typeof r.latency_ms.commit.p99 === "number");
  assert(r.totals.rows_per_second > 0);
}
