/**
 * The one I/O seam of the Parquet reader: a `ByteSource` reads byte ranges
 * of a file, and the caller adapts its object store (or a local file, or
 * bytes in memory) to it. The reader never opens files or URLs itself.
 *
 * Invariant: `read(offset, length)` resolves exactly `length` bytes (the
 * reader never asks beyond `byteLength`).
 */

import type { AsyncBuffer } from "hyparquet";

/** Random access to the bytes of one file. */
export interface ByteSource {
  /** The file's size in bytes. */
  byteLength: number;
  /** Reads `length` bytes from `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The file's name or key, for error messages. */
  name?: string | undefined;
}

/** A source over bytes already in memory. */
export function bytesSource(bytes: Uint8Array, name?: string): ByteSource {
  return {
    byteLength: bytes.byteLength,
    name,
    read: (offset, length) => {
      if (offset < 0 || offset + length > bytes.byteLength) {
        return Promise.reject(
          new RangeError(
            `Cannot read bytes ${offset}..${offset + length} of ${
              name ?? "a buffer"
            }: it has ${bytes.byteLength} bytes`,
          ),
        );
      }
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** Adapts a source to hyparquet's `AsyncBuffer`. */
export function asyncBufferOf(source: ByteSource): AsyncBuffer {
  return {
    byteLength: source.byteLength,
    slice: async (start, end) => {
      const stop = end ?? source.byteLength;
      const bytes = await source.read(start, stop - start);
      if (bytes.byteLength !== stop - start) {
        throw new RangeError(
          `Cannot read bytes ${start}..${stop} of ${
            source.name ?? "a Parquet file"
          }: got ${bytes.byteLength} bytes`,
        );
      }
      // hyparquet wants an ArrayBuffer of exactly the range.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
        bytes.buffer instanceof ArrayBuffer;
      return whole ? bytes.buffer as ArrayBuffer : bytes.slice().buffer;
    },
  };
}
