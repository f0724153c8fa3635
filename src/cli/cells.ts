/**
 * How single values print: as text for tables and CSV, and as JSON values for
 * NDJSON and `--json` (timestamps ISO-8601 UTC with microseconds, dates
 * `YYYY-MM-DD`, int64 as numbers or as strings beyond 2^53, decimals as
 * strings, binary as base64). Nested cells are JSON: a struct an object, an
 * array an array, a map an array of `[key, value]` pairs in stored order; in
 * tables and CSV they are that JSON as text. A variant prints as Spark's
 * `to_json` of it in tables and CSV, and as that JSON value in JSON output
 * (`columnar/variant.ts`); a SQL NULL is null in both, a variant null is
 * `null` text in tables and JSON null.
 */

import type { Column, ColumnBatch, Field } from "../columnar/batch.ts";
import {
  formatDate,
  formatDecimal,
  formatTimestamp,
  type Scalar,
  scalarAt,
} from "../columnar/scalar.ts";
import {
  type ColumnType,
  holdsVariant,
  parseDecimal,
  type PrimitiveType,
} from "../columnar/types.ts";
import { type RawJson, variantToJson, variantToValue } from "../columnar/variant.ts";
import { toJson } from "./output.ts";

/** A JSON value, as cells print (a variant's exact numbers as raw JSON). */
export type JsonValue = string | number | boolean | null | RawJson | JsonValue[] | {
  [key: string]: JsonValue;
};

/** A variant cell: its two binaries as the Parquet group holds them. */
interface VariantCell {
  metadata: Uint8Array;
  value: Uint8Array;
}

/** The value of row `i` of a column: a scalar, or a nested JS value. */
export function cellAt(column: Column, type: ColumnType, i: number): unknown {
  if (typeof type === "string") return scalarAt(column, type, i);
  if (column.nulls !== undefined && column.nulls[i] === 1) return null;
  return (column.values as unknown[])[i] ?? null;
}

/** A cell as text (tables and CSV); null is the empty string, nested cells JSON text. */
export function cellText(value: unknown, type: ColumnType): string {
  if (value === null || value === undefined) return "";
  if (holdsVariant(type)) return cellJsonText(value, type);
  const json = cellJson(value, type);
  if (typeof type !== "string") return JSON.stringify(json);
  return typeof json === "string" ? json : String(json);
}

/**
 * A cell as JSON text: `cellJson` serialised, except that a variant at any
 * depth is its to_json text, so its object keys keep their stored order
 * (a JS object would put integer-like keys first).
 */
export function cellJsonText(value: unknown, type: ColumnType): string {
  if (value === null || value === undefined) return "null";
  if (typeof type === "string" || !holdsVariant(type)) {
    const json = cellJson(value, type);
    return json !== null && typeof json === "object" ? toJson(json, 0) : JSON.stringify(json);
  }
  switch (type.type) {
    case "struct": {
      if (type.variant) {
        const cell = value as VariantCell;
        return variantToJson(cell.metadata, cell.value);
      }
      const input = value as Record<string, unknown>;
      const fields = type.fields.map((f) =>
        `${JSON.stringify(f.name)}:${cellJsonText(input[f.name], f.type)}`
      );
      return `{${fields.join(",")}}`;
    }
    case "array":
      return `[${(value as unknown[]).map((v) => cellJsonText(v, type.elementType)).join(",")}]`;
    case "map": {
      const pairs: string[] = [];
      for (const [k, v] of value as Map<unknown, unknown>) {
        pairs.push(`[${cellJsonText(k, type.keyType)},${cellJsonText(v, type.valueType)}]`);
      }
      return `[${pairs.join(",")}]`;
    }
  }
}

/** A cell as a JSON value. */
export function cellJson(value: unknown, type: ColumnType): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof type !== "string") return nestedJson(value, type);
  return scalarJson(value as Scalar, type);
}

function nestedJson(value: unknown, type: Exclude<ColumnType, PrimitiveType>): JsonValue {
  switch (type.type) {
    case "struct": {
      if (type.variant) {
        const cell = value as VariantCell;
        return variantToValue(cell.metadata, cell.value);
      }
      const input = value as Record<string, unknown>;
      const out: Record<string, JsonValue> = {};
      for (const f of type.fields) out[f.name] = cellJson(input[f.name], f.type);
      return out;
    }
    case "array":
      return (value as unknown[]).map((v) => cellJson(v, type.elementType));
    case "map": {
      // Pairs keep the keys' types and order, as pyarrow and the fixtures show maps.
      const out: JsonValue[] = [];
      for (const [k, v] of value as Map<unknown, unknown>) {
        out.push([cellJson(k, type.keyType), cellJson(v, type.valueType)]);
      }
      return out;
    }
  }
}

function scalarJson(value: Scalar, type: PrimitiveType): string | number | boolean | null {
  if (value === null) return null;
  switch (type) {
    case "timestamp":
      return formatTimestamp(value as bigint);
    case "timestamp_ntz":
      return formatTimestamp(value as bigint, { zone: false });
    case "date":
      return formatDate(value as number);
    case "binary":
      return base64(value as Uint8Array);
    case "long": {
      const v = value as bigint;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    }
    case "float": {
      const n = value as number;
      return Number.isFinite(n) ? shortestFloat32(n) : String(n);
    }
    case "double": {
      const n = value as number;
      return Number.isFinite(n) ? n : String(n);
    }
    default: {
      const decimal = parseDecimal(type);
      if (decimal) return formatDecimal(value as bigint, decimal.scale);
      return value as string | number | boolean;
    }
  }
}

/**
 * A float32 value with float32 precision: the shortest decimal that reads
 * back as the same float32 (`-0.0172289`, not `-0.017228897660970688`).
 */
export function shortestFloat32(n: number): number {
  const single = Math.fround(n);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return Number(single.toPrecision(9));
}

/** Row `i` of a batch as a JSON object. */
export function rowObject(batch: ColumnBatch, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let c = 0; c < batch.fields.length; c++) {
    const field: Field = batch.fields[c]!;
    out[field.name] = cellJson(cellAt(batch.columns[c]!, field.type, i), field.type);
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
