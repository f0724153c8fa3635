/**
 * DELTA_BINARY_PACKED, both ways: encoding 64-bit integers (timestamps above
 * all) and decoding INT32 and INT64 pages (`readDeltaInt32`, `readDeltaInt64`,
 * 64-bit values as two 32-bit words), without a BigInt per value. Values come as the Int32Array view of a BigInt64Array
 * (little-endian low word, then high word) and are handled as exact doubles.
 *
 * Invariant: the fast path runs only when every value and every adjusted
 * delta of the page fits in 53 bits (|value| < 2^53 and max - min < 2^52);
 * other pages go through hyparquet-writer's BigInt encoder, which wraps
 * deltas modulo 2^64 as the format requires. Blocks hold 128 values in 4
 * miniblocks of 32.
 */

import { ByteWriter } from "hyparquet-writer";
import { deltaBinaryPack } from "./_hyparquet.ts";
import type { ByteBuffer } from "./byte_buffer.ts";
import { unpackBits } from "./rle.ts";
import { type Cursor, readVarint, readZigzag64, word } from "./varint.ts";

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = 32;
const TWO32 = 4294967296;

/** Scratch space reused between pages of one encoder. */
export class DeltaScratch {
  doubles = new Float64Array(0);
  readonly deltas = new Float64Array(BLOCK);
  readonly widths = new Uint8Array(MINIBLOCKS);

  /** Returns a Float64Array of at least `n` elements. */
  take(n: number): Float64Array {
    if (this.doubles.length < n) this.doubles = new Float64Array(Math.max(n, 1024));
    return this.doubles;
  }
}

/**
 * Encodes `count` int64 values starting at value index `start` of `words`
 * (two Int32 words per value) as one DELTA_BINARY_PACKED stream.
 */
export function writeDeltaInt64(
  out: ByteBuffer,
  words: Int32Array,
  start: number,
  count: number,
  scratch: DeltaScratch,
): void {
  const doubles = scratch.take(count);
  let min = Infinity;
  let max = -Infinity;
  let safe = true;
  for (let k = 0, w = start * 2; k < count; k++, w += 2) {
    const hi = words[w + 1]!;
    if (hi < -0x200000 || hi >= 0x200000) {
      safe = false;
      break;
    }
    const v = hi * TWO32 + (words[w]! >>> 0);
    doubles[k] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!safe || (count > 0 && max - min >= 2 ** 52)) {
    writeDeltaBigInt(out, words, start, count);
    return;
  }
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(count);
  out.zigzagNumber(count > 0 ? doubles[0]! : 0);
  const deltas = scratch.deltas;
  const widths = scratch.widths;
  for (let index = 1; index < count; index += BLOCK) {
    const size = Math.min(BLOCK, count - index);
    let minDelta = Infinity;
    for (let i = 0; i < size; i++) {
      const d = doubles[index + i]! - doubles[index + i - 1]!;
      deltas[i] = d;
      if (d < minDelta) minDelta = d;
    }
    out.zigzagNumber(minDelta);
    for (let m = 0; m < MINIBLOCKS; m++) {
      let top = 0;
      const end = Math.min(size, (m + 1) * MINI);
      for (let i = m * MINI; i < end; i++) {
        const a = deltas[i]! - minDelta;
        if (a > top) top = a;
      }
      widths[m] = bitWidthOf(top);
    }
    out.append(widths);
    for (let m = 0; m < MINIBLOCKS; m++) {
      const width = widths[m]!;
      if (width === 0) continue;
      const first = m * MINI;
      packMiniblock(out, deltas, first, Math.max(0, Math.min(MINI, size - first)), minDelta, width);
    }
  }
}

/** Bits needed for a non-negative integer below 2^53. */
function bitWidthOf(value: number): number {
  if (value < TWO32) return 32 - Math.clz32(value);
  return 64 - Math.clz32(Math.floor(value / TWO32));
}

function packMiniblock(
  out: ByteBuffer,
  deltas: Float64Array,
  first: number,
  used: number,
  minDelta: number,
  width: number,
): void {
  out.ensure(width * 4);
  const bytes = out.bytes;
  let p = out.length;
  let acc = 0;
  let bits = 0;
  if (width <= 24) {
    for (let k = 0; k < MINI; k++) {
      const a = k < used ? deltas[first + k]! - minDelta : 0;
      acc |= a << bits;
      bits += width;
      while (bits >= 8) {
        bytes[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  } else {
    // Wider values go in 16-bit pieces so the accumulator stays in 32 bits.
    for (let k = 0; k < MINI; k++) {
      let a = k < used ? deltas[first + k]! - minDelta : 0;
      let left = width;
      while (left > 0) {
        const take = left > 16 ? 16 : left;
        const piece = take === 16 ? a % 65536 : a;
        a = take === 16 ? (a - piece) / 65536 : 0;
        acc |= piece << bits;
        bits += take;
        while (bits >= 8) {
          bytes[p++] = acc & 0xff;
          acc >>>= 8;
          bits -= 8;
        }
        left -= take;
      }
    }
  }
  out.length = p;
}

function writeDeltaBigInt(out: ByteBuffer, words: Int32Array, start: number, count: number): void {
  const values = new BigInt64Array(words.buffer, words.byteOffset + start * 8, count);
  const writer = new ByteWriter(count * 9 + 64);
  deltaBinaryPack(writer, values, "INT64");
  out.append(writer.getBytes());
}

// Reading.

function truncated(what: string): RangeError {
  return new RangeError(`${what} runs past the end of its page section`);
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
