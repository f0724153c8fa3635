/**
 * The RLE / bit-packing hybrid encoding of Parquet, used for definition
 * levels, dictionary indexes and RLE booleans, both ways: `writeRleHybrid`
 * writes straight into a `ByteBuffer` from typed arrays, `HybridReader`
 * reads into typed arrays (with `unpackBits` and `unpackBooleans`), with no
 * allocation per value. Reads are bounds-checked against their section and
 * throw a `RangeError` when it ends too early.
 *
 * Invariants: runs of 8 or more equal values become RLE runs; everything else
 * is bit-packed in groups of 8 (the last group padded with zeros, which
 * readers ignore because they know the value count). Bit widths up to 24.
 */

import type { ByteBuffer } from "./byte_buffer.ts";
import { type Cursor, readVarint } from "./varint.ts";

type Levels = Uint8Array | Int32Array | Uint32Array;

/**
 * Encodes `values[start..end)` (each XOR `flip`, so a null mask with flip 1
 * gives definition levels) and returns the number of bytes written.
 */
export function writeRleHybrid(
  out: ByteBuffer,
  values: Levels,
  start: number,
  end: number,
  bitWidth: number,
  flip = 0,
): number {
  const before = out.length;
  const valueBytes = (bitWidth + 7) >> 3;
  let i = start;
  let groupStart = start;
  let groups = 0;
  while (i < end) {
    const v = values[i]!;
    let j = i + 1;
    while (j < end && values[j] === v) j++;
    if (j - i >= 8) {
      if (groups) {
        writeBitPacked(out, values, groupStart, groups, end, bitWidth, flip);
        groups = 0;
      }
      writeRun(out, v ^ flip, j - i, valueBytes);
      i = j;
    } else {
      if (!groups) groupStart = i;
      groups++;
      i += 8;
    }
  }
  if (groups) writeBitPacked(out, values, groupStart, groups, end, bitWidth, flip);
  return out.length - before;
}

/** Writes one RLE run of `count` copies of `value`. */
export function writeRun(out: ByteBuffer, value: number, count: number, valueBytes: number): void {
  out.varint(count * 2);
  out.ensure(valueBytes);
  const bytes = out.bytes;
  let p = out.length;
  for (let b = 0; b < valueBytes; b++) bytes[p++] = (value >>> (8 * b)) & 0xff;
  out.length = p;
}

function writeBitPacked(
  out: ByteBuffer,
  values: Levels,
  start: number,
  groups: number,
  end: number,
  bitWidth: number,
  flip: number,
): void {
  out.varint(groups * 2 + 1);
  if (bitWidth === 0) return;
  out.ensure(groups * bitWidth);
  const bytes = out.bytes;
  let p = out.length;
  const stop = start + groups * 8;
  const full = Math.min(stop, end);
  let acc = 0;
  let bits = 0;
  let i = start;
  if (bitWidth === 1) {
    for (; i + 8 <= full; i += 8) {
      bytes[p++] = (values[i]! ^ flip) | ((values[i + 1]! ^ flip) << 1) |
        ((values[i + 2]! ^ flip) << 2) | ((values[i + 3]! ^ flip) << 3) |
        ((values[i + 4]! ^ flip) << 4) | ((values[i + 5]! ^ flip) << 5) |
        ((values[i + 6]! ^ flip) << 6) | ((values[i + 7]! ^ flip) << 7);
    }
  }
  for (; i < stop; i++) {
    const v = i < full ? values[i]! ^ flip : 0;
    acc |= v << bits;
    bits += bitWidth;
    while (bits >= 8) {
      bytes[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.length = p;
}

/**
 * Writes definition levels (1 = present, 0 = null) for rows [start, end) of a
 * null mask, as a V1 page wants them: a 4-byte length, then the hybrid runs.
 */
export function writeDefinitionLevels(
  out: ByteBuffer,
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
  nullCount: number,
): void {
  const lengthAt = out.length;
  out.u32(0);
  let written: number;
  if (!nulls || nullCount === 0 || nullCount === end - start) {
    const before = out.length;
    if (end > start) writeRun(out, nullCount === 0 ? 1 : 0, end - start, 1);
    written = out.length - before;
  } else {
    written = writeRleHybrid(out, nulls, start, end, 1, 1);
  }
  out.view.setUint32(lengthAt, written, true);
}

/** Writes booleans (0/1 bytes) PLAIN: bit-packed, least significant bit first. */
export function writePlainBooleans(
  out: ByteBuffer,
  values: Uint8Array,
  start: number,
  count: number,
): void {
  const size = (count + 7) >> 3;
  out.ensure(size);
  const bytes = out.bytes;
  let p = out.length;
  const end = start + count;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    bytes[p++] = (values[i]! & 1) | ((values[i + 1]! & 1) << 1) | ((values[i + 2]! & 1) << 2) |
      ((values[i + 3]! & 1) << 3) | ((values[i + 4]! & 1) << 4) | ((values[i + 5]! & 1) << 5) |
      ((values[i + 6]! & 1) << 6) | ((values[i + 7]! & 1) << 7);
  }
  if (i < end) {
    let b = 0;
    for (let k = 0; i < end; i++, k++) b |= (values[i]! & 1) << k;
    bytes[p++] = b;
  }
  out.length = p;
}

// Reading.

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
