/**
 * DELTA_BINARY_PACKED for 64-bit integers (timestamps above all), without a
 * BigInt per value. Values come as the Int32Array view of a BigInt64Array
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
