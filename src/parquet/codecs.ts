/**
 * Compression codecs for Parquet pages: the compressors the encoder uses and
 * the decompressors handed to hyparquet when reading.
 *
 * SNAPPY goes through the `hysnappy` WebAssembly build (one instance per
 * isolate, created on first use), which is 6-10x faster than the pure-JS
 * snappy in hyparquet-writer on compressible pages but slower on
 * incompressible ones (random float samples). So a page whose samples do not
 * compress is stored as one snappy literal, a valid snappy stream that costs
 * a copy. ZSTD goes through native contexts reused for the life of the
 * isolate (`zstd.ts`), GZIP and BROTLI through `node:zlib`'s synchronous
 * functions, because page encoding is synchronous.
 *
 * Reading also takes the codecs other writers choose that neuralake never
 * writes: LZ4 (Spark's `lz4`, Hadoop-framed blocks, or a bare block as some
 * writers made it) and LZ4_RAW (Spark's `lz4_raw`, delta-rs, pyarrow), through
 * hyparquet-compressors, the hyparquet family's decompressors.
 */

import { snappyCompressor, snappyUncompressor } from "hysnappy";
import type { Compressors } from "hyparquet";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { ZstdCompressor, ZstdDecompressor } from "./zstd.ts";
import { decompressLz4, decompressLz4Raw } from "hyparquet-compressors/src/lz4.js";

/** The codecs the encoder can write. */
export type Codec = "UNCOMPRESSED" | "SNAPPY" | "ZSTD" | "GZIP";

/** The codecs `Codec` accepts, for validating options. */
export const CODECS: readonly Codec[] = ["UNCOMPRESSED", "SNAPPY", "ZSTD", "GZIP"];

/**
 * The codec of data files unless a writer chooses another. ZSTD at level 1
 * leaves the neural rows about 17% smaller than SNAPPY at nearly its speed
 * (docs/benchmarks.md), and delta-rs, pyarrow and Spark all read it.
 */
export const DEFAULT_CODEC: Codec = "ZSTD";

/** The ZSTD level unless a writer chooses another. */
export const DEFAULT_ZSTD_LEVEL = 1;

/**
 * Compresses one page body. The result may be a view of a buffer that the
 * compressor reuses (ZSTD): write it out before the next call.
 */
export type Compress = (input: Uint8Array) => Uint8Array;

let snappy: Compress | undefined;
/** One ZSTD compressor per level, and one decompressor, for the isolate. */
const zstdCompressors = new Map<number, Compress>();
let unzstd: ZstdDecompressor | undefined;
let unsnappy: ((input: Uint8Array, outputLength: number) => Uint8Array) | undefined;

/**
 * Returns the compressor for a codec, or undefined for UNCOMPRESSED.
 * `level` applies to ZSTD (default `DEFAULT_ZSTD_LEVEL`) and GZIP (default 6).
 */
export function compressorFor(codec: Codec, level?: number): Compress | undefined {
  switch (codec) {
    case "UNCOMPRESSED":
      return undefined;
    case "SNAPPY":
      return snappy ??= adaptiveSnappy(snappyCompressor());
    case "ZSTD": {
      const zstdLevel = level ?? DEFAULT_ZSTD_LEVEL;
      let compress = zstdCompressors.get(zstdLevel);
      if (!compress) {
        const compressor = new ZstdCompressor(zstdLevel);
        compress = (input) => compressor.compress(input);
        zstdCompressors.set(zstdLevel, compress);
      }
      return compress;
    }
    case "GZIP": {
      // A stream and context per page, not one reused as ZSTD's is: under
      // Deno 2.9.6 a reset Gzip context does not start clean (its members
      // differ from gzipSync's after other pages, so a batch would not encode
      // to the same file twice), and the reuse saved ~10 µs a page only
      // (docs/benchmarks.md, "GZIP through one reused context: left out").
      const options = { level: level ?? 6 };
      return (input) => gzipSync(input, options);
    }
    default:
      throw new RangeError(
        `Cannot compress with codec "${codec}": use one of ${CODECS.join(", ")}`,
      );
  }
}

/** Snappy compresses blocks of 64 KiB independently, so one block is a fair sample. */
const BLOCK = 1 << 16;

/** Snappy that stores pages it cannot shrink by 10% (judged on two blocks) as literals. */
function adaptiveSnappy(compress: Compress): Compress {
  return (input) => {
    if (
      input.length >= 3 * BLOCK &&
      compress(input.subarray(0, BLOCK)).length > BLOCK * 0.9 &&
      compress(input.subarray(input.length - BLOCK)).length > BLOCK * 0.9
    ) return snappyLiteral(input);
    return compress(input);
  };
}

/** A snappy stream of one literal: the uncompressed length, a tag, the bytes. */
export function snappyLiteral(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(n + 10);
  let p = 0;
  let v = n;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p++] = v;
  if (n > 0) {
    const m = n - 1;
    if (m < 60) out[p++] = m << 2;
    else {
      // Tag 63: the literal length minus one follows in 4 little-endian bytes.
      out[p++] = 63 << 2;
      out[p++] = m & 0xff;
      out[p++] = (m >>> 8) & 0xff;
      out[p++] = (m >>> 16) & 0xff;
      out[p++] = m >>> 24;
    }
    out.set(input, p);
    p += n;
  }
  return out.subarray(0, p);
}

function snappyDecompress(input: Uint8Array, outputLength: number): Uint8Array {
  unsnappy ??= snappyUncompressor();
  return unsnappy(input, outputLength);
}

/** Decompressors for every codec we can read, in hyparquet's form. */
export const DECOMPRESSORS: Compressors = {
  SNAPPY: snappyDecompress,
  ZSTD: (input, outputLength) =>
    (unzstd ??= new ZstdDecompressor()).decompress(input, outputLength),
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};
