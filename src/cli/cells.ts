/**
 * How single values print: as text for tables and CSV, and as JSON values for
 * NDJSON and `--json` (timestamps ISO-8601 UTC with microseconds, dates
 * `YYYY-MM-DD`, int64 as numbers or as strings beyond 2^53, decimals as
 * strings, binary as base64).
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import {
  formatDate,
  formatDecimal,
  formatTimestamp,
  type Scalar,
  scalarAt,
} from "../columnar/scalar.ts";
import { parseDecimal, type PrimitiveType } from "../columnar/types.ts";

/** A cell as text (tables and CSV); null is the empty string. */
export function cellText(value: Scalar, type: PrimitiveType): string {
  if (value === null) return "";
  const json = cellJson(value, type);
  return typeof json === "string" ? json : String(json);
}

/** A cell as a JSON value. */
export function cellJson(value: Scalar, type: PrimitiveType): string | number | boolean | null {
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
    case "float":
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

/** Row `i` of a batch as a JSON object. */
export function rowObject(batch: ColumnBatch, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let c = 0; c < batch.fields.length; c++) {
    const field: Field = batch.fields[c]!;
    out[field.name] = cellJson(scalarAt(batch.columns[c]!, field.type, i), field.type);
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
