/**
 * Single values outside of column arrays (partition values, statistics,
 * predicate literals, printed cells), and the text forms of the types whose
 * text form is not obvious: dates, timestamps and decimals.
 *
 * A scalar uses the same representation as its column (see `batch.ts`):
 * number for int32, float and date types, bigint for int64 types (timestamps
 * are microseconds since the epoch) and for decimals (unscaled), string,
 * boolean, Uint8Array for binary, and null.
 */

import type { Column, ColumnValues } from "./batch.ts";
import { compareUtf8 } from "../util/utf8_order.ts";
import { type PrimitiveType, representationOf } from "./types.ts";

/** One value of a primitive type, or null. */
export type Scalar = number | bigint | string | boolean | Uint8Array | null;

/** Reads row `i` of a column as a scalar. */
export function scalarAt(column: Column, type: PrimitiveType, i: number): Scalar {
  if (column.nulls !== undefined && column.nulls[i] === 1) return null;
  const v = (column.values as ArrayLike<unknown>)[i];
  if (representationOf(type) === "bool") return v === 1;
  return v as Scalar;
}

/** Writes a scalar into row `i` of column values (null must be handled by the caller). */
export function setScalar(values: ColumnValues, i: number, value: Scalar): void {
  (values as unknown as { [i: number]: unknown })[i] = typeof value === "boolean"
    ? (value ? 1 : 0)
    : value;
}

const DAY_MS = 86_400_000;

/** Formats days since the epoch as `YYYY-MM-DD` (proleptic Gregorian, years 0-9999 padded). */
export function formatDate(days: number): string {
  const d = new Date(days * DAY_MS);
  return `${formatYear(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/**
 * Formats microseconds since the epoch as ISO-8601 with six fractional
 * digits: `2024-01-02T03:04:05.123456Z`. With `zone: false` the trailing `Z`
 * is left off (timestamp_ntz); with `separator: " "` a space replaces `T`.
 */
export function formatTimestamp(
  micros: bigint,
  options: { zone?: boolean; separator?: string; fraction?: "micros" | "millis" | "auto" } = {},
): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    rest += 1000n;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) throw new RangeError(`Timestamp out of range: ${micros} µs`);
  const date = `${formatYear(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${
    pad2(d.getUTCDate())
  }`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const millis = String(d.getUTCMilliseconds()).padStart(3, "0");
  const fractionMode = options.fraction ?? "micros";
  let fraction: string;
  if (fractionMode === "millis") fraction = `.${millis}`;
  else if (fractionMode === "auto" && rest === 0n && millis === "000") fraction = "";
  else fraction = `.${millis}${String(rest).padStart(3, "0")}`;
  const zone = options.zone === false ? "" : "Z";
  return `${date}${options.separator ?? "T"}${time}${fraction}${zone}`;
}

function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, "0");
  return year < 0 ? `-${String(-year).padStart(6, "0")}` : `+${String(year).padStart(6, "0")}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Formats an unscaled decimal as text: `formatDecimal(12345n, 2)` is `"123.45"`. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale === 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(scale + 1, "0");
  const int = padded.slice(0, padded.length - scale);
  const frac = padded.slice(padded.length - scale);
  return `${negative ? "-" : ""}${int}.${frac}`;
}

/**
 * Compares two scalars of the same type: negative, zero or positive. Null
 * sorts before every value.
 */
export function compareScalars(a: Scalar, b: Scalar): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (typeof a === "string" && typeof b === "string") return compareUtf8(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  // number and bigint compare across kinds in JS.
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}
