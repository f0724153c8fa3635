/**
 * The fast path of `readColumns`: decodes one column chunk of a flat
 * primitive column straight into a column of a `ColumnBatch` (typed arrays
 * for numbers, booleans and timestamps, string references gathered from a
 * dictionary decoded once), with no object per value for numeric columns and
 * no BigInt per value for 64-bit ones.
 *
 * It reads what our encoder writes and what pyarrow, Spark and delta-rs
 * write: DATA_PAGE and DATA_PAGE_V2 pages after an optional dictionary page;
 * PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, DELTA_BINARY_PACKED (INT32,
 * INT64) and RLE (booleans) values; RLE definition levels of optional
 * columns; UNCOMPRESSED, SNAPPY (a page stored as one snappy literal is used
 * in place, others through hysnappy), GZIP, ZSTD and BROTLI pages.
 *
 * Invariants: a chunk is either decoded completely into rows [at, at + rows)
 * or reported as not decodable here, with the reason (an encoding, page type
 * or codec this path does not know), so the caller can decode it with
 * hyparquet instead; bytes that contradict the format throw a `RangeError`
 * describing the problem (the caller adds the file, column and row group).
 * Null rows keep their placeholder values and get 1 in `nulls`.
 */

import type { ColumnMetaData, CompressionCodec, PageHeader } from "hyparquet";
import { parquetHeader } from "./_hyparquet.ts";
import type { ColumnValues } from "../columnar/batch.ts";
import { DECOMPRESSORS } from "./codecs.ts";
import { convertFixed, type FastPlan, wordsOf } from "./physical.ts";
import { readDeltaInt32, readDeltaInt64 } from "./delta.ts";
import { HybridReader } from "./rle.ts";
import type { Cursor } from "./varint.ts";
import type { StringCodes } from "./string_codes.ts";
import { stringHash } from "../util/string_hash.ts";
import {
  type Dictionary,
  fixedWords,
  readDictionaryIndexes,
  readPlain,
  readRleBooleans,
  scatter,
} from "./plain.ts";

export { type FastPlan, fastPlanOf } from "./physical.ts";

/** Whether a chunk was decoded, and if not, why the fast path left it alone. */
export type ChunkOutcome = { decoded: true } | { decoded: false; reason: string };

/** Where a chunk's rows go: rows [at, at + rows) of a column. */
export interface ChunkTarget {
  values: ColumnValues;
  /** The column's null mask, made on first use; null rows are set to 1, others left alone. */
  nulls: () => Uint8Array;
  at: number;
  rows: number;
  /**
   * For a string column held as codes (`string_codes.ts`): `values` is an
   * Int32Array of ids into these codes, and strings are interned into them.
   */
  codes?: StringCodes | undefined;
}

const VALUE_ENCODINGS = new Set([
  "PLAIN",
  "PLAIN_DICTIONARY",
  "RLE_DICTIONARY",
  "RLE",
  "BIT_PACKED",
  "DELTA_BINARY_PACKED",
  "DELTA_LENGTH_BYTE_ARRAY",
  "DELTA_BYTE_ARRAY",
  "BYTE_STREAM_SPLIT",
]);

/**
 * Why the fast path cannot decode a chunk, judged from its footer metadata
 * alone, or undefined if it may (its pages are checked as they are read).
 */
export function chunkRefusal(meta: ColumnMetaData): string | undefined {
  if (meta.path_in_schema.length !== 1) return "it is a nested column";
  if (meta.codec !== "UNCOMPRESSED" && !DECOMPRESSORS[meta.codec]) {
    return `the ${meta.codec} codec`;
  }
  const other = meta.encodings.find((e) => !VALUE_ENCODINGS.has(e));
  return other === undefined ? undefined : `the ${other} encoding`;
}

interface State {
  plan: FastPlan;
  codec: CompressionCodec;
  target: ChunkTarget;
  /** Rows decoded so far. */
  row: number;
  dictionary: Dictionary | undefined;
  /** The target's codes, for a string column held as codes. */
  codes: StringCodes | undefined;
}

/** What page decoding shares between flat chunks and nested leaves. */
type PageState = Pick<State, "plan" | "codec" | "dictionary"> & {
  target: { values: ColumnValues };
  codes?: StringCodes | undefined;
};

/** How the ids of a coded string column are gathered from a dictionary of ids. */
const CODE_PLAN: FastPlan = {
  physical: "INT32",
  width: 4,
  shape: "w32",
  conversion: "copy",
  factor: 1n,
  maxDefinition: 0,
};

/**
 * Decodes the column chunk in `bytes` (all its pages, dictionary first) into
 * `target`, or says why it cannot.
 */
export function decodeChunk(
  bytes: Uint8Array,
  codec: CompressionCodec,
  plan: FastPlan,
  target: ChunkTarget,
): ChunkOutcome {
  const state: State = { plan, codec, target, row: 0, dictionary: undefined, codes: target.codes };
  const pages = pageReader(bytes);
  while (state.row < target.rows) {
    const { header, body } = nextPage(
      pages,
      () => `The column chunk ends after ${state.row} of ${target.rows} rows`,
    );
    let reason: string | undefined;
    switch (header.type) {
      case "DICTIONARY_PAGE":
        reason = dictionaryPage(state, header, body);
        break;
      case "DATA_PAGE":
        reason = dataPageV1(state, header, body);
        break;
      case "DATA_PAGE_V2":
        reason = dataPageV2(state, header, body);
        break;
      default:
        reason = header.type ? `a ${header.type} page` : "a page of unknown type";
    }
    if (reason !== undefined) return { decoded: false, reason };
  }
  return { decoded: true };
}

/** A cursor over the pages of one column chunk. */
interface PageReader {
  bytes: Uint8Array;
  view: DataView;
  offset: number;
}

function pageReader(bytes: Uint8Array): PageReader {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/**
 * The next page of a chunk: its header and its (still compressed) body.
 * Throws `ended()` when the chunk has no bytes left, and a `RangeError` when
 * a page runs past the chunk.
 */
function nextPage(
  pages: PageReader,
  ended: () => string,
): { header: PageHeader; body: Uint8Array } {
  const bytes = pages.bytes;
  if (pages.offset >= bytes.length) throw new RangeError(ended());
  const header = parquetHeader(pages);
  const start = pages.offset;
  const size = header.compressed_page_size;
  if (!(size >= 0 && start + size <= bytes.length)) {
    throw new RangeError(`A page of ${size} bytes at byte ${start} runs past the column chunk`);
  }
  pages.offset = start + size;
  return { header, body: bytes.subarray(start, start + size) };
}

function dictionaryPage(
  state: PageState,
  header: PageHeader,
  body: Uint8Array,
): string | undefined {
  const h = header.dictionary_page_header;
  if (!h) throw new RangeError("A dictionary page has no dictionary page header");
  if (h.encoding !== "PLAIN" && h.encoding !== "PLAIN_DICTIONARY") {
    return `a ${h.encoding} dictionary page`;
  }
  const page = decompress(state.codec, body, header.uncompressed_page_size);
  const size = h.num_values;
  const codes = state.codes;
  const values = codes
    ? new Array<string>(size)
    : allocateDense(state.plan, state.target.values, size);
  readPlain(state.plan, { bytes: page, pos: 0, end: page.length }, size, values, 0);
  if (codes) {
    // The dictionary becomes the ids of its strings: index runs then gather ids.
    const ids = new Int32Array(size);
    for (let i = 0; i < size; i++) ids[i] = codes.intern((values as string[])[i]!);
    state.dictionary = { values: ids, size };
    return undefined;
  }
  if (size <= MAX_SHARED_DICTIONARY && Array.isArray(values)) shareStrings(values, size);
  state.dictionary = { values, size };
  return undefined;
}

/** Dictionaries up to this many values have their strings shared (`shareStrings`). */
const MAX_SHARED_DICTIONARY = 256;
/** Strings up to this length are shared. */
const MAX_SHARED_LENGTH = 64;
/** The most strings kept for sharing; the set starts over when it is full. */
const MAX_SHARED = 4096;
const shared = new Map<string, string>();

/**
 * Replaces each short string of a small dictionary with the equal string met
 * before, if any. A low-cardinality column (ids, region names) read from many
 * small files would otherwise fill one long-lived output array with fresh,
 * young strings from every file's dictionary: each write then has to be
 * remembered by the garbage collector, and every string be copied out of the
 * young generation. Shared strings are old after the first file, and equal
 * values are then the same string, which the encoder compares by identity.
 */
function shareStrings(values: unknown[], size: number): void {
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (typeof v !== "string" || v.length > MAX_SHARED_LENGTH) continue;
    const seen = shared.get(v);
    if (seen !== undefined) values[i] = seen;
    else {
      if (shared.size >= MAX_SHARED) shared.clear();
      shared.set(v, v);
    }
  }
}

function dataPageV1(state: State, header: PageHeader, body: Uint8Array): string | undefined {
  const h = header.data_page_header;
  if (!h) throw new RangeError("A data page has no data page header");
  const rows = h.num_values;
  checkRows(state, rows);
  const page = decompress(state.codec, body, header.uncompressed_page_size);
  const c: Cursor = { bytes: page, pos: 0, end: page.length };
  let levels: Int32Array | undefined;
  if (state.plan.maxDefinition) {
    if (h.definition_level_encoding !== "RLE") {
      return `${h.definition_level_encoding} definition levels`;
    }
    if (page.length < 4) throw new RangeError("A data page ends inside its definition levels");
    const length = (page[0]! | (page[1]! << 8) | (page[2]! << 16) | (page[3]! << 24)) >>> 0;
    if (4 + length > page.length) throw new RangeError("Definition levels run past their page");
    levels = readLevels({ bytes: page, pos: 4, end: 4 + length }, rows);
    c.pos = 4 + length;
  }
  return pageValues(state, h.encoding, c, rows, levels, levels ? countPresent(levels, rows) : rows);
}

function dataPageV2(state: State, header: PageHeader, body: Uint8Array): string | undefined {
  const h = header.data_page_header_v2;
  if (!h) throw new RangeError("A data page v2 has no data page header");
  const rows = h.num_rows;
  if (h.num_values !== rows) return "a page whose value count differs from its row count";
  if (h.repetition_levels_byte_length) return "repetition levels";
  checkRows(state, rows);
  const levelBytes = h.definition_levels_byte_length;
  if (levelBytes < 0 || levelBytes > body.length) {
    throw new RangeError(`Definition levels of ${levelBytes} bytes run past their page`);
  }
  let levels: Int32Array | undefined;
  if (state.plan.maxDefinition && (levelBytes > 0 || h.num_nulls > 0)) {
    levels = readLevels({ bytes: body, pos: 0, end: levelBytes }, rows);
  }
  const present = levels ? countPresent(levels, rows) : rows;
  if (present !== rows - h.num_nulls) {
    throw new RangeError(
      `A data page v2 says it has ${h.num_nulls} nulls, its definition levels say ${
        rows - present
      }`,
    );
  }
  let values = body.subarray(levelBytes);
  const size = header.uncompressed_page_size - levelBytes;
  // A page with no values may have no compressed bytes, which no codec reads.
  if (h.is_compressed !== false && size > 0) values = decompress(state.codec, values, size);
  const c = { bytes: values, pos: 0, end: values.length };
  return pageValues(state, h.encoding, c, rows, levels, present);
}

function checkRows(state: State, rows: number): void {
  if (!(rows >= 0 && state.row + rows <= state.target.rows)) {
    throw new RangeError(
      `A page of ${rows} rows after row ${state.row} exceeds the ${state.target.rows} rows of its row group`,
    );
  }
}

/** Definition level scratch, reused (decoding is synchronous). */
let levelScratch = new Int32Array(1024);

/**
 * Reads `rows` definition levels (bit width 1); returns them, or undefined
 * when every row is present.
 */
function readLevels(c: Cursor, rows: number): Int32Array | undefined {
  if (levelScratch.length < rows) {
    levelScratch = new Int32Array(Math.max(rows, 2 * levelScratch.length));
  }
  const levels = levelScratch;
  const reader = new HybridReader(c, 1);
  let done = 0;
  let empty = 0;
  let all = true;
  while (done < rows) {
    const n = reader.next(levels, done, rows - done);
    if (n === 0) {
      if (++empty > 64) throw new RangeError("Definition levels hold only empty runs");
      continue;
    }
    if (reader.rle) {
      if (reader.value > 1) {
        throw new RangeError(`A definition level of ${reader.value} exceeds the maximum of 1`);
      }
      if (reader.value !== 1) all = false;
      levels.fill(reader.value, done, done + n);
    } else all = false;
    done += n;
  }
  return all ? undefined : levels;
}

function countPresent(levels: Int32Array, rows: number): number {
  let present = 0;
  for (let i = 0; i < rows; i++) present += levels[i]!;
  return present;
}

/** Decodes a page's values into the target, around its nulls if it has any. */
function pageValues(
  state: State,
  encoding: string,
  c: Cursor,
  rows: number,
  levels: Int32Array | undefined,
  present: number,
): string | undefined {
  const target = state.target;
  const at = target.at + state.row;
  let reason: string | undefined;
  if (present === rows) {
    reason = present ? decodeValues(state, encoding, c, rows, target.values, at) : undefined;
  } else {
    const shape = state.codes ? CODE_PLAN.shape : state.plan.shape;
    const dense = state.codes
      ? new Int32Array(present)
      : allocateDense(state.plan, target.values, present);
    reason = present ? decodeValues(state, encoding, c, present, dense, 0) : undefined;
    if (reason === undefined) {
      scatter(shape, dense, levels!, rows, target.values, target.nulls(), at);
    }
  }
  if (reason === undefined) state.row += rows;
  return reason;
}

function decodeValues(
  state: PageState,
  encoding: string,
  c: Cursor,
  count: number,
  out: ColumnValues,
  at: number,
): string | undefined {
  const plan = state.plan;
  if (state.codes) {
    return codedValues(state, state.codes, encoding, c, count, out as Int32Array, at);
  }
  switch (encoding) {
    case "PLAIN":
      readPlain(plan, c, count, out, at);
      return undefined;
    case "PLAIN_DICTIONARY":
    case "RLE_DICTIONARY":
      if (!state.dictionary) {
        throw new RangeError("A dictionary-encoded page comes before any dictionary page");
      }
      readDictionaryIndexes(plan, c, count, state.dictionary, out, at);
      return undefined;
    case "RLE":
      if (plan.physical !== "BOOLEAN") return `RLE-encoded ${plan.physical} values`;
      readRleBooleans(c, count, out as Uint8Array, at);
      return undefined;
    case "DELTA_BINARY_PACKED": {
      const int64 = plan.physical === "INT64";
      if (!int64 && plan.physical !== "INT32") {
        return `DELTA_BINARY_PACKED ${plan.physical} values`;
      }
      const direct = plan.conversion === "copy";
      const words = direct ? wordsOf(out as Int32Array) : fixedWords(int64 ? 2 * count : count);
      const first = direct ? at : 0;
      if (int64) readDeltaInt64(c, count, words, first);
      else readDeltaInt32(c, count, words, first);
      if (!direct) convertFixed(plan, words, count, out, at);
      return undefined;
    }
    case "BYTE_STREAM_SPLIT": {
      if (plan.width === 0) return `BYTE_STREAM_SPLIT ${plan.physical} values`;
      readPlain(plan, joinStreams(c, count, plan.width), count, out, at);
      return undefined;
    }
    case "DELTA_LENGTH_BYTE_ARRAY":
    case "DELTA_BYTE_ARRAY": {
      const variable = plan.physical === "BYTE_ARRAY";
      if (!variable && plan.physical !== "FIXED_LEN_BYTE_ARRAY") {
        return `${encoding} ${plan.physical} values`;
      }
      if (!variable && encoding === "DELTA_LENGTH_BYTE_ARRAY") {
        return `DELTA_LENGTH_BYTE_ARRAY ${plan.physical} values`;
      }
      const plain = encoding === "DELTA_BYTE_ARRAY"
        ? deltaByteArrays(c, count, variable, plan.width)
        : deltaLengthByteArrays(c, count);
      readPlain(plan, plain, count, out, at);
      return undefined;
    }
    default:
      return `the ${encoding} encoding`;
  }
}

/**
 * Decodes `count` values of a string column held as codes into ids at
 * `out[at..]`: dictionary indexes are gathered from the dictionary's ids,
 * other encodings are decoded to strings and each interned.
 */
function codedValues(
  state: PageState,
  codes: StringCodes,
  encoding: string,
  c: Cursor,
  count: number,
  out: Int32Array,
  at: number,
): string | undefined {
  if (encoding === "PLAIN_DICTIONARY" || encoding === "RLE_DICTIONARY") {
    if (!state.dictionary) {
      throw new RangeError("A dictionary-encoded page comes before any dictionary page");
    }
    readDictionaryIndexes(CODE_PLAN, c, count, state.dictionary, out, at);
    return undefined;
  }
  const strings = new Array<string>(count);
  const reason = decodeValues({ ...state, codes: undefined }, encoding, c, count, strings, 0);
  if (reason !== undefined) return reason;
  for (let i = 0; i < count; i++) out[at + i] = codes.intern(strings[i]!);
  return undefined;
}

/**
 * BYTE_STREAM_SPLIT values (byte k of every value, then byte k + 1, ...)
 * joined back into PLAIN order.
 */
function joinStreams(c: Cursor, count: number, width: number): Cursor {
  const size = count * width;
  if (c.pos + size > c.end) {
    throw new RangeError("A BYTE_STREAM_SPLIT section runs past its page");
  }
  const bytes = c.bytes;
  const joined = new Uint8Array(size);
  for (let k = 0, from = c.pos; k < width; k++, from += count) {
    for (let i = 0, to = k; i < count; i++, to += width) joined[to] = bytes[from + i]!;
  }
  c.pos += size;
  return { bytes: joined, pos: 0, end: size };
}

/** Reads `count` DELTA_BINARY_PACKED lengths, each checked to be >= 0. */
function readLengths(c: Cursor, count: number, what: string): Int32Array {
  const lengths = new Int32Array(count);
  readDeltaInt32(c, count, lengths, 0);
  for (let i = 0; i < count; i++) {
    if (lengths[i]! < 0) throw new RangeError(`A ${what} of ${lengths[i]} is negative`);
  }
  return lengths;
}

/** DELTA_LENGTH_BYTE_ARRAY values (the lengths, then the bytes) as PLAIN BYTE_ARRAY values. */
function deltaLengthByteArrays(c: Cursor, count: number): Cursor {
  const lengths = readLengths(c, count, "DELTA_LENGTH_BYTE_ARRAY length");
  let total = 0;
  for (let i = 0; i < count; i++) total += lengths[i]!;
  if (c.pos + total > c.end) {
    throw new RangeError("DELTA_LENGTH_BYTE_ARRAY values run past their page");
  }
  const out = new Uint8Array(4 * count + total);
  const view = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < count; i++) {
    const n = lengths[i]!;
    view.setUint32(p, n, true);
    out.set(c.bytes.subarray(c.pos, c.pos + n), p + 4);
    c.pos += n;
    p += 4 + n;
  }
  return { bytes: out, pos: 0, end: out.length };
}

/**
 * DELTA_BYTE_ARRAY values (prefix lengths, then the suffixes as
 * DELTA_LENGTH_BYTE_ARRAY; each value is the previous one's prefix plus its
 * suffix) as PLAIN values: length-prefixed, or of `width` bytes each.
 */
function deltaByteArrays(c: Cursor, count: number, variable: boolean, width: number): Cursor {
  const prefixes = readLengths(c, count, "DELTA_BYTE_ARRAY prefix length");
  const suffixes = deltaLengthByteArrays(c, count);
  const sb = suffixes.bytes;
  let total = 0;
  for (let i = 0, p = 0; i < count; i++) {
    const n = sb[p]! | (sb[p + 1]! << 8) | (sb[p + 2]! << 16) | (sb[p + 3]! << 24);
    total += prefixes[i]! + n;
    p += 4 + n;
  }
  const out = new Uint8Array((variable ? 4 * count : 0) + total);
  const view = new DataView(out.buffer);
  let previous = 0;
  let previousLength = 0;
  for (let i = 0, s = 0, p = 0; i < count; i++) {
    const prefix = prefixes[i]!;
    const n = sb[s]! | (sb[s + 1]! << 8) | (sb[s + 2]! << 16) | (sb[s + 3]! << 24);
    if (prefix > previousLength) {
      throw new RangeError(
        `A DELTA_BYTE_ARRAY prefix of ${prefix} bytes exceeds the previous value's ${previousLength}`,
      );
    }
    const length = prefix + n;
    if (!variable && length !== width) {
      throw new RangeError(`A DELTA_BYTE_ARRAY value of ${length} bytes is not ${width} bytes`);
    }
    if (variable) {
      view.setUint32(p, length, true);
      p += 4;
    }
    out.copyWithin(p, previous, previous + prefix);
    out.set(sb.subarray(s + 4, s + 4 + n), p + prefix);
    previous = p;
    previousLength = length;
    p += length;
    s += 4 + n;
  }
  return { bytes: out, pos: 0, end: out.length };
}

/** A fresh array like `like`, of `length` values, in the plan's shape. */
function allocateDense(plan: FastPlan, like: ColumnValues, length: number): ColumnValues {
  if (plan.shape === "ref") return new Array(length);
  return new (like.constructor as new (n: number) => Int32Array)(length);
}

/**
 * One leaf column of a nested column (a field inside a struct, list or map),
 * decoded chunk after chunk: a definition and a repetition level per entry,
 * and the non-null values in order, in the representation of the plan's
 * field (typed arrays for numbers and booleans).
 */
export interface LeafTarget {
  maxDefinition: number;
  maxRepetition: number;
  /** Definition levels, one per entry (empty when `maxDefinition` is 0). */
  def: Uint8Array;
  /** Repetition levels, one per entry (empty when `maxRepetition` is 0). */
  rep: Uint8Array;
  /** The non-null values, densely; replaced by a larger array when the pages hold more. */
  values: ColumnValues;
  /** Entries decoded so far. */
  entries: number;
  /** Values decoded so far. */
  count: number;
  /**
   * For a string leaf, when given: each value's `stringHash`, beside
   * `values`; grown with it.
   */
  hashes?: Int32Array | undefined;
}

/**
 * Decodes the `numValues` entries of one leaf column chunk (all its pages,
 * dictionary first) onto the end of `target`. Levels wider than 8 bits (a
 * nesting deeper than 255) and encodings this decoder does not read throw.
 */
export function decodeLeafChunk(
  bytes: Uint8Array,
  codec: CompressionCodec,
  plan: FastPlan,
  numValues: number,
  target: LeafTarget,
): void {
  const state: PageState = { plan, codec, dictionary: undefined, target };
  const pages = pageReader(bytes);
  const end = target.entries + numValues;
  while (target.entries < end) {
    const { header, body } = nextPage(
      pages,
      () => `The column chunk ends after ${target.entries} of ${end} values`,
    );
    let reason: string | undefined;
    switch (header.type) {
      case "DICTIONARY_PAGE":
        reason = dictionaryPage(state, header, body);
        break;
      case "DATA_PAGE":
        reason = leafPageV1(state, header, body, target, end);
        break;
      case "DATA_PAGE_V2":
        reason = leafPageV2(state, header, body, target, end);
        break;
      default:
        // Index pages and pages of types yet unknown carry no values.
        continue;
    }
    if (reason !== undefined) throw new RangeError(`Cannot decode ${reason}`);
  }
}

function checkEntries(target: LeafTarget, entries: number, end: number): void {
  if (!(entries >= 0 && target.entries + entries <= end)) {
    throw new RangeError(
      `A page of ${entries} values after value ${target.entries} exceeds the ${end} values of its column chunk`,
    );
  }
}

/**
 * Reads `count` levels of at most `max` into `out[at..]`, from a hybrid
 * section, a run at a time (an RLE run is one check and a fill). Returns
 * how many of them are `max`: for definition levels, the values present.
 */
function readLevelsInto(
  c: Cursor,
  max: number,
  count: number,
  out: Uint8Array,
  at: number,
): number {
  const scratch = levelScratch.length >= count
    ? levelScratch
    : (levelScratch = new Int32Array(Math.max(count, 2 * levelScratch.length)));
  const runs = new HybridReader(c, 32 - Math.clz32(max));
  let atMax = 0;
  let empty = 0;
  for (let done = 0; done < count;) {
    const n = runs.next(scratch, 0, count - done);
    if (n === 0) {
      // Some writers emit empty runs; a long series of them is a broken stream.
      if (++empty > 64) throw new RangeError("A hybrid-encoded section holds only empty runs");
      continue;
    }
    const from = at + done;
    if (runs.rle) {
      const level = runs.value;
      if (level > max || level < 0) {
        throw new RangeError(`A level of ${level} exceeds the maximum of ${max}`);
      }
      out.fill(level, from, from + n);
      if (level === max) atMax += n;
    } else {
      for (let i = 0; i < n; i++) {
        const level = scratch[i]!;
        if (level > max || level < 0) {
          throw new RangeError(`A level of ${level} exceeds the maximum of ${max}`);
        }
        out[from + i] = level;
        if (level === max) atMax++;
      }
    }
    done += n;
  }
  return atMax;
}

/**
 * A v1 page's length-prefixed hybrid level section, read into `out[at..]`:
 * how many levels are `max`, or why it cannot be read.
 */
function prefixedLevels(
  c: Cursor,
  encoding: string,
  what: string,
  max: number,
  count: number,
  out: Uint8Array,
  at: number,
): number | string {
  if (encoding !== "RLE") return `${encoding} ${what} levels`;
  const page = c.bytes;
  if (c.pos + 4 > c.end) throw new RangeError(`A data page ends inside its ${what} levels`);
  const p = c.pos;
  const length = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16) | (page[p + 3]! << 24)) >>>
    0;
  if (p + 4 + length > c.end) throw new RangeError(`${what} levels run past their page`);
  const section = { bytes: page, pos: p + 4, end: p + 4 + length };
  const atMax = readLevelsInto(section, max, count, out, at);
  c.pos = p + 4 + length;
  return atMax;
}

function leafPageV1(
  state: PageState,
  header: PageHeader,
  body: Uint8Array,
  target: LeafTarget,
  end: number,
): string | undefined {
  const h = header.data_page_header;
  if (!h) throw new RangeError("A data page has no data page header");
  const count = h.num_values;
  checkEntries(target, count, end);
  const page = decompress(state.codec, body, header.uncompressed_page_size);
  const c: Cursor = { bytes: page, pos: 0, end: page.length };
  if (target.maxRepetition) {
    const read = prefixedLevels(
      c,
      h.repetition_level_encoding,
      "repetition",
      target.maxRepetition,
      count,
      target.rep,
      target.entries,
    );
    if (typeof read === "string") return read;
  }
  let present = count;
  if (target.maxDefinition) {
    const read = prefixedLevels(
      c,
      h.definition_level_encoding,
      "definition",
      target.maxDefinition,
      count,
      target.def,
      target.entries,
    );
    if (typeof read === "string") return read;
    present = read;
  }
  return leafValues(state, h.encoding, c, count, present, target);
}

function leafPageV2(
  state: PageState,
  header: PageHeader,
  body: Uint8Array,
  target: LeafTarget,
  end: number,
): string | undefined {
  const h = header.data_page_header_v2;
  if (!h) throw new RangeError("A data page v2 has no data page header");
  const count = h.num_values;
  checkEntries(target, count, end);
  const repBytes = h.repetition_levels_byte_length;
  const defBytes = h.definition_levels_byte_length;
  if (!(repBytes >= 0 && defBytes >= 0 && repBytes + defBytes <= body.length)) {
    throw new RangeError(`Levels of ${repBytes + defBytes} bytes run past their page`);
  }
  if (target.maxRepetition) {
    const c = { bytes: body, pos: 0, end: repBytes };
    readLevelsInto(c, target.maxRepetition, count, target.rep, target.entries);
  }
  let present = count;
  if (target.maxDefinition) {
    const c = { bytes: body, pos: repBytes, end: repBytes + defBytes };
    present = readLevelsInto(c, target.maxDefinition, count, target.def, target.entries);
  }
  let values = body.subarray(repBytes + defBytes);
  const size = header.uncompressed_page_size - repBytes - defBytes;
  if (h.is_compressed !== false && size > 0) values = decompress(state.codec, values, size);
  return leafValues(
    state,
    h.encoding,
    { bytes: values, pos: 0, end: values.length },
    count,
    present,
    target,
  );
}

/** Decodes the `present` values of a page of `count` entries, whose levels are read. */
function leafValues(
  state: PageState,
  encoding: string,
  c: Cursor,
  count: number,
  present: number,
  target: LeafTarget,
): string | undefined {
  if (present) {
    reserve(state, target, target.count + present);
    const hashes = target.hashes;
    if (hashes && encoding === "PLAIN" && state.plan.physical === "BYTE_ARRAY") {
      // Hashed from the bytes as they are decoded.
      readPlain(state.plan, c, present, target.values, target.count, hashes);
    } else {
      const reason = decodeValues(state, encoding, c, present, target.values, target.count);
      if (reason !== undefined) return reason;
      if (hashes) {
        const values = target.values as unknown[];
        for (let i = target.count, e = target.count + present; i < e; i++) {
          hashes[i] = stringHash(values[i] as string);
        }
      }
    }
  }
  target.entries += count;
  target.count += present;
  return undefined;
}

/**
 * Makes room for `needed` dense values in `target.values`: a larger array of
 * the same kind, at least twice the size, holding the values so far.
 */
function reserve(state: PageState, target: LeafTarget, needed: number): void {
  const values = target.values;
  if (needed <= values.length) return;
  const grown = allocateDense(state.plan, values, Math.max(needed, 2 * values.length));
  if (Array.isArray(grown)) {
    const from = values as unknown[];
    for (let i = 0; i < target.count; i++) grown[i] = from[i];
  } else (grown as Uint8Array).set((values as Uint8Array).subarray(0, target.count));
  target.values = grown;
  if (target.hashes) {
    const hashes = new Int32Array(grown.length);
    hashes.set(target.hashes.subarray(0, target.count));
    target.hashes = hashes;
  }
}

/** Decompresses a page body to exactly `size` bytes. */
function decompress(codec: CompressionCodec, input: Uint8Array, size: number): Uint8Array {
  if (codec === "UNCOMPRESSED") {
    if (input.length !== size) {
      throw new RangeError(
        `An uncompressed page has ${input.length} bytes, its header says ${size}`,
      );
    }
    return input;
  }
  if (size === 0) return new Uint8Array(0);
  if (codec === "SNAPPY") {
    const literal = storedLiteral(input, size);
    if (literal) return literal;
  }
  const output = DECOMPRESSORS[codec]!(input, size);
  if (output.length !== size) {
    throw new RangeError(`A ${codec} page decompressed to ${output.length} bytes, not ${size}`);
  }
  return output;
}

/**
 * The bytes of a snappy stream that is a single literal of `size` bytes (as
 * our encoder stores incompressible pages), in place; otherwise undefined.
 */
function storedLiteral(input: Uint8Array, size: number): Uint8Array | undefined {
  let p = 0;
  let length = 0;
  for (let scale = 1; p < 5 && p < input.length; scale *= 128) {
    const b = input[p++]!;
    length += (b & 0x7f) * scale;
    if (b < 0x80) break;
  }
  if (length !== size || p >= input.length) return undefined;
  const tag = input[p++]!;
  if ((tag & 3) !== 0) return undefined;
  let n = tag >>> 2;
  if (n >= 60) {
    const extra = n - 59;
    n = 0;
    for (let b = 0; b < extra; b++) n += (input[p + b] ?? 0) * 2 ** (8 * b);
    p += extra;
  }
  n += 1;
  return n === size && p + n === input.length ? input.subarray(p, p + n) : undefined;
}
