/**
 * delta-rs as an independent reader and writer in tests, through
 * `tests/py/delta_rs_tool.py`, and neuralake's own reading of a table in the
 * same value conventions, so that both sides compare row for row.
 */

import { cellAt, cellText, rowObject } from "../../src/cli/cells.ts";
import { type ColumnType, holdsVariant } from "../../src/columnar/types.ts";
import { scanTable } from "../../src/ops/scan.ts";
import type { Table } from "../../src/ops/table.ts";
import { pythonPath } from "./pyarrow.ts";
import { runPythonTool } from "./python_tool.ts";

const TOOL = new URL("../py/delta_rs_tool.py", import.meta.url).pathname;

/** One answer of the tool; `ok: false` carries delta-rs's error. */
// deno-lint-ignore no-explicit-any
export type ToolAnswer = { ok: true; [key: string]: any } | {
  ok: false;
  error: string;
  message: string;
};

/** Sends a request to the delta-rs tool. */
export async function deltaRs(request: Record<string, unknown>): Promise<ToolAnswer> {
  const out = await runPythonTool(await pythonPath(), TOOL, request);
  // delta-rs sometimes crashes while exiting after an error it already
  // reported; the answer it printed still stands.
  if (!out.stdout) throw new Error(`delta_rs_tool.py failed (exit ${out.code}): ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** Rows as canonical JSON strings, sorted, for order-free comparison. */
export function canonicalRows(rows: Record<string, unknown>[], columns?: string[]): string[] {
  return rows.map((row) => {
    const names = columns ?? Object.keys(row).sort();
    return JSON.stringify(names.map((n) => [n, row[n] ?? null]));
  }).sort();
}

/** Reads a table with delta-rs; throws with delta-rs's message if it fails. */
export async function readWithDeltaRs(
  uri: string,
  options: {
    version?: number;
    /** Time travel with `load_as_version(datetime)` to this time, in epoch ms. */
    datetimeMs?: number;
    columns?: string[];
    storageOptions?: Record<string, string> | undefined;
    /**
     * `datafusion` reads through delta-rs's query engine, which applies
     * deletion vectors (its pyarrow reader refuses them). @default "pyarrow"
     */
    engine?: "pyarrow" | "datafusion";
  } = {},
): Promise<{ version: number; rows: Record<string, unknown>[]; columns: [string, string][] }> {
  const answer = await deltaRs({
    op: options.engine === "datafusion" ? "query" : "read",
    uri,
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.datetimeMs !== undefined ? { datetime_ms: options.datetimeMs } : {}),
    ...(options.storageOptions ? { storage_options: options.storageOptions } : {}),
  });
  if (!answer.ok) {
    throw new Error(`delta-rs cannot read ${uri}: ${answer.error}: ${answer.message}`);
  }
  return { version: answer.version, rows: answer.rows, columns: answer.columns };
}

/**
 * Reads every row of a table with neuralake (those `where` keeps, when it is
 * given), in the same conventions.
 */
export async function readWithNeuralake(
  table: Table,
  version?: number,
  columns?: string[],
  where?: string,
): Promise<{ version: number; rows: Record<string, unknown>[] }> {
  const scan = await scanTable(table, {
    ...(version === undefined ? {} : { version }),
    ...(columns ? { columns } : {}),
    ...(where === undefined ? {} : { where }),
  });
  const rows: Record<string, unknown>[] = [];
  for await (const batch of scan.batches) {
    for (let i = 0; i < batch.length; i++) {
      const row = rowObject(batch, i);
      batch.fields.forEach((field, c) => {
        // A column holding a variant compares as its text, which is Spark's to_json of it
        // (the fixtures keep that).
        row[field.name] = holdsVariant(field.type)
          ? variantText(cellAt(batch.columns[c]!, field.type, i), field.type)
          : storedFloats(row[field.name], field.type);
      });
      rows.push(row);
    }
  }
  return { version: scan.stats.version, rows };
}

function variantText(value: unknown, type: ColumnType): string | null {
  return value === null ? null : cellText(value, type);
}

/**
 * `scan` prints a float32 with float32 precision (`10.033434`); delta-rs,
 * pyarrow and Spark give the stored float32 widened to a double
 * (`10.033434104919434`). Both are the same float32: compare the stored value.
 */
function storedFloats(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return value;
  if (typeof type === "string") {
    return type === "float" && typeof value === "number" ? Math.fround(value) : value;
  }
  switch (type.type) {
    case "struct": {
      const row = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields) out[f.name] = storedFloats(row[f.name], f.type);
      return out;
    }
    case "array":
      return (value as unknown[]).map((v) => storedFloats(v, type.elementType));
    case "map":
      return (value as [unknown, unknown][]).map((
        [k, v],
      ) => [storedFloats(k, type.keyType), storedFloats(v, type.valueType)]);
    default:
      return value;
  }
}
