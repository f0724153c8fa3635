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
import { parseDecimal, type PrimitiveType, representationOf } from "./types.ts";

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

const DATE_RE = /^(-?\d{4,6})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` into days since the epoch, or undefined if not a valid date. */
export function parseDateText(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(0, 0, 0, 0);
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month - 1) return undefined;
  return Math.round(d.getTime() / DAY_MS);
}

const TS_RE =
  /^(-?\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses a timestamp in the forms Delta uses (`YYYY-MM-DD HH:MM:SS[.ffffff]`,
 * ISO-8601 with `T`, an optional `Z` or `±HH:MM` offset) into microseconds
 * since the epoch. Fractions beyond microseconds are truncated. Returns the
 * value and whether a zone was given, or undefined if the text is not one.
 */
export function parseTimestampText(text: string): { micros: bigint; zoned: boolean } | undefined {
  const m = TS_RE.exec(text.trim());
  if (!m) return undefined;
  const days = parseDateText(`${m[1]}-${m[2]}-${m[3]}`);
  if (days === undefined) return undefined;
  const hours = Number(m[4]);
  const minutes = Number(m[5]);
  const seconds = Number(m[6] ?? "0");
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const fraction = (m[7] ?? "").padEnd(6, "0").slice(0, 6);
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const secondsOfDay = hours * 3600 + minutes * 60 + seconds - offsetMinutes * 60;
  const micros = (BigInt(days) * 86_400n + BigInt(secondsOfDay)) * 1_000_000n + BigInt(fraction);
  return { micros, zoned: zone !== undefined };
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
 * Parses decimal text into an unscaled bigint for `decimal(p,s)`. Returns
 * undefined if the text is not a number, has more fractional digits than the
 * scale (nothing is rounded), or needs more digits than the precision.
 */
export function parseDecimalText(text: string, type: string): bigint | undefined {
  const spec = parseDecimal(type);
  if (!spec) throw new RangeError(`Not a decimal type: ${type}`);
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  let int = m[2] ?? "";
  let frac = m[3] ?? "";
  let exponent = m[4] ? Number(m[4]) : 0;
  // Move the point by the exponent.
  while (exponent > 0) {
    int += frac[0] ?? "0";
    frac = frac.slice(1);
    exponent--;
  }
  while (exponent < 0) {
    frac = (int.slice(-1) || "0") + frac;
    int = int.slice(0, -1);
    exponent++;
  }
  frac = frac.replace(/0+$/, "");
  if (frac.length > spec.scale) return undefined;
  const digits = (int + frac.padEnd(spec.scale, "0")).replace(/^0+(?=\d)/, "");
  const significant = digits.replace(/^0+/, "");
  if (significant.length > spec.precision) return undefined;
  const value = BigInt(digits === "" ? "0" : digits);
  return m[1] === "-" ? -value : value;
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
