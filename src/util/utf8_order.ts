/**
 * String order by UTF-8 bytes (equivalently, by code point), which is how S3
 * lists keys and how Parquet and Delta compare strings. JavaScript's `<`
 * compares UTF-16 code units and misorders supplementary characters against
 * U+E000..U+FFFF, so nothing that must match those orders may use it.
 */

/** Compares two strings in UTF-8 byte order: negative, zero or positive. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs === ys) return x - y;
      // A surrogate (part of a supplementary code point) sorts after any BMP character.
      return xs ? 1 : -1;
    }
  }
  return a.length - b.length;
}
