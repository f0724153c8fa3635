/**
 * The RLE / bit-packing hybrid encoding of Parquet, used for definition
 * levels and dictionary indexes. Writes straight into a `ByteBuffer` from
 * typed arrays, with no allocation per value.
 *
 * Invariants: runs of 8 or more equal values become RLE runs; everything else
 * is bit-packed in groups of 8 (the last group padded with zeros, which
 * readers ignore because they know the value count). Bit widths up to 24.
 */

import type { ByteBuffer } from "./byte_buffer.ts";

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
