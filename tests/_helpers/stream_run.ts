/**
 * Running `neuralake stream` as a user does (a child process of the real
 * command line) and checking a run: its own verification, its outputs, and
 * an independent read of the table by delta-rs.
 */

import { assert, assertEquals } from "./assert.ts";
import { deltaRs } from "./delta_rs.ts";
import { NEURALAKE_RUN } from "./cli.ts";

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
    env?: Record<string, string>;
    /** Runs while the stream does; the run's result waits for it too. */
    during?: () => Promise<void>;
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
  if (options.sigintAfterMs !== undefined) {
    setTimeout(() => child.kill("SIGINT"), options.sigintAfterMs);
  }
  const [output] = await Promise.all([child.output(), options.during?.()]);
  const stderr = new TextDecoder().decode(output.stderr);
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
