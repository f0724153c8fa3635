/**
 * The `limit` scenario: the stream job (3 writers, compaction and vacuum on,
 * local disk) against the machine's ceiling measured in the same run, which
 * is generating and encoding the stream's rows into Parquet in memory on
 * every core (one worker per core; no upload, no commit, no maintenance).
 * The ratio is the share of the ceiling the stream job reaches.
 */

import { resolveConfig } from "../src/roles/config.ts";
import { runStream } from "../src/roles/orchestrator.ts";
import { measurePairs, type ScenarioResult } from "./harness.ts";
import { finishedStream, streamVerdict } from "./kept.ts";
import type { BenchContext, Scenario } from "./scenarios.ts";

/** Rows generated and encoded per second on every core, for `seconds`. */
export async function encodeCeiling(
  rows: number,
  seconds: number,
  workers = navigator.hardwareConcurrency,
): Promise<{ rows_per_second: number; rows: number }> {
  const url = new URL("./limit_worker.ts", import.meta.url).href;
  const answers = await Promise.all(
    Array.from(
      { length: workers },
      (_, w) =>
        new Promise<{ rows: number; seconds: number }>((resolve, reject) => {
          const worker = new Worker(url, { type: "module" });
          worker.onmessage = (e) => {
            worker.terminate();
            resolve(e.data);
          };
          worker.onerror = (e) => {
            worker.terminate();
            reject(new Error(`A ceiling worker failed: ${e.message}`));
          };
          worker.postMessage({ writerId: `writer-${w}`, rows, seconds });
        }),
    ),
  );
  const total = answers.reduce((n, a) => n + a.rows, 0);
  const longest = Math.max(...answers.map((a) => a.seconds));
  return { rows_per_second: total / longest, rows: total };
}

export const limit: Scenario = {
  name: "limit",
  async run(ctx: BenchContext): Promise<ScenarioResult[]> {
    const seconds = ctx.quick ? 3 : 10;
    const rows = 50_000;
    const workers = navigator.hardwareConcurrency;
    let counter = 0;
    return await measurePairs(
      "limit",
      `stream job (3 writers, ${
        rows.toLocaleString("en-US")
      } rows/batch, ${seconds} s) vs generate + encode on ${workers} cores`,
      [
        { key: "rows_per_second", label: "rows/s", better: "higher" },
        // The stream's rate over its whole run, start-up included (the
        // ceiling's figure is the same in both rows): what this row measured
        // before 2026-12-01, kept to compare with.
        { key: "rows_per_second_whole", label: "rows/s, start-up included", better: "higher" },
      ],
      {
        repetitions: ctx.repetitions,
        warmup: ctx.warmup,
        sameRowsAcrossSides: false,
        peer: `encode ceiling (${workers} workers)`,
        notes:
          "the ratio is the share of the machine's ceiling the stream job reaches: the ceiling generates and encodes the same rows into Parquet in memory, one worker per core, with no upload, commit or maintenance; both sides are timed once started (the stream from its first writer up, the ceiling's workers once loaded)",
      },
      async () => {
        const n = counter++;
        const config = resolveConfig({
          profile: "local",
          env: {},
          flags: [
            ["table", `${ctx.work}/limit-table-${n}`],
            ["out", `${ctx.work}/limit-runs-${n}`],
            ["durationMs", `${seconds}s`],
            ["writers", "3"],
            ["batchRows", String(rows)],
            ["compaction.intervalMs", "1s"],
          ],
        });
        const run = await runStream(config, { progress: false });
        const r = run.results;
        const table = `${ctx.work}/limit-table-${n}`;
        const verdict = await streamVerdict(
          finishedStream(run),
          table,
          ctx.keepDir,
          `limit-${n}`,
          ctx.progress,
        );
        await Deno.remove(table, { recursive: true }).catch(() => {});
        return {
          // From the first writer up, as the ceiling's workers are timed once
          // loaded: start-up (5 workers loading their modules, the table
          // created) took 1.4-7 s of a 10 s run on a loaded machine.
          sample: {
            rows_per_second: r.totals.rows_per_second_writing,
            rows_per_second_whole: r.totals.rows_per_second,
          },
          expectedRows: r.totals.rows_acknowledged,
          ...verdict,
        };
      },
      async () => {
        const c = await encodeCeiling(rows, seconds, workers);
        return {
          sample: { rows_per_second: c.rows_per_second, rows_per_second_whole: c.rows_per_second },
          expectedRows: 0,
          tableRows: 0,
        };
      },
      ctx.progress,
    );
  },
};
