/**
 * A growable byte buffer that the page encoders write into. Hot loops read
 * `bytes` into a local after `ensure`, write by index and then set `length`,
 * so nothing is allocated per value.
 *
 * Invariant: `bytes.length >= length`; the bytes in [0, length) are the
 * content; `view` always views `bytes`.
 */

/** A reusable, growable output buffer. */
export class ByteBuffer {
  /** The backing store; replaced when it grows. */
  bytes: Uint8Array;
  /** A DataView over `bytes`. */
  view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(capacity = 1 << 16) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Empties the buffer, keeping its capacity. */
  reset(): void {
    this.length = 0;
  }

  /** The content, as a view (valid until the next write). */
  content(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** Appends one byte. */
  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  /** Appends a little-endian unsigned 32-bit integer. */
  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  /** Appends bytes. */
  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends an unsigned LEB128 varint of a non-negative safe integer. */
  varint(value: number): void {
    this.ensure(10);
    const bytes = this.bytes;
    let i = this.length;
    while (value >= 0x80) {
      bytes[i++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    bytes[i++] = value;
    this.length = i;
  }

  /** Appends a zigzag varint of a signed 64-bit integer. */
  zigzag(value: bigint): void {
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    this.ensure(10);
    const bytes = this.bytes;
    let i = this.length;
    while (v >= 0x80n) {
      bytes[i++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    bytes[i++] = Number(v);
    this.length = i;
  }

  /** Appends a zigzag varint of a signed integer held in a double. */
  zigzagNumber(value: number): void {
    if (value >= -0x40000000 && value < 0x40000000) {
      this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
    } else {
      this.zigzag(BigInt(value));
    }
  }
}
