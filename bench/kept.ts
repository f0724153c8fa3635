/**
 * What the bench keeps of a stream repetition whose own verification failed:
 * its run directory (metrics CSV, results JSON with every check, summary)
 * and a copy of its table, read through the table's store so that an S3
 * table outlives the bench's S3 server. Without them a failed repetition
 * leaves only a `-1` in the results, since the scratch directory and the
 * server's data go at the end of the run.
 *
 * Everything goes under `bench-results/<run stamp>-failed/<label>/`, beside
 * the run's results, and the repetition's validity names that folder.
 */

import type { Verification } from "../src/metrics/results.ts";
import type { StreamRun } from "../src/roles/orchestrator.ts";
import { openTable } from "../src/ops/table.ts";
import { mapLimit } from "../src/util/concurrency.ts";
import { copyTree } from "./fixtures.ts";

/** What a stream repetition reports to the harness about its verification. */
export interface StreamVerdict {
  /** Rows the table holds for the harness: the acknowledged rows, or -1 when verification failed. */
  tableRows: number;
  /** Why the repetition is invalid and where its evidence is, when it is. */
  failure?: string;
}

/** What the verdict needs of a finished stream run. */
export interface FinishedStream {
  /** The run id, which is also its directory's name. */
  runId: string;
  runDir: string;
  rowsAcknowledged: number;
  verification: Verification;
}

/** The parts of a `runStream` result that the verdict reads. */
export function finishedStream(run: StreamRun): FinishedStream {
  return {
    runId: run.results.run_id,
    runDir: run.dir.path,
    rowsAcknowledged: run.results.totals.rows_acknowledged,
    verification: run.results.verification,
  };
}

/**
 * Judges a stream repetition by its own verification; on a failure keeps its
 * run directory and table in `keepDir/label` and says so.
 */
export async function streamVerdict(
  run: FinishedStream,
  table: string,
  keepDir: string,
  label: string,
  progress: (line: string) => void,
): Promise<StreamVerdict> {
  if (run.verification.passed) return { tableRows: run.rowsAcknowledged };
  const failed = run.verification.checks.filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.detail}`).join("; ");
  const dest = `${keepDir}/${label}`;
  let kept: string;
  try {
    await keepRun(run.runId, run.runDir, table, dest);
    kept = `run directory and table kept in ${dest}`;
  } catch (error) {
    kept = `keeping them in ${dest} failed: ${(error as Error).message}`;
  }
  const failure = `verification failed (${failed}); ${kept}`;
  progress(`${label}: ${failure}`);
  return { tableRows: -1, failure };
}

/** Copies a run directory and every object of its table under `dest`. */
async function keepRun(runId: string, runDir: string, table: string, dest: string) {
  await Deno.mkdir(dest, { recursive: true });
  await copyTree(runDir, `${dest}/${runId}`);
  await Deno.writeTextFile(`${dest}/TABLE.txt`, `${table}\n`);
  const from = await openTable(table);
  const keys: string[] = [];
  for await (const meta of from.store.list("")) keys.push(meta.key);
  await mapLimit(keys, 8, async (key) => {
    const bytes = await from.store.get(key);
    if (bytes === undefined) return; // deleted since the listing (vacuum)
    const path = `${dest}/table/${key}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  });
}
