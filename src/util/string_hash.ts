/**
 * A 32-bit hash of strings for tables of freshly decoded strings (replay's
 * table of file keys): V8 hashes a fresh string on its first use as a Map
 * key several times slower than this loop, and `asciiHashInto` gives the
 * same hash straight from a value's bytes while a Parquet page is decoded,
 * faster still than reading the string's code units.
 *
 * Invariant: for every ASCII string `s` with UTF-8 bytes `b`,
 * `asciiHashInto(b, 0, b.length, out, k)` is true and sets `out[k]` to
 * `stringHash(s)`.
 */

/**
 * A 32-bit hash of a string's UTF-16 code units, two to a step (a
 * multiply-xor in the manner of FNV-1a over 32-bit words), with the bits
 * spread at the end: the low ones pick a slot.
 *
 * @example
 * ```ts
 * const slot = stringHash("part-00000.parquet") & 1023;
 * ```
 */
export function stringHash(key: string): number {
  const n = key.length;
  let h = 0x811c9dc5 ^ n;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x01000193);
    h ^= h >>> 13;
  }
  if (i < n) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return finish(h);
}

/**
 * Sets `out[k]` to `stringHash` of the string that bytes [start, end) spell
 * and returns true, if every one of them is ASCII (one byte, one code unit);
 * returns false otherwise, leaving `out[k]` unspecified.
 *
 * @example
 * ```ts
 * const out = new Int32Array(1);
 * asciiHashInto(new TextEncoder().encode("a.parquet"), 0, 9, out, 0); // true
 * out[0] === stringHash("a.parquet"); // true
 * ```
 */
export function asciiHashInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Int32Array,
  k: number,
): boolean {
  let h = 0x811c9dc5 ^ (end - start);
  let high = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    high |= a | b;
    h = Math.imul(h ^ (a | (b << 16)), 0x01000193);
    h ^= h >>> 13;
  }
  if (i < end) {
    const a = bytes[i]!;
    high |= a;
    h = Math.imul(h ^ a, 0x01000193);
  }
  out[k] = finish(h);
  return high < 0x80;
}

function finish(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}
