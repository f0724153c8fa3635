/**
 * Column statistics in our in-memory representations: what the encoder
 * returns per column of a file, what the decoder reports per row group, and
 * how both are compared and merged.
 *
 * Invariants: min and max are exact values of the column (never truncated),
 * in the column's representation (number for 32-bit integers, dates and
 * floats; bigint for 64-bit integers, timestamps in microseconds and unscaled
 * decimals; string; Uint8Array for binary; boolean). NaN is never a min or
 * max; it is counted in `nanCount`. Strings and bytes order as UTF-8 bytes
 * (unsigned), which is code point order.
 */

import type { SchemaElement } from "hyparquet";
import type { LeafKind } from "./schema.ts";

/** A min or max value. */
export type StatValue = number | bigint | string | boolean | Uint8Array;

/** Statistics of one column of a file or row group. */
export interface ColumnStats {
  /** Null values. */
  nullCount: number;
  /** Smallest non-null, non-NaN value; absent if there is none (or unknown). */
  min?: StatValue | undefined;
  /** Largest non-null, non-NaN value; absent if there is none (or unknown). */
  max?: StatValue | undefined;
  /** NaN values of a float or double column. */
  nanCount?: number | undefined;
  /**
   * For a struct column: the statistics of its fields, by physical name
   * (structs and primitive leaves only; arrays and maps get none).
   */
  fields?: Record<string, ColumnStats> | undefined;
}

/** Compares strings in code point order (the order of their UTF-8 bytes). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // UTF-16 order differs from code point order only when one side is a
  // surrogate (a supplementary character) and the other is U+E000..U+FFFF.
  const xs = x >= 0xd800 && x <= 0xdfff;
  const ys = y >= 0xd800 && y <= 0xdfff;
  if (xs !== ys && (xs ? y >= 0xe000 : x >= 0xe000)) return xs ? 1 : -1;
  return x - y;
}

/** Compares byte arrays as unsigned bytes, shorter prefix first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** Compares two statistic values of the same representation. */
export function compareStatValues(a: StatValue, b: StatValue): number {
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (typeof a === "number" && typeof b === "number") {
    // -0 sorts before +0 so that merged bounds keep the exact zero.
    if (a === b) return Object.is(a, -0) ? (Object.is(b, -0) ? 0 : -1) : Object.is(b, -0) ? 1 : 0;
    return a < b ? -1 : 1;
  }
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  throw new TypeError(`Cannot compare statistics of different kinds: ${typeof a} and ${typeof b}`);
}

/** Merges the statistics of two parts of one column (row groups or files). */
export function mergeColumnStats(a: ColumnStats, b: ColumnStats): ColumnStats {
  const out: ColumnStats = { nullCount: a.nullCount + b.nullCount };
  out.min = a.min === undefined
    ? b.min
    : b.min === undefined
    ? a.min
    : compareStatValues(a.min, b.min) <= 0
    ? a.min
    : b.min;
  out.max = a.max === undefined
    ? b.max
    : b.max === undefined
    ? a.max
    : compareStatValues(a.max, b.max) >= 0
    ? a.max
    : b.max;
  if (a.nanCount !== undefined || b.nanCount !== undefined) {
    out.nanCount = (a.nanCount ?? 0) + (b.nanCount ?? 0);
  }
  if (out.min === undefined) delete out.min;
  if (out.max === undefined) delete out.max;
  if (a.fields && b.fields) {
    const fields: Record<string, ColumnStats> = {};
    for (const [name, x] of Object.entries(a.fields)) {
      const y = b.fields[name];
      if (y) fields[name] = mergeColumnStats(x, y);
    }
    out.fields = fields;
  }
  return out;
}

/** Reads a big-endian two's complement integer of any length. */
export function bigintFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]!);
  const bits = BigInt(bytes.length * 8);
  return bytes[0]! & 0x80 ? value - (1n << bits) : value;
}

/** Writes a big-endian two's complement integer into exactly `length` bytes. */
export function bigintToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = BigInt.asUintN(length * 8, value);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Floor division of a bigint by a positive bigint. */
export function floorDiv(value: bigint, divisor: bigint): bigint {
  const q = value / divisor;
  return value < 0n && q * divisor !== value ? q - 1n : q;
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes a raw Parquet min/max (PLAIN bytes of the physical type) into our
 * representation for the column's kind, or undefined when it has no usable
 * order (INT96, unknown types).
 */
export function decodeStatBytes(
  bytes: Uint8Array,
  element: SchemaElement,
  kind: LeafKind,
): StatValue | undefined {
  const type = kind.type;
  if (type === undefined || kind.timestampUnit === "INT96") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decimal = type.startsWith("decimal");
  switch (element.type) {
    case "BOOLEAN":
      return bytes.length ? bytes[0] !== 0 : undefined;
    case "INT32":
      if (bytes.length !== 4) return undefined;
      if (decimal) return BigInt(view.getInt32(0, true));
      return kind.signed === false ? view.getUint32(0, true) : view.getInt32(0, true);
    case "INT64": {
      if (bytes.length !== 8) return undefined;
      const v = view.getBigInt64(0, true);
      switch (kind.timestampUnit) {
        case "MILLIS":
          return v * 1000n;
        case "NANOS":
          return floorDiv(v, 1000n);
        default:
          return v;
      }
    }
    case "FLOAT":
      return bytes.length === 4 ? view.getFloat32(0, true) : undefined;
    case "DOUBLE":
      return bytes.length === 8 ? view.getFloat64(0, true) : undefined;
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      if (decimal) return bigintFromBytes(bytes);
      if (type === "string") return utf8.decode(bytes);
      return bytes.slice();
    default:
      return undefined;
  }
}
