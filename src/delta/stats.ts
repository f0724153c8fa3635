/**
 * Per-file statistics in the `stats` JSON of `add` actions: building them
 * from exact column statistics, parsing them back into scalars for data
 * skipping, and combining them when files are compacted.
 *
 * Rules (PROTOCOL.md, "Per-file Statistics"):
 * - `numRecords`, then `minValues`, `maxValues` and `nullCount` per column.
 * - Strings are cut to a prefix of 32 code points: the prefix is a valid lower
 *   bound, and for the upper bound the prefix gets U+10FFFF appended.
 * - Timestamps are truncated down to milliseconds, so a reader must treat a
 *   timestamp maximum as up to 999 µs short of the true value.
 * - NaN never takes part in min or max; infinities are not written (JSON
 *   cannot hold them); booleans and binary get only a null count.
 * - A float bound is read back as the float its text names: writers give a
 *   float's shortest decimal form, which as a double is not the float.
 * - Integers beyond 2^53 and decimals are written and read back exactly.
 * - Struct columns nest: their fields' statistics sit in objects under the
 *   struct's name; arrays and maps, and everything inside them, get none.
 * - A variant column gets only its null count, a number (as Spark writes it).
 * - Keys are physical names when the table uses column mapping.
 */

import type { Field } from "../columnar/batch.ts";
import {
  compareScalars,
  formatDate,
  formatDecimal,
  formatTimestamp,
  type Scalar,
} from "../columnar/scalar.ts";
import { readDate, readDecimal, readTimestampMicros } from "../columnar/text_values.ts";
import { parseDecimal, type PrimitiveType, representationOf } from "../columnar/types.ts";

/** The longest string prefix kept in statistics, in code points. */
export const STRING_PREFIX_LENGTH = 32;

/** Exact statistics of one column, as an encoder reports them. */
export interface ColumnStatistics {
  /** Undefined when unknown (only after merging files that lacked it). */
  nullCount: number | undefined;
  min?: Scalar | undefined;
  max?: Scalar | undefined;
  /** For a struct column: its fields' statistics, by physical name. */
  fields?: Record<string, ColumnStatistics> | undefined;
}

/** Statistics of one column as read back from the log. */
export interface ParsedColumnStats {
  nullCount?: number;
  /** Lower bound of the non-null values, if known. */
  min?: Scalar;
  /** Upper bound of the non-null values, if known (for timestamps: truncated). */
  max?: Scalar;
}

/** Statistics of one file as read back from the log. */
export interface ParsedFileStats {
  numRecords?: number;
  columns: Map<string, ParsedColumnStats>;
}

/**
 * Builds the `stats` JSON of a data file from exact column statistics, for
 * the given (non-partition) fields in the same order.
 */
export function buildStatsJson(
  numRecords: number,
  fields: readonly Field[],
  columns: readonly ColumnStatistics[],
): string {
  const out = { mins: [] as string[], maxs: [] as string[], nulls: [] as string[] };
  fields.forEach((field, i) => {
    const stats = columns[i];
    if (stats) addStats(out, field, stats);
  });
  return `{"numRecords":${numRecords},"minValues":{${out.mins.join(",")}},"maxValues":{${
    out.maxs.join(",")
  }},"nullCount":{${out.nulls.join(",")}}}`;
}

/** Adds one column's members (`"name":value`) to the three objects. */
function addStats(
  out: { mins: string[]; maxs: string[]; nulls: string[] },
  field: Field,
  stats: ColumnStatistics,
): void {
  const key = JSON.stringify(field.physicalName ?? field.name);
  const type = field.type;
  if (typeof type !== "string") {
    // A variant gets a null count only, as Spark writes it: its binaries have no order.
    if (type.type === "struct" && type.variant) {
      if (stats.nullCount !== undefined) out.nulls.push(`${key}:${stats.nullCount}`);
      return;
    }
    if (type.type !== "struct" || !stats.fields) return;
    const inner = { mins: [] as string[], maxs: [] as string[], nulls: [] as string[] };
    for (const child of type.fields) {
      const s = stats.fields[child.physicalName ?? child.name];
      if (s) addStats(inner, child, s);
    }
    if (inner.mins.length) out.mins.push(`${key}:{${inner.mins.join(",")}}`);
    if (inner.maxs.length) out.maxs.push(`${key}:{${inner.maxs.join(",")}}`);
    if (inner.nulls.length) out.nulls.push(`${key}:{${inner.nulls.join(",")}}`);
    return;
  }
  if (stats.nullCount !== undefined) out.nulls.push(`${key}:${stats.nullCount}`);
  const min = formatStat(stats.min, type, "min");
  const max = formatStat(stats.max, type, "max");
  if (min !== undefined) out.mins.push(`${key}:${min}`);
  if (max !== undefined) out.maxs.push(`${key}:${max}`);
}

/** Formats one bound as JSON text, or undefined if it is not written. */
function formatStat(
  value: Scalar | undefined,
  type: PrimitiveType,
  bound: "min" | "max",
): string | undefined {
  if (value === undefined || value === null) return undefined;
  switch (representationOf(type)) {
    case "int32":
      return type === "date" ? JSON.stringify(formatDate(value as number)) : String(value);
    case "int64":
      if (type === "long") return String(value);
      return JSON.stringify(
        formatTimestamp(value as bigint, { zone: type === "timestamp", fraction: "millis" }),
      );
    case "float32":
    case "float64": {
      const n = value as number;
      return Number.isFinite(n) ? String(n) : undefined;
    }
    case "string":
      return formatStringBound(value as string, bound);
    case "decimal":
      return formatDecimal(value as bigint, Number(/,(\d+)\)$/.exec(type)?.[1] ?? "0"));
    default:
      // Booleans and binary carry only a null count.
      return undefined;
  }
}

function formatStringBound(value: string, bound: "min" | "max"): string | undefined {
  const codePoints = Array.from(value);
  if (codePoints.length <= STRING_PREFIX_LENGTH) return JSON.stringify(value);
  const prefix = codePoints.slice(0, STRING_PREFIX_LENGTH).join("");
  if (bound === "min") return JSON.stringify(prefix);
  // Already a truncated maximum (merged from other files' statistics): keep it.
  if (
    codePoints.length === STRING_PREFIX_LENGTH + 1 &&
    codePoints[STRING_PREFIX_LENGTH] === "\u{10FFFF}"
  ) return JSON.stringify(value);
  // prefix + U+10FFFF is above every string with this prefix, unless the next
  // character is U+10FFFF itself; then no bound is written.
  if (codePoints[STRING_PREFIX_LENGTH] === "\u{10FFFF}") return undefined;
  return JSON.stringify(prefix + "\u{10FFFF}");
}

/**
 * Parses `add.stats` for the given fields. Unknown columns are ignored, and
 * bounds that cannot be read are dropped (a file without bounds is never
 * skipped). Returns undefined if the JSON itself is unreadable.
 */
export function parseStats(
  json: string | null | undefined,
  fields: readonly Field[],
): ParsedFileStats | undefined {
  if (!json) return undefined;
  let raw: unknown;
  try {
    // Keep the source text of numbers so that int64 and decimal bounds stay exact.
    raw = JSON.parse(json, (_key, value, context?: { source?: string }) => {
      if (typeof value === "number" && context?.source !== undefined) {
        return { __number: value, __source: context.source };
      }
      return value;
    });
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const obj = raw as Record<string, unknown>;
  const out: ParsedFileStats = { columns: new Map() };
  const numRecords = numberOf(obj.numRecords);
  if (numRecords !== undefined) out.numRecords = numRecords;
  const mins = asRecord(obj.minValues);
  const maxs = asRecord(obj.maxValues);
  const nulls = asRecord(obj.nullCount);
  for (const field of fields) {
    // Only primitive top-level columns take part in data skipping.
    if (typeof field.type !== "string") continue;
    const key = field.physicalName ?? field.name;
    const stats: ParsedColumnStats = {};
    const nullCount = numberOf(nulls?.[key]);
    if (nullCount !== undefined) stats.nullCount = nullCount;
    const min = readBound(mins?.[key], field.type);
    const max = readBound(maxs?.[key], field.type);
    if (min !== undefined) stats.min = min;
    if (max !== undefined) stats.max = max;
    out.columns.set(field.name, stats);
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !("__source" in value)
    ? value as Record<string, unknown>
    : undefined;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === "object" && value !== null && "__number" in value) {
    return (value as { __number: number }).__number;
  }
  return typeof value === "number" ? value : undefined;
}

function sourceOf(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null && "__source" in value) {
    return (value as { __source: string }).__source;
  }
  return undefined;
}

function readBound(value: unknown, type: PrimitiveType): Scalar | undefined {
  if (value === undefined || value === null) return undefined;
  const source = sourceOf(value);
  const num = numberOf(value);
  switch (representationOf(type)) {
    case "int32":
      if (type === "date") {
        return typeof value === "string" ? readDate(value.slice(0, 10)) : undefined;
      }
      return num !== undefined && Number.isInteger(num) ? num : undefined;
    case "int64":
      if (type === "long") {
        return source !== undefined && /^-?\d+$/.test(source) ? BigInt(source) : undefined;
      }
      return typeof value === "string" ? readTimestampMicros(value) : undefined;
    case "float32":
      // Writers give a float in its shortest decimal form ("0.1" for the
      // float nearest 0.1); read as a double it lies beside the float and
      // bounds it on the wrong side, so it is taken back to the float.
      return num === undefined ? undefined : Math.fround(num);
    case "float64":
      return num;
    case "string":
      return typeof value === "string" ? value : undefined;
    case "decimal": {
      const text = source ?? (typeof value === "string" ? value : undefined);
      const spec = parseDecimal(type)!;
      return text === undefined ? undefined : readDecimal(text, spec.precision, spec.scale);
    }
    default:
      return undefined;
  }
}

/**
 * Combines the statistics of files that are merged into one. A bound is kept
 * only if every input has it; the null count only if every input has it.
 */
export function mergeStats(
  inputs: readonly (ParsedFileStats | undefined)[],
  fields: readonly Field[],
): { numRecords: number; columns: ColumnStatistics[] } | undefined {
  let numRecords = 0;
  for (const s of inputs) {
    if (s?.numRecords === undefined) return undefined;
    numRecords += s.numRecords;
  }
  const columns = fields.map((field) => {
    let nullCount: number | undefined = 0;
    let min: Scalar | undefined;
    let max: Scalar | undefined;
    let minKnown = true;
    let maxKnown = true;
    for (const s of inputs) {
      const c = s!.columns.get(field.name);
      const allNull = c?.nullCount !== undefined && c.nullCount === s!.numRecords;
      if (c?.nullCount === undefined) nullCount = undefined;
      else if (nullCount !== undefined) nullCount += c.nullCount;
      if (allNull) continue;
      if (c?.min === undefined || c.min === null) minKnown = false;
      else if (min === undefined || compareScalars(c.min, min) < 0) min = c.min;
      if (c?.max === undefined || c.max === null) maxKnown = false;
      else if (max === undefined || compareScalars(c.max, max) > 0) max = c.max;
    }
    const out: ColumnStatistics = { nullCount };
    if (minKnown) out.min = min;
    if (maxKnown) out.max = max;
    return out;
  });
  return { numRecords, columns };
}
