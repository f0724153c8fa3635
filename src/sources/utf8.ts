/**
 * Streaming UTF-8 validation with line counting, for sources that hand bytes
 * to a parser that would otherwise replace bad bytes with U+FFFD silently.
 *
 * Invariant: accepts exactly the well-formed UTF-8 of the Unicode standard
 * (no overlong forms, no surrogates, nothing above U+10FFFF), including
 * sequences split across chunks, and knows the 1-based line of every byte it
 * has passed (lines end at `\n`).
 */

/** Checks chunks of a byte stream for well-formed UTF-8. */
export class Utf8Validator {
  /** The 1-based line of the next byte, or of the bad byte after a failure. */
  line = 1;
  #need = 0;
  #low = 0x80;
  #high = 0xbf;

  /**
   * Checks the next chunk. Returns -1 if it is well formed so far, else the
   * offset in `bytes` of the first byte that breaks the encoding.
   */
  check(bytes: Uint8Array): number {
    let need = this.#need;
    let low = this.#low;
    let high = this.#high;
    let line = this.line;
    const n = bytes.length;
    let bad = -1;
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      if (need === 0) {
        if (b < 0x80) {
          if (b === 10) line++;
          continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
          need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) low = 0xa0; // no overlong forms
          if (b === 0xed) high = 0x9f; // no surrogates
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) low = 0x90; // no overlong forms
          if (b === 0xf4) high = 0x8f; // nothing past U+10FFFF
        } else {
          bad = i;
          break;
        }
      } else {
        if (b < low || b > high) {
          bad = i;
          break;
        }
        low = 0x80;
        high = 0xbf;
        need--;
      }
    }
    this.#need = need;
    this.#low = low;
    this.#high = high;
    this.line = line;
    return bad;
  }

  /** True if the stream did not end inside a multi-byte sequence. */
  complete(): boolean {
    return this.#need === 0;
  }
}
