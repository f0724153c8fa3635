/**
 * ZSTD for Parquet pages through native contexts reused for the life of the
 * isolate: one compressor per level and one decompressor.
 *
 * `node:zlib`'s `zstdCompressSync` and `zstdDecompressSync` build a Transform
 * stream and a native ZSTD context for every call, drain the output 16 KiB at
 * a time and concatenate the pieces: a fixed 50-100 µs per page whatever its
 * size. Here a `ZstdCompress` (or `ZstdDecompress`) stream is built once and
 * driven through the native handle it wraps, as node:zlib's own synchronous
 * path does, with `ZSTD_e_end` into an output buffer large enough for the
 * whole frame, then reset for the next call. Frames that fit node:zlib's 16
 * KiB output chunks are byte for byte those of `zstdCompressSync` at the same
 * level; larger ones, which ZSTD no longer has to flush piecewise, can come
 * out a few bytes smaller (9 bytes on a 18.6 KB page of float samples).
 *
 * Invariants: a context is used only within one synchronous call, so no two
 * users overlap; it is reset before every use, so a failed call (corrupt
 * input) leaves it usable. Should a Deno release not expose the handle, the
 * one-shot functions are used instead, with the same results.
 */

import {
  constants as zlibConstants,
  createZstdCompress,
  createZstdDecompress,
  zstdCompressSync,
  zstdDecompressSync,
} from "node:zlib";

/** The native handle inside a node:zlib stream (Node's internal zlib binding). */
interface NativeZstd {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

/** A node:zlib stream as far as its handle goes. */
interface StreamInternals {
  _handle?: NativeZstd;
  /** [output bytes left, input bytes left] after each `writeSync`. */
  _writeState?: Uint32Array;
}

/** A native context and the state array its `writeSync` reports into. */
class Context {
  readonly #handle: NativeZstd;
  readonly #state: Uint32Array;
  #error: Error | undefined;

  constructor(handle: NativeZstd, state: Uint32Array) {
    this.#handle = handle;
    this.#state = state;
    // node:zlib's own handler destroys the stream, which would close the handle.
    handle.onerror = (message, errno, code) => {
      this.#error = new Error(message, { cause: { errno, code } });
    };
  }

  /** Starts a new frame, forgetting any earlier failed one. */
  reset(): void {
    this.#error = undefined;
    this.#handle.reset();
  }

  /**
   * One `writeSync` of input[inputOffset..] into output[outputOffset..];
   * returns [output bytes left, input bytes left], or throws what ZSTD reported.
   */
  write(
    input: Uint8Array,
    inputOffset: number,
    output: Uint8Array,
    outputOffset: number,
  ): [number, number] {
    this.#handle.writeSync(
      zlibConstants.ZSTD_e_end,
      input,
      inputOffset,
      input.length - inputOffset,
      output,
      outputOffset,
      output.length - outputOffset,
    );
    if (this.#error) {
      const error = this.#error;
      this.reset();
      throw error;
    }
    return [this.#state[0]!, this.#state[1]!];
  }
}

/** The context of a fresh node:zlib stream, or undefined if its internals are not there. */
function contextOf(stream: unknown): Context | undefined {
  const { _handle: handle, _writeState: state } = stream as StreamInternals;
  if (
    typeof handle?.writeSync !== "function" || typeof handle.reset !== "function" ||
    !(state instanceof Uint32Array) || state.length < 2
  ) return undefined;
  return new Context(handle, state);
}

/** The most bytes a ZSTD frame of `n` input bytes takes (ZSTD_COMPRESSBOUND). */
export function zstdBound(n: number): number {
  const small = 128 << 10;
  return n + (n >>> 8) + (n < small ? (small - n) >>> 11 : 0) + 64;
}

/**
 * Compresses buffers into ZSTD frames at one level, reusing one context.
 * The result is a view of a buffer the compressor reuses: valid until its
 * next call, so copy it out (as a page writer does) before compressing again.
 */
export class ZstdCompressor {
  readonly level: number;
  readonly #context: Context | undefined;
  #output = new Uint8Array(0);

  /** True if calls reuse the native context (false: the one-shot fallback). */
  get reuses(): boolean {
    return this.#context !== undefined;
  }

  constructor(level: number) {
    if (!Number.isInteger(level)) {
      throw new RangeError(`ZSTD level must be an integer, got ${level}`);
    }
    this.level = level;
    const params = { [zlibConstants.ZSTD_c_compressionLevel]: level };
    this.#context = contextOf(createZstdCompress({ params }));
  }

  /** `input` as one ZSTD frame; see the class for how long the result stays valid. */
  compress(input: Uint8Array): Uint8Array {
    const context = this.#context;
    if (!context) {
      return zstdCompressSync(input, {
        params: { [zlibConstants.ZSTD_c_compressionLevel]: this.level },
      });
    }
    const bound = zstdBound(input.length);
    if (this.#output.length < bound) this.#output = new Uint8Array(bound);
    context.reset();
    let written = 0;
    let read = 0;
    for (;;) {
      const [outLeft, inLeft] = context.write(input, read, this.#output, written);
      written = this.#output.length - outLeft;
      read = input.length - inLeft;
      // A frame ends when ZSTD leaves output room after consuming all input.
      if (outLeft > 0) break;
      const grown = new Uint8Array(this.#output.length * 2);
      grown.set(this.#output);
      this.#output = grown;
    }
    return this.#output.subarray(0, written);
  }
}

/** Decompresses ZSTD frames of a known size, reusing one context. */
export class ZstdDecompressor {
  readonly #context: Context | undefined = contextOf(createZstdDecompress());
  /** True if calls reuse the native context (false: the one-shot fallback). */
  get reuses(): boolean {
    return this.#context !== undefined;
  }

  /** Where bytes beyond the expected size land, to detect them. */
  readonly #spill = new Uint8Array(64);

  /**
   * The `size` bytes that `input` (one or more whole frames) holds, in a new
   * buffer. Throws if the frames are corrupt or hold more or fewer bytes.
   */
  decompress(input: Uint8Array, size: number): Uint8Array {
    const context = this.#context;
    if (!context) return checked(zstdDecompressSync(input), size);
    const output = new Uint8Array(size);
    const spill = this.#spill;
    context.reset();
    let read = 0;
    let written = 0;
    // ZSTD stops at the end of each frame, and may stop with the output full
    // before reading a frame's last bytes (its checksum): read on until the
    // input is used up, into a spill buffer once the output is full.
    while (read < input.length) {
      const full = written === size;
      const [outLeft, inLeft] = full
        ? context.write(input, read, spill, 0)
        : context.write(input, read, output, written);
      if (full && outLeft < spill.length) {
        throw new RangeError(`A ZSTD page holds more than the ${size} bytes its header says`);
      }
      const nowRead = input.length - inLeft;
      const nowWritten = full ? written : size - outLeft;
      if (nowRead === read && nowWritten === written) break;
      read = nowRead;
      written = nowWritten;
    }
    if (written < size) {
      throw new RangeError(`A ZSTD page holds ${written} bytes, its header says ${size}`);
    }
    if (read < input.length) {
      throw new RangeError(`A ZSTD page has ${input.length - read} bytes after its frames end`);
    }
    return output;
  }
}

function checked(output: Uint8Array, size: number): Uint8Array {
  if (output.length !== size) {
    throw new RangeError(`A ZSTD page holds ${output.length} bytes, its header says ${size}`);
  }
  return output;
}
