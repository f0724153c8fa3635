/**
 * PLAIN encoding of values into a `ByteBuffer`: fixed-width typed arrays are
 * copied byte for byte (the platform is little-endian, as Parquet is), and
 * byte arrays are written as a 4-byte length and the bytes. Strings are
 * UTF-8 encoded in place, with a loop for short ASCII strings and
 * `TextEncoder.encodeInto` for the rest, so no per-value array is made.
 */

import type { ByteBuffer } from "./byte_buffer.ts";

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
