/**
 * Apache Spark with Delta as an independent reader in tests, through
 * `tests/py/spark_tool.py`: one JVM per call, for as many tables and SQL
 * statements as the call carries (a JVM takes tens of seconds to start, so
 * batch what you can; see `sparkReadAll`).
 *
 * The interpreter and jars are `$NEURALAKE_SPARK_PYTHON` and
 * `$NEURALAKE_SPARK_JARS`, or what `scripts/ensure-spark.sh` prints (it
 * installs Spark into .cache/ on first use).
 */

import { runPythonTool } from "./python_tool.ts";

const ROOT = new URL("../../", import.meta.url);
const TOOL = new URL("tests/py/spark_tool.py", ROOT).pathname;

/** One read's answer: canonical rows (tests/py/canonical.py), sorted. */
export type SparkRead =
  | { ok: true; version: number; schema: unknown; rows: Record<string, unknown>[] }
  | { ok: false; error: string; message: string };

/** One SQL statement's answer. */
export type SparkSql =
  | { ok: true; rows: Record<string, unknown>[] }
  | { ok: false; error: string; message: string };

/** A read of one table, optionally at a version or of some columns. */
export interface SparkReadRequest {
  uri: string;
  version?: number;
  /** `timestampAsOf`, in the session's time zone (`yyyy-MM-dd HH:mm:ss.SSS`). */
  timestamp?: string;
  columns?: string[];
}

let environment: Promise<{ python: string; jars: string }> | undefined;

/** The Spark venv's python and the Delta jars, installing them if needed. */
export function sparkEnvironment(): Promise<{ python: string; jars: string }> {
  return environment ??= (async () => {
    const python = Deno.env.get("NEURALAKE_SPARK_PYTHON");
    const jars = Deno.env.get("NEURALAKE_SPARK_JARS");
    if (python && jars) return { python, jars };
    const out = await new Deno.Command("sh", {
      args: [new URL("scripts/ensure-spark.sh", ROOT).pathname],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) throw new Error(`scripts/ensure-spark.sh failed (exit ${out.code})`);
    const value = (key: string) => {
      const match = text.match(new RegExp(`^export ${key}='([^']*)'$`, "m"));
      if (!match) throw new Error(`scripts/ensure-spark.sh printed no ${key}: ${text}`);
      return match[1]!;
    };
    return { python: value("NEURALAKE_SPARK_PYTHON"), jars: value("NEURALAKE_SPARK_JARS") };
  })();
}

/**
 * Runs SQL statements (in order) and then reads tables, all in one Spark
 * session. A failing statement or read is an answer with `ok: false`; a
 * failure to start Spark throws.
 */
export async function spark(request: {
  sql?: string[];
  reads?: SparkReadRequest[];
  conf?: Record<string, string>;
}): Promise<{ sql: SparkSql[]; reads: SparkRead[] }> {
  const { python, jars } = await sparkEnvironment();
  const out = await runPythonTool(python, TOOL, request, { NEURALAKE_SPARK_JARS: jars });
  const stderr = out.stderr.slice(-4000);
  if (!out.stdout) throw new Error(`spark_tool.py failed (exit ${out.code}): ${stderr}`);
  const answer = JSON.parse(out.stdout.split("\n").at(-1)!);
  if (!answer.ok) {
    throw new Error(`Spark did not start: ${answer.error}: ${answer.message}`, { cause: stderr });
  }
  return { sql: answer.sql, reads: answer.reads };
}

/** Reads tables with Spark in one session; throws naming the first that fails. */
export async function sparkReadAll(
  reads: SparkReadRequest[],
): Promise<{ version: number; rows: Record<string, unknown>[] }[]> {
  const answer = await spark({ reads });
  return answer.reads.map((r, i) => {
    if (!r.ok) throw new Error(`Spark cannot read ${reads[i]!.uri}: ${r.error}: ${r.message}`);
    return { version: r.version, rows: r.rows };
  });
}
