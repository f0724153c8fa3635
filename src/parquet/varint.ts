/**
 * Varints, the one reader of them: ULEB128 (Thrift's compact protocol, RLE
 * run headers, DELTA_BINARY_PACKED headers) and zigzag, over a bounded
 * cursor. Used by the footer's Thrift reader and the page decoders alike.
 *
 * Invariants: a read never passes `end` (it throws a `RangeError` that says
 * the varint ends early); a varint is at most 10 bytes; unsigned values are
 * exact below 2^53, and 64-bit zigzag values exact as two words or a bigint.
 */

/** A position in bytes; `end` is where the current section stops. */
export interface Cursor {
  bytes: Uint8Array;
  pos: number;
  end: number;
}

function endsEarly(): RangeError {
  return new RangeError("A varint ends early: it runs past the end of its section");
}

function tooLong(): RangeError {
  return new RangeError("A varint is longer than 10 bytes");
}

/** Reads an unsigned varint (exact below 2^53). */
export function readVarint(c: Cursor): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (c.pos >= c.end) throw endsEarly();
    const b = c.bytes[c.pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
    if (scale > 2 ** 63) throw tooLong();
  }
}

/** Reads a zigzag varint as a number (exact within ±2^52). */
export function readZigzag(c: Cursor): number {
  const n = readVarint(c);
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Reads a zigzag varint of up to 64 bits as a bigint, exactly. */
export function readZigzagBigInt(c: Cursor): bigint {
  // Up to 2^53 the number path is exact; beyond it, decode bit by bit.
  const start = c.pos;
  const n = readVarint(c);
  if (n <= Number.MAX_SAFE_INTEGER) return BigInt(n % 2 === 0 ? n / 2 : -(n + 1) / 2);
  c.pos = start;
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (c.pos >= c.end) throw endsEarly();
    const b = c.bytes[c.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7n;
  }
  return (result >> 1n) ^ -(result & 1n);
}

/** The low and high words of the last `readZigzag64`. */
export const word = { lo: 0, hi: 0 };

/**
 * Reads a zigzag varint of up to 64 bits into `word` (two's complement
 * words), never through BigInt: the page decoders' hot path.
 */
export function readZigzag64(c: Cursor): void {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (;;) {
    if (c.pos >= c.end) throw endsEarly();
    const b = c.bytes[c.pos++]!;
    const v = b & 0x7f;
    if (shift < 28) lo |= v << shift;
    else if (shift === 28) {
      lo |= v << 28;
      hi |= v >>> 4;
    } else if (shift < 64) hi |= v << (shift - 32);
    if (b < 0x80) break;
    shift += 7;
    if (shift > 63) throw tooLong();
  }
  // (n >>> 1) ^ -(n & 1) on the 64-bit value.
  const flip = -(lo & 1);
  word.lo = ((lo >>> 1) | (hi << 31)) ^ flip;
  word.hi = (hi >>> 1) ^ flip;
}
