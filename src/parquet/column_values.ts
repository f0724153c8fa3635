/**
 * Prepares the non-null values of one column chunk for page writing: drops
 * the null slots, checks that values fit the column type, computes exact
 * statistics with typed-array loops, and chooses the encoding (a dictionary
 * for low-cardinality integers and strings, DELTA_BINARY_PACKED or PLAIN for
 * timestamps, BYTE_STREAM_SPLIT or PLAIN for floats and doubles, PLAIN
 * otherwise).
 *
 * Invariant: `writeValues(out, start, count)` writes values [start,
 * start + count) of the non-null sequence in the chosen encoding, and
 * `stats` describes exactly those values (nullCount is filled by the caller).
 */

import type { Column, Field } from "../columnar/batch.ts";
import { INTEGER_RANGES, parseDecimal, representationOf } from "../columnar/types.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import { writeByteStreamSplit } from "./byte_stream_split.ts";
import { type DeltaScratch, writeDeltaInt64 } from "./delta.ts";
import {
  type Dictionary,
  int32Dictionary,
  int64Dictionary,
  MAX_DICTIONARY,
  stringDictionary,
  stringsLookUnique,
} from "./dictionary.ts";
import { writePlainBinary, writePlainFixed, writePlainStrings, writeString } from "./plain.ts";
import { writePlainBooleans } from "./rle.ts";
import { bigintToBytes, type ColumnStats, compareBytes, compareStrings } from "./stats.ts";
import { decimalByteLength } from "./schema.ts";
import { decodeStrings, isCoded } from "./string_codes.ts";

/** How timestamps are encoded. */
export type TimestampEncoding = "DELTA_BINARY_PACKED" | "PLAIN";

/** How float and double values are encoded. */
export type FloatEncoding = "BYTE_STREAM_SPLIT" | "PLAIN";

/** Choices that shape the encoding of values. */
export interface ValueOptions {
  timestampEncoding: TimestampEncoding;
  floatEncoding: FloatEncoding;
  dictionary: boolean;
  delta: DeltaScratch;
}

/** The value encodings the encoder uses. */
export type ValueEncoding =
  | "PLAIN"
  | "RLE_DICTIONARY"
  | "DELTA_BINARY_PACKED"
  | "BYTE_STREAM_SPLIT";

/** The non-null values of a chunk, ready to be written page by page. */
export interface PreparedValues {
  count: number;
  encoding: ValueEncoding;
  stats: ColumnStats;
  /** Estimated bytes per value, for page sizing. */
  width: number;
  /** Size of value i, for variable-width PLAIN values. */
  sizeOf?: (i: number) => number;
  /** The dictionary, when the values are dictionary-encoded. */
  dictionary?: {
    size: number;
    bitWidth: number;
    indexes: Int32Array;
    write: (out: ByteBuffer) => void;
  };
  writeValues(out: ByteBuffer, start: number, count: number): void;
}

/** Prepares rows [start, end) of a column, of which `nullCount` are null. */
export function prepareValues(
  field: Field,
  column: Column,
  start: number,
  end: number,
  nullCount: number,
  options: ValueOptions,
): PreparedValues {
  const nulls = nullCount ? column.nulls : undefined;
  const count = end - start - nullCount;
  const values = column.values;
  const rep = representationOf(field.type);
  if (rep === "nested") {
    throw new TypeError(`Cannot write nested column "${field.name}" as a flat column`);
  }
  switch (rep) {
    case "int32": {
      const v = compactTyped(values as Int32Array, nulls, start, end, count);
      return prepareInt32(field, v, options);
    }
    case "int64": {
      const words = compactWords(values as BigInt64Array, nulls, start, end, count);
      const timestamp = field.type !== "long";
      return prepareInt64(words, count, timestamp, options);
    }
    case "float32":
    case "float64": {
      const v = compactTyped(values as Float32Array, nulls, start, end, count);
      return prepareFloat(v, options.floatEncoding);
    }
    case "bool":
      return prepareBool(compactTyped(values as Uint8Array, nulls, start, end, count));
    case "string": {
      if (isCoded(column)) {
        const ids = compactTyped(column.values, nulls, start, end, count);
        const coded = prepareCodedStrings(ids, column.codes.values, options);
        if (coded) return coded;
        const [v, base] = compactArray(decodeStrings(column, end), nulls, start, end, count);
        return prepareStrings(v, base, count, options);
      }
      const [v, base] = compactArray(values as string[], nulls, start, end, count);
      return prepareStrings(v, base, count, options);
    }
    case "binary": {
      const [v, base] = compactArray(values as Uint8Array[], nulls, start, end, count);
      return prepareBinary(v, base, count);
    }
    case "decimal": {
      const [v, base] = compactArray(values as bigint[], nulls, start, end, count);
      return prepareDecimal(field, v, base, count, options);
    }
  }
}

type Typed = Int32Array | Float32Array | Float64Array | Uint8Array;

function compactTyped<T extends Typed>(
  values: T,
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
  count: number,
): T {
  if (!nulls) return values.subarray(start, end) as T;
  const out = new (values.constructor as new (n: number) => T)(count);
  let j = 0;
  for (let i = start; i < end; i++) if (nulls[i] === 0) out[j++] = values[i]!;
  return out;
}

function compactWords(
  values: BigInt64Array,
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
  count: number,
): Int32Array {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  if (!nulls) return words.subarray(start * 2, end * 2);
  const out = new Int32Array(count * 2);
  let j = 0;
  for (let i = start; i < end; i++) {
    if (nulls[i] === 0) {
      out[j++] = words[2 * i]!;
      out[j++] = words[2 * i + 1]!;
    }
  }
  return out;
}

function compactArray<T>(
  values: T[],
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
  count: number,
): [T[], number] {
  if (!nulls) return [values, start];
  const out = new Array<T>(count);
  let j = 0;
  for (let i = start; i < end; i++) if (nulls[i] === 0) out[j++] = values[i]!;
  return [out, 0];
}

function bitWidthFor(size: number): number {
  return Math.max(1, 32 - Math.clz32(size - 1));
}

function maxDistinct(count: number): number {
  return Math.max(1, Math.min(MAX_DICTIONARY, count >> 2));
}

function dictionaryOf<T>(
  dict: Dictionary<T>,
  write: (out: ByteBuffer) => void,
): NonNullable<PreparedValues["dictionary"]> {
  return { size: dict.size, bitWidth: bitWidthFor(dict.size), indexes: dict.indexes, write };
}

function int32Range(values: Int32Array, count: number): [number, number] {
  let min = 2147483647;
  let max = -2147483648;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function prepareInt32(field: Field, values: Int32Array, options: ValueOptions): PreparedValues {
  const count = values.length;
  const dict = options.dictionary && count >= 16
    ? int32Dictionary(values, count, maxDistinct(count))
    : undefined;
  const [min, max] = dict ? int32Range(dict.values, dict.size) : int32Range(values, count);
  if (count && (field.type === "byte" || field.type === "short")) {
    const [lo, hi] = INTEGER_RANGES[field.type];
    if (min < lo || max > hi) {
      throw new RangeError(
        `Cannot write column "${field.name}": value ${
          min < lo ? min : max
        } is outside the ${field.type} range ${lo}..${hi}`,
      );
    }
  }
  const stats: ColumnStats = { nullCount: 0 };
  if (count) {
    stats.min = min;
    stats.max = max;
  }
  const base = { count, stats, width: 4 };
  if (dict) {
    const distinct = dict.values;
    return {
      ...base,
      encoding: "RLE_DICTIONARY",
      dictionary: dictionaryOf(dict, (out) => writePlainFixed(out, distinct, 0, dict.size, 4)),
      writeValues: () => {},
    };
  }
  return {
    ...base,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainFixed(out, values, start, n, 4),
  };
}

function int64Range(words: Int32Array, count: number): [bigint, bigint] | undefined {
  if (count === 0) return undefined;
  let minHi = words[1]!;
  let minLo = words[0]! >>> 0;
  let maxHi = minHi;
  let maxLo = minLo;
  for (let i = 1; i < count; i++) {
    const hi = words[2 * i + 1]!;
    if (hi > minHi && hi < maxHi) continue;
    const lo = words[2 * i]! >>> 0;
    if (hi < minHi || (hi === minHi && lo < minLo)) {
      minHi = hi;
      minLo = lo;
    }
    if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
      maxHi = hi;
      maxLo = lo;
    }
  }
  return [
    (BigInt(minHi) << 32n) | BigInt(minLo),
    (BigInt(maxHi) << 32n) | BigInt(maxLo),
  ];
}

function prepareInt64(
  words: Int32Array,
  count: number,
  timestamp: boolean,
  options: ValueOptions,
): PreparedValues {
  const dict = !timestamp && options.dictionary && count >= 16
    ? int64Dictionary(words, count, maxDistinct(count))
    : undefined;
  const range = dict ? int64Range(dict.values, dict.size) : int64Range(words, count);
  const stats: ColumnStats = { nullCount: 0 };
  if (range) [stats.min, stats.max] = range;
  const base = { count, stats, width: 8 };
  if (dict) {
    const distinct = dict.values;
    return {
      ...base,
      encoding: "RLE_DICTIONARY",
      dictionary: dictionaryOf(dict, (out) => writePlainFixed(out, distinct, 0, dict.size, 8)),
      writeValues: () => {},
    };
  }
  if (timestamp && options.timestampEncoding === "DELTA_BINARY_PACKED") {
    const delta = options.delta;
    return {
      ...base,
      encoding: "DELTA_BINARY_PACKED",
      writeValues: (out, start, n) => writeDeltaInt64(out, words, start, n, delta),
    };
  }
  return {
    ...base,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainFixed(out, words, start * 2, n * 2, 4),
  };
}

function prepareFloat(
  values: Float32Array | Float64Array,
  encoding: FloatEncoding,
): PreparedValues {
  const count = values.length;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v !== v) nan++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const stats: ColumnStats = { nullCount: 0, nanCount: nan };
  if (count > nan) {
    // Keep the exact zero: -0 is the min only if present, +0 the max likewise.
    if (min === 0) min = hasZero(values, true) ? -0 : 0;
    if (max === 0) max = hasZero(values, false) ? 0 : -0;
    stats.min = min;
    stats.max = max;
  }
  const width = values.BYTES_PER_ELEMENT;
  if (encoding === "BYTE_STREAM_SPLIT") {
    return {
      count,
      stats,
      width,
      encoding,
      writeValues: (out, start, n) => writeByteStreamSplit(out, values, start, n),
    };
  }
  return {
    count,
    stats,
    width,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainFixed(out, values, start, n, width),
  };
}

function hasZero(values: Float32Array | Float64Array, negative: boolean): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === 0 && (1 / v < 0) === negative) return true;
  }
  return false;
}

function prepareBool(values: Uint8Array): PreparedValues {
  const count = values.length;
  let ones = 0;
  for (let i = 0; i < count; i++) ones += values[i]! & 1;
  const stats: ColumnStats = { nullCount: 0 };
  if (count) {
    stats.min = ones === count;
    stats.max = ones > 0;
  }
  return {
    count,
    stats,
    width: 0.125,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainBooleans(out, values, start, n),
  };
}

function stringRange(values: readonly string[], base: number, count: number): [string, string] {
  let min = values[base]!;
  let max = min;
  let exotic = false;
  for (let i = base + 1; i < base + count; i++) {
    const s = values[i]!;
    if (s < min) min = s;
    else if (s > max) max = s;
  }
  // Native < compares UTF-16 code units, which differs from code point order
  // only around surrogates; recheck exactly if the bounds could be affected.
  for (let i = base; i < base + count && !exotic; i++) exotic = /[\ud800-\uffff]/.test(values[i]!);
  if (exotic) {
    min = max = values[base]!;
    for (let i = base + 1; i < base + count; i++) {
      const s = values[i]!;
      if (compareStrings(s, min) < 0) min = s;
      if (compareStrings(s, max) > 0) max = s;
    }
  }
  return [min, max];
}

function prepareStrings(
  values: string[],
  base: number,
  count: number,
  options: ValueOptions,
): PreparedValues {
  const dict = options.dictionary && count >= 16 && !stringsLookUnique(values, base, count)
    ? stringDictionary(values, base, count, Math.min(MAX_DICTIONARY, count >> 1))
    : undefined;
  if (dict) return preparedStringDictionary(count, dict);
  const stats: ColumnStats = { nullCount: 0 };
  if (count) [stats.min, stats.max] = stringRange(values, base, count);
  return {
    count,
    stats,
    width: 8,
    sizeOf: (i) => values[base + i]!.length,
    encoding: "PLAIN",
    writeValues: (out, start, n) => {
      for (let i = base + start, e = base + start + n; i < e; i++) writeString(out, values[i]!);
    },
  };
}

/**
 * Prepares the ids of a string column held as codes as a dictionary of the
 * strings they use, in first-seen order (as `stringDictionary` orders them),
 * or undefined where a dictionary would not be written: too few values, or
 * too many distinct ones (as `prepareStrings` judges).
 */
function prepareCodedStrings(
  ids: Int32Array,
  strings: readonly string[],
  options: ValueOptions,
): PreparedValues | undefined {
  const count = ids.length;
  const limit = Math.min(MAX_DICTIONARY, count >> 1);
  if (!options.dictionary || count < 16) return undefined;
  // The codes may hold strings these rows do not use (other row groups'):
  // renumber the used ones densely.
  const slot = new Int32Array(strings.length).fill(-1);
  const distinct: string[] = [];
  const indexes = new Int32Array(count);
  let last = -1;
  let lastIndex = -1;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (id === last) {
      indexes[i] = lastIndex;
      continue;
    }
    let index = slot[id]!;
    if (index < 0) {
      if (distinct.length === limit) return undefined;
      index = slot[id] = distinct.length;
      distinct.push(strings[id]!);
    }
    indexes[i] = index;
    last = id;
    lastIndex = index;
  }
  return preparedStringDictionary(count, { values: distinct, size: distinct.length, indexes });
}

/** `count` string values written as indexes into `dict`, whose strings give the statistics. */
function preparedStringDictionary(count: number, dict: Dictionary<string[]>): PreparedValues {
  const stats: ColumnStats = { nullCount: 0 };
  if (dict.size) [stats.min, stats.max] = stringRange(dict.values, 0, dict.size);
  return {
    count,
    stats,
    width: 1,
    encoding: "RLE_DICTIONARY",
    dictionary: dictionaryOf(dict, (out) => writePlainStrings(out, dict.values, 0, dict.size)),
    writeValues: () => {},
  };
}

function prepareBinary(values: Uint8Array[], base: number, count: number): PreparedValues {
  const stats: ColumnStats = { nullCount: 0 };
  if (count) {
    let min = values[base]!;
    let max = min;
    for (let i = base + 1; i < base + count; i++) {
      const v = values[i]!;
      if (compareBytes(v, min) < 0) min = v;
      if (compareBytes(v, max) > 0) max = v;
    }
    stats.min = min.slice();
    stats.max = max.slice();
  }
  return {
    count,
    stats,
    width: 8,
    sizeOf: (i) => values[base + i]!.length,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainBinary(out, values, base + start, n),
  };
}

function prepareDecimal(
  field: Field,
  values: bigint[],
  base: number,
  count: number,
  options: ValueOptions,
): PreparedValues {
  const { precision } = parseDecimal(field.type as string)!;
  const limit = 10n ** BigInt(precision);
  let min = 0n;
  let max = 0n;
  for (let i = base; i < base + count; i++) {
    const v = values[i]!;
    if (typeof v !== "bigint" || v >= limit || v <= -limit) {
      throw new RangeError(
        `Cannot write column "${field.name}": value ${v} does not fit ${field.type} (unscaled values need fewer than ${precision} digits)`,
      );
    }
    if (i === base || v < min) min = v;
    if (i === base || v > max) max = v;
  }
  const stats: ColumnStats = { nullCount: 0 };
  if (count) {
    stats.min = min;
    stats.max = max;
  }
  if (precision <= 9) {
    const ints = new Int32Array(count);
    for (let i = 0; i < count; i++) ints[i] = Number(values[base + i]!);
    return { ...prepareInt32(field, ints, options), stats };
  }
  if (precision <= 18) {
    const longs = new BigInt64Array(count);
    for (let i = 0; i < count; i++) longs[i] = values[base + i]!;
    const words = new Int32Array(longs.buffer);
    return { ...prepareInt64(words, count, false, options), stats };
  }
  const length = decimalByteLength(precision);
  const bytes = new Uint8Array(count * length);
  for (let i = 0; i < count; i++) bytes.set(bigintToBytes(values[base + i]!, length), i * length);
  return {
    count,
    stats,
    width: length,
    encoding: "PLAIN",
    writeValues: (out, start, n) => writePlainFixed(out, bytes, start, n, length),
  };
}
