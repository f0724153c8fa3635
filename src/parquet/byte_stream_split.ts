/**
 * BYTE_STREAM_SPLIT for FLOAT and DOUBLE values: byte k of every value, then
 * byte k + 1 of every value, and so on. The bytes are the same as PLAIN's,
 * only regrouped, so a page of noisy samples compresses better: the sign,
 * exponent and high mantissa bytes of neighbouring samples repeat while the
 * low mantissa bytes stay random.
 *
 * Invariant: a page of `count` values of `width` bytes is exactly
 * `count * width` bytes, stream k at offset `k * count`; the values' own
 * bytes are little-endian, as typed arrays are on every platform we run on.
 */

import type { ByteBuffer } from "./byte_buffer.ts";

/** Writes values [start, start + count) of `values` split into byte streams. */
export function writeByteStreamSplit(
  out: ByteBuffer,
  values: Float32Array | Float64Array,
  start: number,
  count: number,
): void {
  const words = new Uint32Array(
    values.buffer,
    values.byteOffset + start * values.BYTES_PER_ELEMENT,
    count * (values.BYTES_PER_ELEMENT >> 2),
  );
  const width = values.BYTES_PER_ELEMENT;
  out.ensure(count * width);
  const b = out.bytes;
  const p = out.length;
  const n = count;
  if (width === 4) {
    for (let i = 0; i < n; i++) {
      const v = words[i]!;
      b[p + i] = v;
      b[p + n + i] = v >>> 8;
      b[p + 2 * n + i] = v >>> 16;
      b[p + 3 * n + i] = v >>> 24;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i]!;
      const hi = words[2 * i + 1]!;
      b[p + i] = lo;
      b[p + n + i] = lo >>> 8;
      b[p + 2 * n + i] = lo >>> 16;
      b[p + 3 * n + i] = lo >>> 24;
      b[p + 4 * n + i] = hi;
      b[p + 5 * n + i] = hi >>> 8;
      b[p + 6 * n + i] = hi >>> 16;
      b[p + 7 * n + i] = hi >>> 24;
    }
  }
  out.length = p + count * width;
}
