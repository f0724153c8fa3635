/**
 * What the fast decode path does with one file column read as one wanted
 * field: `fastPlanOf` maps the schema element that `planConversion` hands to
 * hyparquet (annotations already stripped as the old path strips them) to a
 * physical type, an output shape and a conversion; `convertFixed` applies a
 * conversion to decoded fixed-width values.
 *
 * Invariants: a conversion gives bit for bit what hyparquet plus the copy
 * loops of `convert.ts` give, including the wrap-around modulo 2^64 of
 * BigInt64Array stores; 64-bit values are handled as pairs of 32-bit words
 * (low word first), never as one BigInt per value, except for the unscaled
 * `bigint` values of decimal columns and for INT96 values outside the range
 * of a time of day. A pair that is not listed here has no fast plan, and the
 * caller falls back to hyparquet.
 */

import type { SchemaElement } from "hyparquet";
import type { ColumnValues, Field } from "../columnar/batch.ts";
import { parseDecimal, type PrimitiveType, representationOf } from "../columnar/types.ts";
import type { LeafKind } from "./schema.ts";
import { floorDiv } from "./stats.ts";

/** How the values of a column are laid out in memory, as the fast path writes them. */
export type Shape =
  /** Int32Array or Float32Array, written through 32-bit words. */
  | "w32"
  /** BigInt64Array or Float64Array, written through pairs of 32-bit words. */
  | "w64"
  /** Uint8Array of booleans. */
  | "u8"
  /** An array of strings, byte arrays or bigints. */
  | "ref";

/** How decoded physical values become values of the wanted field. */
export type Conversion =
  | "copy"
  | "int32ToInt64"
  | "uint32ToInt64"
  | "int32ToDouble"
  | "uint32ToDouble"
  | "floatToDouble"
  | "int32ToDecimal"
  | "uint32ToDecimal"
  | "int64ToDecimal"
  | "millisToMicros"
  | "nanosToMicros"
  | "daysToMicros"
  | "int96ToMicros"
  | "bytesToString"
  | "bytesToBinary"
  | "bytesToDecimal";

/** The Parquet physical types. */
export type Physical = NonNullable<SchemaElement["type"]>;

/** How the fast path reads one column as one field. */
export interface FastPlan {
  physical: Physical;
  /** Bytes per PLAIN value of a fixed-width type; 0 for BOOLEAN and BYTE_ARRAY. */
  width: number;
  shape: Shape;
  conversion: Conversion;
  /** What unscaled decimal values are multiplied by (1n unless widened). */
  factor: bigint;
  /** 1 for an optional column (definition levels present), 0 for a required one. */
  maxDefinition: 0 | 1;
}

const WIDTHS: Record<Physical, number> = {
  BOOLEAN: 0,
  INT32: 4,
  INT64: 8,
  INT96: 12,
  FLOAT: 4,
  DOUBLE: 8,
  BYTE_ARRAY: 0,
  FIXED_LEN_BYTE_ARRAY: 0,
};

const SHAPES = {
  int32: "w32",
  float32: "w32",
  int64: "w64",
  float64: "w64",
  bool: "u8",
  string: "ref",
  binary: "ref",
  decimal: "ref",
} as const;

/** True where hyparquet turns INT32 values of `element` into unsigned numbers. */
function uint32(element: SchemaElement): boolean {
  const l = element.logical_type;
  return element.converted_type === "UINT_32" ||
    (l?.type === "INTEGER" && l.bitWidth === 32 && !l.isSigned);
}

/**
 * The fast plan for reading a flat column as `field`, where `element` is the
 * element `planConversion` chose (so the pair is one it accepts), or a reason
 * why there is none.
 */
export function fastPlanOf(
  element: SchemaElement,
  kind: LeafKind,
  field: Field,
): FastPlan | string {
  const physical = element.type;
  if (!physical) return "the column has no physical type";
  if (typeof field.type !== "string") return "the column is nested";
  const conversion = conversionOf(element, physical, kind, field);
  if (conversion === undefined) {
    return `no fast conversion from ${physical} to ${field.type}`;
  }
  const wanted = parseDecimal(field.type);
  const have = kind.type ? parseDecimal(kind.type) : undefined;
  const scaleUp = wanted ? wanted.scale - (have?.scale ?? 0) : 0;
  let width = WIDTHS[physical];
  if (physical === "FIXED_LEN_BYTE_ARRAY") {
    width = element.type_length ?? 0;
    if (width <= 0) return "a FIXED_LEN_BYTE_ARRAY column without a type length";
  }
  return {
    physical,
    width,
    shape: SHAPES[representationOf(field.type as PrimitiveType)],
    conversion,
    factor: 10n ** BigInt(scaleUp),
    // As hyparquet counts it: every non-root element that is not REQUIRED adds a level.
    maxDefinition: element.repetition_type === "REQUIRED" ? 0 : 1,
  };
}

function conversionOf(
  element: SchemaElement,
  physical: Physical,
  kind: LeafKind,
  field: Field,
): Conversion | undefined {
  const to = representationOf(field.type);
  const unsigned = uint32(element);
  switch (physical) {
    case "BOOLEAN":
      return to === "bool" ? "copy" : undefined;
    case "INT32":
      if (to === "int32") return "copy";
      if (to === "int64") {
        if (field.type === "timestamp_ntz" && kind.type === "date") return "daysToMicros";
        if (field.type === "long") return unsigned ? "uint32ToInt64" : "int32ToInt64";
        return undefined;
      }
      if (to === "float64") return unsigned ? "uint32ToDouble" : "int32ToDouble";
      if (to === "decimal") return unsigned ? "uint32ToDecimal" : "int32ToDecimal";
      return undefined;
    case "INT64":
      if (to === "decimal") return "int64ToDecimal";
      if (to !== "int64") return undefined;
      if (field.type === "long") return "copy";
      return kind.timestampUnit === "MILLIS"
        ? "millisToMicros"
        : kind.timestampUnit === "NANOS"
        ? "nanosToMicros"
        : kind.timestampUnit === "MICROS" || kind.timestampUnit === undefined
        ? "copy"
        : undefined;
    case "INT96":
      // hyparquet reads INT96 as a timestamp only without a converted type.
      return to === "int64" && kind.timestampUnit === "INT96" && !element.converted_type
        ? "int96ToMicros"
        : undefined;
    case "FLOAT":
      return to === "float32" ? "copy" : to === "float64" ? "floatToDouble" : undefined;
    case "DOUBLE":
      return to === "float64" ? "copy" : undefined;
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      if (to === "string") return "bytesToString";
      if (to === "binary") return "bytesToBinary";
      if (to === "decimal") return "bytesToDecimal";
      return undefined;
    default:
      return undefined;
  }
}

const TWO32 = 4294967296;

/** A 32-bit word view of a typed array's bytes. */
export function wordsOf(values: ArrayBufferView): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.byteLength >> 2);
}

/**
 * Converts `count` physical values held as 32-bit words in `src` (one word
 * per INT32/FLOAT value, two per INT64/DOUBLE, three per INT96) into
 * `out[at..]`. `src` must start on an 8-byte boundary.
 */
export function convertFixed(
  plan: FastPlan,
  src: Int32Array,
  count: number,
  out: ColumnValues,
  at: number,
): void {
  const factor = plan.factor;
  switch (plan.conversion) {
    case "copy": {
      const w = plan.shape === "w64" ? 2 : 1;
      wordsOf(out as Int32Array).set(src.subarray(0, count * w), at * w);
      return;
    }
    case "int32ToInt64":
    case "uint32ToInt64": {
      const words = wordsOf(out as BigInt64Array);
      const signed = plan.conversion === "int32ToInt64";
      for (let i = 0, w = 2 * at; i < count; i++, w += 2) {
        const v = src[i]!;
        words[w] = v;
        words[w + 1] = signed ? v >> 31 : 0;
      }
      return;
    }
    case "int32ToDouble":
    case "uint32ToDouble": {
      const f = out as Float64Array;
      if (plan.conversion === "int32ToDouble") {
        for (let i = 0; i < count; i++) {
          f[at + i] = src[i]!;
        }
      } else for (let i = 0; i < count; i++) f[at + i] = src[i]! >>> 0;
      return;
    }
    case "floatToDouble": {
      const floats = new Float32Array(src.buffer, src.byteOffset, count);
      (out as Float64Array).set(floats, at);
      return;
    }
    case "int32ToDecimal":
    case "uint32ToDecimal": {
      const refs = out as bigint[];
      const signed = plan.conversion === "int32ToDecimal";
      for (let i = 0; i < count; i++) {
        const v = BigInt(signed ? src[i]! : src[i]! >>> 0);
        refs[at + i] = factor === 1n ? v : v * factor;
      }
      return;
    }
    case "int64ToDecimal": {
      const longs = new BigInt64Array(src.buffer, src.byteOffset, count);
      const refs = out as bigint[];
      for (let i = 0; i < count; i++) refs[at + i] = factor === 1n ? longs[i]! : longs[i]! * factor;
      return;
    }
    case "millisToMicros": {
      const words = wordsOf(out as BigInt64Array);
      for (let i = 0, w = 2 * at; i < count; i++, w += 2) {
        const t = (src[2 * i]! >>> 0) * 1000;
        const carry = Math.floor(t / TWO32);
        words[w] = t - carry * TWO32;
        words[w + 1] = (Math.imul(src[2 * i + 1]!, 1000) + carry) | 0;
      }
      return;
    }
    case "nanosToMicros": {
      const words = wordsOf(out as BigInt64Array);
      for (let i = 0, w = 2 * at; i < count; i++, w += 2) {
        // Floor division of hi * 2^32 + lo by 1000 in two exact steps.
        const hi = src[2 * i + 1]!;
        const qh = Math.floor(hi / 1000);
        const t = (hi - qh * 1000) * TWO32 + (src[2 * i]! >>> 0);
        words[w] = Math.floor(t / 1000);
        words[w + 1] = qh;
      }
      return;
    }
    case "daysToMicros": {
      const words = wordsOf(out as BigInt64Array);
      for (let i = 0, w = 2 * at; i < count; i++, w += 2) {
        secondsToMicros(words, w, src[i]! * 86400, 0);
      }
      return;
    }
    case "int96ToMicros":
      int96ToMicros(src, count, out as BigInt64Array, at);
      return;
    default:
      throw new TypeError(`Cannot convert fixed-width values with ${plan.conversion}`);
  }
}

/**
 * Writes `seconds * 10^6 + micros` modulo 2^64 at `words[w]`, for |seconds| <
 * 2^49 and 0 <= micros < 2^40.
 */
function secondsToMicros(words: Int32Array, w: number, seconds: number, micros: number): void {
  const sHi = Math.floor(seconds / TWO32);
  const t = (seconds - sHi * TWO32) * 1_000_000 + micros;
  const carry = Math.floor(t / TWO32);
  words[w] = t - carry * TWO32;
  words[w + 1] = (Math.imul(sHi, 1_000_000) + carry) | 0;
}

const JULIAN_EPOCH_DAY = 2440588;

/** INT96 (nanoseconds of day, then Julian day) to microseconds, floored. */
function int96ToMicros(src: Int32Array, count: number, out: BigInt64Array, at: number): void {
  const words = wordsOf(out);
  for (let i = 0; i < count; i++) {
    const lo = src[3 * i]! >>> 0;
    const hi = src[3 * i + 1]!;
    const day = src[3 * i + 2]!;
    if (hi >= 0 && hi < 1 << 15) {
      // A time of day below 2^47 ns: floor(ns / 1000) is exact in doubles.
      const micros = Math.floor((hi * TWO32 + lo) / 1000);
      secondsToMicros(words, 2 * (at + i), (day - JULIAN_EPOCH_DAY) * 86400, micros);
    } else {
      out[at + i] = int96Slow(lo, hi, day);
    }
  }
}

/** What hyparquet's INT96 parsing and our flooring give for any bits, in BigInt. */
function int96Slow(lo: number, hi: number, day: number): bigint {
  const low = (BigInt(hi) << 32n) | BigInt(lo);
  const value = (BigInt(day) << 64n) | low;
  const days = (value >> 64n) - BigInt(JULIAN_EPOCH_DAY);
  const nanos = value & 0xffffffffffffffffn;
  return floorDiv(days * 86_400_000_000_000n + nanos, 1000n);
}
