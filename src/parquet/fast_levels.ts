/**
 * Reading the integer encodings of Parquet pages into typed arrays, for the
 * fast decode path (varints come from `varint.ts`): the RLE / bit-packing hybrid (definition levels,
 * dictionary indexes, RLE booleans), bit-packed booleans, and
 * DELTA_BINARY_PACKED for INT32 and INT64.
 *
 * Invariants: nothing is allocated per value; every read is bounds-checked
 * against the end of its section, and a section that ends too early throws a
 * `RangeError` (the caller adds the file and column); 64-bit arithmetic wraps
 * modulo 2^64 exactly as the format requires.
 */

import { type Cursor, readVarint, readZigzag64, word } from "./varint.ts";

export type { Cursor };

const TWO32 = 4294967296;

function truncated(what: string): RangeError {
  return new RangeError(`${what} runs past the end of its page section`);
}

/** Packed bytes copied to 32-bit alignment, reused (decoding is synchronous). */
let packedWords = new Int32Array(1024);
let packedBytes = new Uint8Array(packedWords.buffer);
/** The most values unpacked in one piece: 32-bit values then span less than 2^32 bits. */
const MAX_UNPACK = 1 << 26;

/**
 * Unpacks `count` little-endian values of `width` bits (0..32) from
 * `bytes[pos..]` into `out[at..]` as 32-bit patterns. The caller has checked
 * that the bytes are there.
 */
export function unpackBits(
  bytes: Uint8Array,
  pos: number,
  out: Int32Array,
  at: number,
  count: number,
  width: number,
): void {
  if (width === 0) {
    out.fill(0, at, at + count);
    return;
  }
  if (count > MAX_UNPACK) {
    // Keeps bit offsets below 2^32; each piece starts on a byte (8 values).
    for (let done = 0; done < count; done += MAX_UNPACK) {
      const n = Math.min(MAX_UNPACK, count - done);
      unpackBits(bytes, pos + (done * width) / 8, out, at + done, n, width);
    }
    return;
  }
  // Reading aligned words is about three times faster than byte by byte.
  const size = Math.ceil((count * width) / 8);
  const needed = (size >> 2) + 2;
  if (packedWords.length < needed) {
    packedWords = new Int32Array(Math.max(needed, 2 * packedWords.length));
    packedBytes = new Uint8Array(packedWords.buffer);
  }
  const words = packedWords;
  if (size < 128) {
    // Short runs (miniblocks): a loop is cheaper than two view objects.
    for (let b = 0; b < size; b++) packedBytes[b] = bytes[pos + b]!;
  } else packedBytes.set(bytes.subarray(pos, pos + size));
  const mask = width === 32 ? -1 : (1 << width) - 1;
  let bit = 0;
  for (let i = at, end = at + count; i < end; i++) {
    const k = bit >>> 5;
    const shift = bit & 31;
    let v = words[k]! >>> shift;
    // Bits past the packed bytes (stale scratch) only ever land above the mask.
    if (shift + width > 32) v |= words[k + 1]! << (32 - shift);
    out[i] = v & mask;
    bit += width;
  }
}

/** Unpacks bit-packed booleans (least significant bit first) into 0/1 bytes. */
export function unpackBooleans(
  bytes: Uint8Array,
  pos: number,
  out: Uint8Array,
  at: number,
  count: number,
): void {
  let i = at;
  const end = at + count;
  for (; i + 8 <= end; i += 8) {
    const b = bytes[pos++]!;
    out[i] = b & 1;
    out[i + 1] = (b >>> 1) & 1;
    out[i + 2] = (b >>> 2) & 1;
    out[i + 3] = (b >>> 3) & 1;
    out[i + 4] = (b >>> 4) & 1;
    out[i + 5] = (b >>> 5) & 1;
    out[i + 6] = (b >>> 6) & 1;
    out[i + 7] = b >>> 7;
  }
  if (i < end) {
    const b = bytes[pos]!;
    for (let k = 0; i < end; i++, k++) out[i] = (b >>> k) & 1;
  }
}

/**
 * A reader of the RLE / bit-packing hybrid, run by run, so that callers can
 * fill a repeated run at once instead of value by value.
 */
export class HybridReader {
  /** The value of the current RLE run (after `next` returned one). */
  value = 0;
  /** True when the run `next` returned is an RLE run. */
  rle = false;
  #c: Cursor;
  #width: number;
  #valueBytes: number;

  constructor(c: Cursor, width: number) {
    if (width > 32) throw new RangeError(`A bit width of ${width} exceeds 32`);
    this.#c = c;
    this.#width = width;
    this.#valueBytes = (width + 7) >> 3;
  }

  /**
   * Reads the next run, of at most `max` values. An RLE run sets `value`; a
   * bit-packed run is unpacked into `out[at..]`. Returns the values taken.
   */
  next(out: Int32Array, at: number, max: number): number {
    const c = this.#c;
    const header = readVarint(c);
    if ((header & 1) === 0) {
      const count = Math.floor(header / 2);
      if (c.pos + this.#valueBytes > c.end) throw truncated("An RLE run");
      let v = 0;
      for (let b = 0; b < this.#valueBytes; b++) v |= c.bytes[c.pos++]! << (8 * b);
      this.rle = true;
      this.value = v;
      if (count === 0) return 0;
      return Math.min(count, max);
    }
    const groups = Math.floor(header / 2);
    const bytes = groups * this.#width;
    const count = Math.min(groups * 8, max);
    if (c.pos + Math.ceil((count * this.#width) / 8) > c.end) throw truncated("A bit-packed run");
    unpackBits(c.bytes, c.pos, out, at, count, this.#width);
    // A run may be cut short by the section end (the padding of the last group).
    c.pos = Math.min(c.pos + bytes, c.end);
    this.rle = false;
    return count;
  }

  /** Reads `count` values into `out[at..]`. */
  readAll(out: Int32Array, at: number, count: number): void {
    let done = 0;
    let empty = 0;
    while (done < count) {
      const n = this.next(out, at + done, count - done);
      if (n === 0) {
        // Some writers emit empty runs; a long series of them is a broken stream.
        if (++empty > 64) throw new RangeError("A hybrid-encoded section holds only empty runs");
        continue;
      }
      if (this.rle) out.fill(this.value, at + done, at + done + n);
      done += n;
    }
  }
}

/** Unpacked deltas of one miniblock, reused (decoding is synchronous). */
let lows = new Int32Array(256);
let highs = new Int32Array(256);

/** Block layout of a DELTA_BINARY_PACKED stream. */
interface DeltaHeader {
  miniblocks: number;
  perMiniblock: number;
}

function deltaHeader(c: Cursor): DeltaHeader {
  const blockSize = readVarint(c);
  const miniblocks = readVarint(c);
  readVarint(c); // the total count; the page header says how many values to take
  const perMiniblock = blockSize / miniblocks;
  if (!miniblocks || !Number.isInteger(perMiniblock) || perMiniblock % 8 !== 0) {
    throw new RangeError(
      `A DELTA_BINARY_PACKED block of ${blockSize} values cannot hold ${miniblocks} miniblocks`,
    );
  }
  if (lows.length < perMiniblock) {
    lows = new Int32Array(perMiniblock);
    highs = new Int32Array(perMiniblock);
  }
  return { miniblocks, perMiniblock };
}

/** Reads the bit widths of a block and checks them. */
function blockWidths(c: Cursor, miniblocks: number, max: number): number {
  if (c.pos + miniblocks > c.end) throw truncated("A DELTA_BINARY_PACKED block");
  for (let m = 0; m < miniblocks; m++) {
    const w = c.bytes[c.pos + m]!;
    if (w > max) throw new RangeError(`A DELTA_BINARY_PACKED bit width of ${w} exceeds ${max}`);
  }
  const at = c.pos;
  c.pos += miniblocks;
  return at;
}

/** Decodes `count` INT32 values of a DELTA_BINARY_PACKED stream into `out[at..]`. */
export function readDeltaInt32(c: Cursor, count: number, out: Int32Array, at: number): void {
  const { miniblocks, perMiniblock } = deltaHeader(c);
  const scratch = lows;
  readZigzag64(c);
  if (count === 0) return;
  let value = word.lo;
  out[at] = value;
  let i = 1;
  while (i < count) {
    readZigzag64(c);
    const minDelta = word.lo;
    const widths = blockWidths(c, miniblocks, 64);
    for (let m = 0; m < miniblocks && i < count; m++) {
      const width = c.bytes[widths + m]!;
      const n = Math.min(perMiniblock, count - i);
      if (c.pos + Math.ceil((n * width) / 8) > c.end) throw truncated("A miniblock");
      if (width === 0) {
        for (let k = 0; k < n; k++) {
          value = (value + minDelta) | 0;
          out[at + i + k] = value;
        }
      } else {
        if (width <= 32) unpackBits(c.bytes, c.pos, scratch, 0, n, width);
        else unpackWide(c.bytes, c.pos, scratch, undefined, n, width);
        for (let k = 0; k < n; k++) {
          value = (value + minDelta + scratch[k]!) | 0;
          out[at + i + k] = value;
        }
      }
      i += n;
      c.pos += (perMiniblock * width) >> 3;
    }
  }
}

/**
 * Decodes `count` INT64 values of a DELTA_BINARY_PACKED stream into
 * `words[2 * at..]` (low word, then high word).
 */
export function readDeltaInt64(c: Cursor, count: number, words: Int32Array, at: number): void {
  const { miniblocks, perMiniblock } = deltaHeader(c);
  readZigzag64(c);
  if (count === 0) return;
  let lo = word.lo >>> 0;
  let hi = word.hi;
  let w = 2 * at;
  words[w++] = lo;
  words[w++] = hi;
  let i = 1;
  while (i < count) {
    readZigzag64(c);
    const minLo = word.lo >>> 0;
    const minHi = word.hi;
    const widths = blockWidths(c, miniblocks, 64);
    for (let m = 0; m < miniblocks && i < count; m++) {
      const width = c.bytes[widths + m]!;
      const n = Math.min(perMiniblock, count - i);
      if (c.pos + Math.ceil((n * width) / 8) > c.end) throw truncated("A miniblock");
      if (width === 0 && minLo === 0 && minHi === 0) {
        // A run of equal values, as timestamps shared by a tick's channels are.
        for (let k = 0; k < n; k++) {
          words[w++] = lo;
          words[w++] = hi;
        }
      } else if (width <= 32) {
        unpackBits(c.bytes, c.pos, lows, 0, n, width);
        for (let k = 0; k < n; k++) {
          // Below 3 * 2^32, so exact; the carry goes to the high word.
          const sum = lo + minLo + (lows[k]! >>> 0);
          const carry = sum >= TWO32 ? (sum >= 2 * TWO32 ? 2 : 1) : 0;
          lo = sum - carry * TWO32;
          hi = (hi + minHi + carry) | 0;
          words[w++] = lo;
          words[w++] = hi;
        }
      } else {
        unpackWide(c.bytes, c.pos, lows, highs, n, width);
        for (let k = 0; k < n; k++) {
          const sum = lo + minLo + (lows[k]! >>> 0);
          const carry = sum >= TWO32 ? (sum >= 2 * TWO32 ? 2 : 1) : 0;
          lo = sum - carry * TWO32;
          hi = (hi + minHi + highs[k]! + carry) | 0;
          words[w++] = lo;
          words[w++] = hi;
        }
      }
      i += n;
      c.pos += (perMiniblock * width) >> 3;
    }
  }
}

/** Unpacks values 33..64 bits wide: low words into `lows`, high words into `highs`. */
function unpackWide(
  bytes: Uint8Array,
  pos: number,
  lows: Int32Array,
  highs: Int32Array | undefined,
  count: number,
  width: number,
): void {
  let bit = 0;
  for (let k = 0; k < count; k++) {
    lows[k] = bitsAt(bytes, pos, bit, 16) | (bitsAt(bytes, pos, bit + 16, 16) << 16);
    const high = width - 32;
    const h = high > 16
      ? bitsAt(bytes, pos, bit + 32, 16) | (bitsAt(bytes, pos, bit + 48, high - 16) << 16)
      : bitsAt(bytes, pos, bit + 32, high);
    if (highs) highs[k] = h;
    bit += width;
  }
}

/** `n` (at most 16) bits starting `bit` bits after `bytes[pos]`. */
function bitsAt(bytes: Uint8Array, pos: number, bit: number, n: number): number {
  const p = pos + (bit >>> 3);
  // Bytes past the end read as 0: they can only be padding of the last value.
  const v = (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8) | ((bytes[p + 2] ?? 0) << 16);
  return (v >>> (bit & 7)) & ((1 << n) - 1);
}
