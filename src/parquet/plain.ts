/**
 * The PLAIN encoding, both ways, and the value sections of pages.
 *
 * Writing: PLAIN values into a `ByteBuffer`: fixed-width typed arrays are
 * copied byte for byte (the platform is little-endian, as Parquet is), and
 * byte arrays are written as a 4-byte length and the bytes. Strings are
 * UTF-8 encoded in place, with a loop for short ASCII strings and
 * `TextEncoder.encodeInto` for the rest, so no per-value array is made.
 *
 * Reading, for the typed-array decode path: PLAIN values of every physical
 * type, dictionary indexes gathered from a dictionary already converted to
 * the column's representation, and the scatter of a page's non-null values
 * around its nulls. Values are written at `out[at..]` in the column's own
 * representation (`Shape`), fixed-width ones by byte copies or 32-bit words
 * so that float bits (NaN payloads included) survive; strings are decoded as
 * `TextDecoder` decodes them, a leading U+FEFF kept (ASCII ones as slices of one decode of the
 * page that maps each byte to one UTF-16 unit; V8 shares the
 * page string with slices of 13 or more characters, so they keep it alive);
 * binary values are fresh copies, never views of a page buffer; a dictionary
 * index outside the dictionary throws.
 */

import type { ColumnValues } from "../columnar/batch.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import { convertFixed, type FastPlan, wordsOf } from "./physical.ts";
import { HybridReader, unpackBooleans } from "./rle.ts";
import type { Cursor } from "./varint.ts";
import { asciiHashInto, stringHash } from "../util/string_hash.ts";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("Cannot encode Parquet on a big-endian platform");
}

const encoder = new TextEncoder();

/** Copies `count` fixed-width values of `width` bytes from a typed array. */
export function writePlainFixed(
  out: ByteBuffer,
  values: ArrayBufferView,
  start: number,
  count: number,
  width: number,
): void {
  const size = count * width;
  out.ensure(size);
  out.bytes.set(new Uint8Array(values.buffer, values.byteOffset + start * width, size), out.length);
  out.length += size;
}

/** Writes strings as length-prefixed UTF-8. */
export function writePlainStrings(
  out: ByteBuffer,
  values: readonly string[],
  start: number,
  count: number,
): void {
  for (let i = start, end = start + count; i < end; i++) writeString(out, values[i]!);
}

/** Writes one length-prefixed UTF-8 string. */
export function writeString(out: ByteBuffer, s: string): void {
  const n = s.length;
  // A UTF-16 code unit takes at most 3 bytes of UTF-8.
  out.ensure(4 + 3 * n);
  const bytes = out.bytes;
  const at = out.length;
  let p = at + 4;
  let ascii = n <= 64;
  if (ascii) {
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      bytes[p++] = c;
    }
  }
  if (!ascii) {
    p = at + 4 + encoder.encodeInto(s, bytes.subarray(at + 4)).written;
  }
  const length = p - at - 4;
  bytes[at] = length & 0xff;
  bytes[at + 1] = (length >>> 8) & 0xff;
  bytes[at + 2] = (length >>> 16) & 0xff;
  bytes[at + 3] = length >>> 24;
  out.length = p;
}

/** Writes byte arrays as length-prefixed bytes. */
export function writePlainBinary(
  out: ByteBuffer,
  values: readonly Uint8Array[],
  start: number,
  count: number,
): void {
  for (let i = start, end = start + count; i < end; i++) {
    const v = values[i]!;
    out.u32(v.length);
    out.append(v);
  }
}

// Reading.

// ignoreBOM keeps a value's leading U+FEFF: it is data, as other readers keep it.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const latin1 = new TextDecoder("windows-1252");

function truncated(what: string): RangeError {
  return new RangeError(`${what} runs past the end of its page`);
}

/** Grows-on-demand scratch space, reused by every page (decoding is synchronous). */
let indexScratch = new Int32Array(1024);
let fixedScratch = new Int32Array(1024);

function indexes(n: number): Int32Array {
  if (indexScratch.length < n) indexScratch = new Int32Array(Math.max(n, indexScratch.length * 2));
  return indexScratch;
}

/** Scratch words for `n` values of a fixed-width type, 8-byte aligned. */
export function fixedWords(n: number): Int32Array {
  if (fixedScratch.length < n) fixedScratch = new Int32Array(Math.max(n, fixedScratch.length * 2));
  return fixedScratch;
}

/**
 * Decodes `count` PLAIN values of the plan's physical type into `out[at..]`.
 * With `hashes`, string values (BYTE_ARRAY as strings) also get their
 * `stringHash` at `hashes[at..]`, taken from the bytes of ASCII values.
 */
export function readPlain(
  plan: FastPlan,
  c: Cursor,
  count: number,
  out: ColumnValues,
  at: number,
  hashes?: Int32Array,
): void {
  switch (plan.physical) {
    case "BOOLEAN": {
      if (c.pos + Math.ceil(count / 8) > c.end) throw truncated("A PLAIN boolean section");
      unpackBooleans(c.bytes, c.pos, out as Uint8Array, at, count);
      c.pos += Math.ceil(count / 8);
      return;
    }
    case "BYTE_ARRAY":
      readByteArrays(plan, c, count, out as unknown[], at, hashes);
      return;
    case "FIXED_LEN_BYTE_ARRAY":
      readFixedArrays(plan, c, count, out as unknown[], at);
      return;
    default: {
      const size = count * plan.width;
      if (c.pos + size > c.end) throw truncated(`A PLAIN ${plan.physical} section`);
      const source = c.bytes.subarray(c.pos, c.pos + size);
      c.pos += size;
      if (plan.conversion === "copy") {
        const typed = out as Int32Array;
        new Uint8Array(typed.buffer, typed.byteOffset + at * plan.width, size).set(source);
        return;
      }
      const words = fixedWords(size >> 2);
      new Uint8Array(words.buffer, 0, size).set(source);
      convertFixed(plan, words, count, out, at);
    }
  }
}

/** Pages up to this size are decoded to one string that ASCII values are sliced from. */
const MAX_PAGE_STRING = 1 << 28;

/** The page as one string of one UTF-16 unit per byte, or "" if it is too large. */
function pageString(bytes: Uint8Array, end: number): string {
  if (end > MAX_PAGE_STRING) return "";
  // UTF-8 decodes several times faster than windows-1252; where it gives one
  // unit per byte (every byte ASCII, or alone where it is not), the ASCII
  // values sliced from it are the bytes', as from the windows-1252 form.
  const page = bytes.subarray(0, end);
  const text = utf8.decode(page);
  return text.length === end ? text : latin1.decode(page);
}

/**
 * One string from bytes [start, end) of a page, as `TextDecoder` gives it:
 * an ASCII value is a slice of `page` (which V8 shares for longer values).
 */
function readString(bytes: Uint8Array, start: number, end: number, page: string): string {
  if (end <= page.length) {
    let k = start;
    while (k < end && bytes[k]! < 0x80) k++;
    if (k === end) return page.slice(start, end);
  }
  return utf8.decode(bytes.subarray(start, end));
}

/** Big-endian two's complement bytes [start, end) as a bigint (see `bigintFromBytes`). */
function readBigint(bytes: Uint8Array, start: number, end: number): bigint {
  if (end === start) return 0n;
  if (end - start <= 6) {
    // Up to 48 bits: exact in a double.
    let v = bytes[start]! & 0x80 ? -1 : 0;
    for (let k = start; k < end; k++) v = v * 256 + bytes[k]!;
    return BigInt(v);
  }
  let value = 0n;
  for (let k = start; k < end; k++) value = (value << 8n) | BigInt(bytes[k]!);
  const bits = BigInt((end - start) * 8);
  return bytes[start]! & 0x80 ? value - (1n << bits) : value;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}

function readByteArrays(
  plan: FastPlan,
  c: Cursor,
  count: number,
  out: unknown[],
  at: number,
  hashes: Int32Array | undefined,
): void {
  const bytes = c.bytes;
  const end = c.end;
  let p = c.pos;
  const conversion = plan.conversion;
  const factor = plan.factor;
  const page = conversion === "bytesToString" ? pageString(bytes, end) : "";
  // The previous string, reused when the next value has the same bytes (runs
  // of one value are common where a writer's dictionary overflowed).
  let last = "";
  let lastAt = 0;
  let lastLength = -1;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw truncated("A PLAIN BYTE_ARRAY section");
    const length =
      (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>>
      0;
    p += 4;
    if (p + length > end) throw truncated("A PLAIN BYTE_ARRAY value");
    if (hashes && conversion === "bytesToString") {
      if (length !== lastLength || !sameBytes(bytes, lastAt, p, length)) {
        // The hash's pass over the bytes is also readString's check that they are ASCII.
        if (p + length <= page.length && asciiHashInto(bytes, p, p + length, hashes, at + i)) {
          last = page.slice(p, p + length);
        } else {
          last = readString(bytes, p, p + length, page);
          hashes[at + i] = stringHash(last);
        }
        lastAt = p;
        lastLength = length;
      } else hashes[at + i] = hashes[at + i - 1]!;
      out[at + i] = last;
    } else if (conversion === "bytesToString") {
      if (length !== lastLength || !sameBytes(bytes, lastAt, p, length)) {
        last = readString(bytes, p, p + length, page);
        lastAt = p;
        lastLength = length;
      }
      out[at + i] = last;
    } else if (conversion === "bytesToBinary") out[at + i] = bytes.slice(p, p + length);
    else {
      const v = readBigint(bytes, p, p + length);
      out[at + i] = factor === 1n ? v : v * factor;
    }
    p += length;
  }
  c.pos = p;
}

function readFixedArrays(
  plan: FastPlan,
  c: Cursor,
  count: number,
  out: unknown[],
  at: number,
): void {
  const bytes = c.bytes;
  const width = plan.width;
  if (c.pos + count * width > c.end) throw truncated("A PLAIN FIXED_LEN_BYTE_ARRAY section");
  const conversion = plan.conversion;
  const factor = plan.factor;
  const page = conversion === "bytesToString" ? pageString(bytes, c.end) : "";
  let p = c.pos;
  for (let i = 0; i < count; i++, p += width) {
    if (conversion === "bytesToString") out[at + i] = readString(bytes, p, p + width, page);
    else if (conversion === "bytesToBinary") out[at + i] = bytes.slice(p, p + width);
    else {
      const v = readBigint(bytes, p, p + width);
      out[at + i] = factor === 1n ? v : v * factor;
    }
  }
  c.pos = p;
}

/** A decoded dictionary: its values in the column's representation. */
export interface Dictionary {
  values: ColumnValues;
  size: number;
}

function outOfRange(index: number, size: number): RangeError {
  return new RangeError(`Dictionary index ${index >>> 0} is out of range for ${size} values`);
}

/**
 * Decodes `count` dictionary indexes (a bit width byte, then the hybrid
 * runs) and writes the dictionary values they pick into `out[at..]`.
 */
export function readDictionaryIndexes(
  plan: FastPlan,
  c: Cursor,
  count: number,
  dictionary: Dictionary,
  out: ColumnValues,
  at: number,
): void {
  if (count === 0) return;
  if (c.pos >= c.end) throw truncated("A dictionary-encoded section");
  const width = c.bytes[c.pos++]!;
  const size = dictionary.size;
  const binary = plan.conversion === "bytesToBinary";
  if (width === 0) {
    // Every index is 0; some writers then leave out the runs, as hyparquet allows.
    if (size === 0) throw outOfRange(0, size);
    fillRun(plan, dictionary.values, 0, out, at, count, binary);
    return;
  }
  const reader = new HybridReader(c, width);
  const idx = indexes(count);
  let done = 0;
  let empty = 0;
  while (done < count) {
    const n = reader.next(idx, 0, count - done);
    if (n === 0) {
      if (++empty > 64) throw new RangeError("A dictionary-encoded section holds only empty runs");
      continue;
    }
    const t = at + done;
    if (reader.rle) {
      const k = reader.value;
      if ((k >>> 0) >= size) throw outOfRange(k, size);
      fillRun(plan, dictionary.values, k, out, t, n, binary);
    } else {
      for (let i = 0; i < n; i++) if ((idx[i]! >>> 0) >= size) throw outOfRange(idx[i]!, size);
      gather(plan, dictionary.values, idx, out, t, n, binary);
    }
    done += n;
  }
}

function fillRun(
  plan: FastPlan,
  dict: ColumnValues,
  k: number,
  out: ColumnValues,
  t: number,
  n: number,
  binary: boolean,
): void {
  switch (plan.shape) {
    case "w32":
      wordsOf(out as Int32Array).fill(wordsOf(dict as Int32Array)[k]!, t, t + n);
      return;
    case "w64": {
      const longs = out as BigInt64Array;
      const d = dict as BigInt64Array;
      new BigInt64Array(longs.buffer, longs.byteOffset, longs.length).fill(
        new BigInt64Array(d.buffer, d.byteOffset, d.length)[k]!,
        t,
        t + n,
      );
      return;
    }
    case "u8":
      (out as Uint8Array).fill((dict as Uint8Array)[k]!, t, t + n);
      return;
    case "ref": {
      const refs = out as unknown[];
      const v = (dict as unknown[])[k];
      if (binary) { for (let i = t; i < t + n; i++) refs[i] = (v as Uint8Array).slice(); }
      else refs.fill(v, t, t + n);
    }
  }
}

function gather(
  plan: FastPlan,
  dict: ColumnValues,
  idx: Int32Array,
  out: ColumnValues,
  t: number,
  n: number,
  binary: boolean,
): void {
  switch (plan.shape) {
    case "w32": {
      const o = wordsOf(out as Int32Array);
      const d = wordsOf(dict as Int32Array);
      for (let i = 0; i < n; i++) o[t + i] = d[idx[i]!]!;
      return;
    }
    case "w64": {
      const o = wordsOf(out as BigInt64Array);
      const d = wordsOf(dict as BigInt64Array);
      for (let i = 0, w = 2 * t; i < n; i++, w += 2) {
        const k = 2 * idx[i]!;
        o[w] = d[k]!;
        o[w + 1] = d[k + 1]!;
      }
      return;
    }
    case "u8": {
      const o = out as Uint8Array;
      const d = dict as Uint8Array;
      for (let i = 0; i < n; i++) o[t + i] = d[idx[i]!]!;
      return;
    }
    case "ref": {
      const o = out as unknown[];
      const d = dict as unknown[];
      if (binary) { for (let i = 0; i < n; i++) o[t + i] = (d[idx[i]!] as Uint8Array).slice(); }
      else for (let i = 0; i < n; i++) o[t + i] = d[idx[i]!];
    }
  }
}

/** Decodes RLE-encoded booleans (a 4-byte length, then bit width 1 runs). */
export function readRleBooleans(c: Cursor, count: number, out: Uint8Array, at: number): void {
  if (c.pos + 4 > c.end) throw truncated("An RLE boolean section");
  const b = c.bytes;
  const length =
    (b[c.pos]! | (b[c.pos + 1]! << 8) | (b[c.pos + 2]! << 16) | (b[c.pos + 3]! << 24)) >>>
    0;
  c.pos += 4;
  if (c.pos + length > c.end) throw truncated("An RLE boolean section");
  const section = { bytes: b, pos: c.pos, end: c.pos + length };
  const idx = indexes(count);
  new HybridReader(section, 1).readAll(idx, 0, count);
  for (let i = 0; i < count; i++) out[at + i] = idx[i]!;
  c.pos += length;
}

/**
 * Places `dense` (the page's non-null values, in order) at the rows of
 * `out[at..at + rows)` whose definition level is 1, and marks the others null.
 */
export function scatter(
  shape: FastPlan["shape"],
  dense: ColumnValues,
  levels: Int32Array,
  rows: number,
  out: ColumnValues,
  nulls: Uint8Array,
  at: number,
): void {
  let k = 0;
  switch (shape) {
    case "w32": {
      const o = wordsOf(out as Int32Array);
      const d = wordsOf(dense as Int32Array);
      for (let i = 0; i < rows; i++) {
        if (levels[i]) o[at + i] = d[k++]!;
        else nulls[at + i] = 1;
      }
      return;
    }
    case "w64": {
      const o = wordsOf(out as BigInt64Array);
      const d = wordsOf(dense as BigInt64Array);
      for (let i = 0; i < rows; i++) {
        if (levels[i]) {
          o[2 * (at + i)] = d[2 * k]!;
          o[2 * (at + i) + 1] = d[2 * k + 1]!;
          k++;
        } else nulls[at + i] = 1;
      }
      return;
    }
    case "u8": {
      const o = out as Uint8Array;
      const d = dense as Uint8Array;
      for (let i = 0; i < rows; i++) {
        if (levels[i]) o[at + i] = d[k++]!;
        else nulls[at + i] = 1;
      }
      return;
    }
    case "ref": {
      const o = out as unknown[];
      const d = dense as unknown[];
      for (let i = 0; i < rows; i++) {
        if (levels[i]) o[at + i] = d[k++];
        else nulls[at + i] = 1;
      }
    }
  }
}
