/**
 * Runs `tests/py/parquet_tool.py` (pyarrow and delta-rs) as an independent
 * Parquet reader and writer, and converts our values to and from the tool's
 * tagged JSON, in which nothing is lost: integers as decimal strings, floats
 * as the hex of their double bits, bytes as hex, decimals as unscaled
 * integers.
 *
 * The interpreter is `$NEURALAKE_TEST_PYTHON`, or whatever
 * `scripts/ensure-python.sh` prints (it installs the venv on first use).
 */

import type { SchemaTree } from "hyparquet";
import type { ColumnBatch } from "../../src/columnar/batch.ts";
import { type PrimitiveType, representationOf } from "../../src/columnar/types.ts";
import { leafKind } from "../../src/parquet/schema.ts";
import { runPythonTool } from "./python_tool.ts";

/** A value in the tool's tagged JSON. */
export type Tagged =
  | null
  | boolean
  | { i: string }
  | { f: string }
  | { s: string }
  | { b: string }
  | { d: string }
  | { struct: Record<string, Tagged> }
  | { list: Tagged[] }
  | { map: [Tagged, Tagged][] };

const ROOT = new URL("../../", import.meta.url);
let python: Promise<string> | undefined;

/** The Python interpreter with pyarrow and deltalake. */
export function pythonPath(): Promise<string> {
  return python ??= (async () => {
    const fromEnv = Deno.env.get("NEURALAKE_TEST_PYTHON");
    if (fromEnv) return fromEnv;
    const out = await new Deno.Command("sh", {
      args: [new URL("scripts/ensure-python.sh", ROOT).pathname],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("scripts/ensure-python.sh failed");
    const path = new TextDecoder().decode(out.stdout).trim();
    return path.startsWith("/") ? path : new URL(path, ROOT).pathname;
  })();
}

/** Sends one request to the tool and returns its JSON answer. */
// deno-lint-ignore no-explicit-any
export async function parquetTool(request: Record<string, unknown>): Promise<any> {
  const tool = new URL("tests/py/parquet_tool.py", ROOT).pathname;
  const out = await runPythonTool(await pythonPath(), tool, request);
  if (!out.success) throw new Error(`parquet_tool.py ${request.cmd} failed:\n${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** The hex of a number's little-endian double bits. */
export function floatHex(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return hex(new Uint8Array(view.buffer));
}

/** Bytes as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Tags one of our values of a primitive type. */
export function tagValue(value: unknown, type: PrimitiveType): Tagged {
  if (value === null || value === undefined) return null;
  switch (representationOf(type)) {
    case "int32":
    case "int64":
      return { i: String(value) };
    case "float32":
    case "float64":
      return { f: Number.isNaN(value) ? "nan" : floatHex(value as number) };
    case "bool":
      return typeof value === "boolean" ? value : value === 1;
    case "string":
      return { s: value as string };
    case "binary":
      return { b: hex(value as Uint8Array) };
    case "decimal":
      return { d: String(value) };
  }
}

/** Tags column `index` of a batch, with null where the mask says so. */
export function tagColumn(batch: ColumnBatch, index: number): Tagged[] {
  const field = batch.fields[index]!;
  const column = batch.columns[index]!;
  const values = column.values as ArrayLike<unknown>;
  const out: Tagged[] = [];
  for (let i = 0; i < batch.length; i++) {
    out.push(column.nulls?.[i] ? null : tagValue(values[i], field.type as PrimitiveType));
  }
  return out;
}

/** Tags a value read by `readRecords`, guided by its schema subtree. */
export function tagNested(value: unknown, tree: SchemaTree): Tagged {
  if (value === null || value === undefined) return null;
  const element = tree.element;
  if (!tree.children.length) {
    const type = leafKind(element).type;
    if (!type) throw new Error(`no type for ${element.name}`);
    return tagValue(value, type);
  }
  if (element.converted_type === "LIST") {
    let item = tree.children[0]!;
    if (item.children.length === 1) item = item.children[0]!;
    return { list: (value as unknown[]).map((v) => tagNested(v, item)) };
  }
  if (element.converted_type === "MAP") {
    const [k, v] = [tree.children[0]!.children[0]!, tree.children[0]!.children[1]!];
    const entries = value instanceof Map
      ? [...value.entries()]
      : Object.entries(value as Record<string, unknown>);
    return { map: entries.map(([key, val]) => [tagNested(key, k), tagNested(val, v)]) };
  }
  const out: Record<string, Tagged> = {};
  for (const child of tree.children) {
    out[child.element.name] = tagNested(
      (value as Record<string, unknown>)[child.element.name],
      child,
    );
  }
  return { struct: out };
}

/** A JSON string of a value with object keys sorted at every level. */
export function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
}

/** Rows as canonical strings, sorted, for comparing row multisets. */
export function sortedRows(rows: Record<string, Tagged>[]): string[] {
  return rows.map(canonical).sort();
}
