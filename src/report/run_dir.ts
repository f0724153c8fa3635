/**
 * The run directory of `neuralake stream`: `<out>/streaming-<UTC timestamp>/`
 * holding `streaming_metrics.csv` (written by the recorder during the run),
 * `streaming_results.json`, `summary_report.md` and `report.html`, and the
 * `<out>/latest` pointer to the newest run.
 *
 * Invariants:
 * - A run directory is never reused: if the name is taken (two runs in one
 *   second), a `-2`, `-3`, ... suffix is added.
 * - `latest` is a relative symlink, replaced atomically (a temporary symlink
 *   renamed over it), so a reader never sees it missing or half-made. Where
 *   symlinks cannot be made, `latest.txt` holds the directory name instead,
 *   also replaced atomically.
 * - Output files are written to a temporary name and renamed into place.
 */

import type { RunResults } from "../metrics/results.ts";
import { renderHtml } from "./html.ts";
import { renderSummary } from "./markdown.ts";

/** File names inside a run directory. */
export const RUN_FILES = {
  metrics: "streaming_metrics.csv",
  results: "streaming_results.json",
  summary: "summary_report.md",
  report: "report.html",
} as const;

/** A created run directory and the paths of its files. */
export interface RunDir {
  /** The directory name, such as `streaming-20261127T105504Z`; also the run id. */
  name: string;
  /** The directory path. */
  path: string;
  metricsCsv: string;
  resultsJson: string;
  summaryMd: string;
  reportHtml: string;
  /** How `latest` points here: a symlink, or `latest.txt` where symlinks failed. */
  latest: "symlink" | "file";
}

/**
 * The directory name of a run that started at `date`.
 *
 * @example
 * ```ts
 * runDirName(new Date("2026-11-27T10:55:04.321Z")); // "streaming-20261127T105504Z"
 * ```
 */
export function runDirName(date: Date): string {
  const iso = date.toISOString(); // 2026-11-27T10:55:04.321Z
  return `streaming-${iso.slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/**
 * Creates `<out>/streaming-<timestamp>/` (and `out` if needed) and points
 * `<out>/latest` at it.
 */
export async function createRunDir(out: string, startedAt: Date = new Date()): Promise<RunDir> {
  await Deno.mkdir(out, { recursive: true });
  const base = runDirName(startedAt);
  let name = base;
  for (let n = 2;; n++) {
    try {
      await Deno.mkdir(join(out, name));
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || n > 1000) {
        throw new Error(`Cannot create the run directory ${join(out, name)}`, { cause: error });
      }
      name = `${base}-${n}`;
    }
  }
  const latest = await pointLatest(out, name);
  const path = join(out, name);
  return {
    name,
    path,
    metricsCsv: join(path, RUN_FILES.metrics),
    resultsJson: join(path, RUN_FILES.results),
    summaryMd: join(path, RUN_FILES.summary),
    reportHtml: join(path, RUN_FILES.report),
    latest,
  };
}

/**
 * Points `<out>/latest` at the run directory `name` (a name inside `out`):
 * a relative symlink when possible, else `<out>/latest.txt`.
 */
export async function pointLatest(out: string, name: string): Promise<"symlink" | "file"> {
  const temp = join(out, `.latest-${crypto.randomUUID()}`);
  try {
    await Deno.symlink(name, temp, { type: "dir" });
  } catch {
    await writeAtomically(join(out, "latest.txt"), `${name}\n`);
    return "file";
  }
  try {
    await Deno.rename(temp, join(out, "latest"));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new Error(
      `Cannot point ${join(out, "latest")} at ${name}: move away whatever is there`,
      { cause: error },
    );
  }
  // A stale latest.txt from a run without symlinks would contradict the link.
  await Deno.remove(join(out, "latest.txt")).catch(() => {});
  return "symlink";
}

/**
 * Resolves `<out>/latest` (the symlink, or `latest.txt`) to the run directory
 * name, or undefined if there is none.
 */
export async function readLatest(out: string): Promise<string | undefined> {
  try {
    return await Deno.readLink(join(out, "latest"));
  } catch {
    try {
      return (await Deno.readTextFile(join(out, "latest.txt"))).trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Writes `streaming_results.json`, `summary_report.md` and `report.html` into
 * a run directory.
 */
export async function writeRunOutputs(dir: RunDir | string, results: RunResults): Promise<void> {
  const path = typeof dir === "string" ? dir : dir.path;
  await writeAtomically(
    join(path, RUN_FILES.results),
    `${JSON.stringify(results, jsonValue, 2)}\n`,
  );
  await writeAtomically(join(path, RUN_FILES.summary), renderSummary(results));
  await writeAtomically(join(path, RUN_FILES.report), renderHtml(results));
}

/** JSON has no bigint: write safe ones as numbers and larger ones as strings. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new Error(`Cannot write ${path}`, { cause: error });
  }
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${name}` : `${dir}/${name}`;
}
