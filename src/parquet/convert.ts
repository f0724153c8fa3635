/**
 * Converting decoded Parquet column data into our column representation for
 * a wanted field: which stored types can be read as which of our types
 * (exact conversions and the widenings Delta allows), how the schema element
 * is simplified before hyparquet decodes it (so it yields raw physical
 * values, never Dates or floating-point decimals), and the copy loops.
 *
 * Invariants: every conversion is exact (timestamps are floored to
 * microseconds, as Spark does); a pair of types with no exact conversion is
 * refused by `planConversion` before any data is read.
 */

import type { SchemaElement } from "hyparquet";
import type { Field } from "../columnar/batch.ts";
import { parseDecimal, representationOf } from "../columnar/types.ts";
import { describeElement, type LeafKind } from "./schema.ts";
import { bigintFromBytes, floorDiv } from "./stats.ts";

/** Writes one decoded chunk into the output column at `at`. */
export type ChunkCopier = (
  data: ArrayLike<unknown>,
  values: unknown,
  nulls: Uint8Array,
  at: number,
) => void;

/** How one file column becomes one wanted field. */
export interface ConversionPlan {
  /** The element hyparquet decodes with (annotations removed as needed). */
  element: SchemaElement;
  copy: ChunkCopier;
}

const utf8 = new TextDecoder();
const MICROS_PER_DAY = 86_400_000_000n;

/** Integer digits each integer type needs, for widening to decimals. */
const INTEGER_DIGITS: Record<string, number> = { byte: 3, short: 5, integer: 10, long: 19 };

/**
 * Plans reading a file column as `field`, or throws an error naming the
 * column, the file and both types.
 */
export function planConversion(
  element: SchemaElement,
  kind: LeafKind,
  field: Field,
  fileName: string,
): ConversionPlan {
  const plan = plan0(element, kind, field);
  if (!plan) {
    throw new TypeError(
      `Cannot read column "${element.name}" of ${fileName} as ${field.type}: the file stores it as ${
        describeElement(element)
      }${kind.type ? ` (${kind.type})` : ""}`,
    );
  }
  return plan;
}

function raw(element: SchemaElement): SchemaElement {
  const { converted_type: _c, logical_type: _l, ...rest } = element;
  return rest;
}

/** Keeps a UTF-8 annotation (hyparquet decodes those); other text is decoded by us. */
function utf8Element(element: SchemaElement): SchemaElement {
  const utf8 = element.converted_type === "UTF8" || element.logical_type?.type === "STRING";
  return utf8 ? element : raw(element);
}

function plan0(element: SchemaElement, kind: LeafKind, field: Field): ConversionPlan | undefined {
  const from = kind.type;
  const to = field.type;
  if (from === undefined || typeof to !== "string") return undefined;
  const target = representationOf(to);
  const source = representationOf(from);
  // Same type: copy.
  if (from === to) {
    if (from === "timestamp" || from === "timestamp_ntz") return timestampPlan(element, kind);
    if (source === "decimal") return decimalPlan(element, 0);
    if (source === "string") return { element: utf8Element(element), copy: copyStrings };
    if (source === "binary") return { element: raw(element), copy: copyBinary };
    if (source === "bool") return { element, copy: copyBooleans };
    // Unsigned 32-bit values keep their annotation so they decode unsigned.
    const ints = kind.signed === false ? element : raw(element);
    return { element: ints, copy: source === "int64" ? copyInt64 : copyNumbers };
  }
  if (to === "string" && from === "binary") return { element: raw(element), copy: copyStrings };
  if (to === "binary" && from === "string") return { element: raw(element), copy: copyBinary };
  const intRank = ["byte", "short", "integer", "long"];
  const fi = intRank.indexOf(from);
  const ti = intRank.indexOf(to);
  const ints = kind.signed === false ? element : raw(element);
  if (fi >= 0 && ti > fi) {
    return { element: ints, copy: target === "int64" ? copyInt64 : copyNumbers };
  }
  if (to === "double" && (from === "float" || (fi >= 0 && fi < 3))) {
    return { element: ints, copy: copyNumbers };
  }
  if (to === "timestamp_ntz" && from === "date") {
    return { element: raw(element), copy: copyDaysToMicros };
  }
  const wanted = parseDecimal(to);
  if (wanted) {
    const have = parseDecimal(from);
    if (have) {
      const up = wanted.scale - have.scale;
      if (up >= 0 && wanted.precision - wanted.scale >= have.precision - have.scale) {
        return decimalPlan(element, up);
      }
      return undefined;
    }
    if (fi >= 0 && wanted.precision - wanted.scale >= INTEGER_DIGITS[from]!) {
      return decimalPlan(element, wanted.scale);
    }
  }
  return undefined;
}

function timestampPlan(element: SchemaElement, kind: LeafKind): ConversionPlan {
  switch (kind.timestampUnit) {
    case "MILLIS":
      return { element: raw(element), copy: scaleInt64(1000n) };
    case "NANOS":
      return { element: raw(element), copy: floorInt64(1000n) };
    case "INT96":
      // hyparquet hands INT96 over as nanoseconds through our parser.
      return { element, copy: floorInt64(1000n) };
    default:
      return { element: raw(element), copy: copyInt64 };
  }
}

function decimalPlan(element: SchemaElement, scaleUp: number): ConversionPlan {
  const factor = 10n ** BigInt(scaleUp);
  return {
    element: raw(element),
    copy: (data, values, nulls, at) => {
      const out = values as bigint[];
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v === null || v === undefined) {
          nulls[at + i] = 1;
          out[at + i] = 0n;
          continue;
        }
        const unscaled = typeof v === "bigint"
          ? v
          : typeof v === "number"
          ? BigInt(v)
          : bigintFromBytes(v as Uint8Array);
        out[at + i] = factor === 1n ? unscaled : unscaled * factor;
      }
    },
  };
}

/** Numbers into a numeric typed array (int32, float32, float64 outputs). */
const copyNumbers: ChunkCopier = (data, values, nulls, at) => {
  const out = values as Int32Array | Float32Array | Float64Array;
  if (!Array.isArray(data) && (data as Int32Array).BYTES_PER_ELEMENT !== undefined) {
    out.set(data as Int32Array, at);
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    else out[at + i] = v as number;
  }
};

/** 64-bit integers (or 32-bit ones widened) into a BigInt64Array. */
const copyInt64: ChunkCopier = (data, values, nulls, at) => {
  const out = values as BigInt64Array;
  if (data instanceof BigInt64Array) {
    out.set(data, at);
    return;
  }
  if (data instanceof Int32Array || data instanceof Uint32Array) {
    // Widen without a BigInt per value: write both words.
    const words = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
    const signed = data instanceof Int32Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      words[2 * (at + i)] = v;
      words[2 * (at + i) + 1] = signed && v < 0 ? -1 : 0;
    }
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    else out[at + i] = typeof v === "bigint" ? v : BigInt(v as number);
  }
};

function scaleInt64(factor: bigint): ChunkCopier {
  return (data, values, nulls, at) => {
    const out = values as BigInt64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v === null || v === undefined) nulls[at + i] = 1;
      else out[at + i] = (v as bigint) * factor;
    }
  };
}

function floorInt64(divisor: bigint): ChunkCopier {
  return (data, values, nulls, at) => {
    const out = values as BigInt64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v === null || v === undefined) nulls[at + i] = 1;
      else out[at + i] = floorDiv(v as bigint, divisor);
    }
  };
}

const copyDaysToMicros: ChunkCopier = (data, values, nulls, at) => {
  const out = values as BigInt64Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    else out[at + i] = BigInt(v as number) * MICROS_PER_DAY;
  }
};

const copyBooleans: ChunkCopier = (data, values, nulls, at) => {
  const out = values as Uint8Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    else out[at + i] = v ? 1 : 0;
  }
};

const copyStrings: ChunkCopier = (data, values, nulls, at) => {
  const out = values as string[];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    else out[at + i] = typeof v === "string" ? v : utf8.decode(v as Uint8Array);
  }
};

const copyBinary: ChunkCopier = (data, values, nulls, at) => {
  const out = values as Uint8Array[];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === null || v === undefined) nulls[at + i] = 1;
    // Copy so the column does not pin the decoded page buffer.
    else out[at + i] = (v as Uint8Array).slice();
  }
};
