/**
 * ZSTD through reused native contexts: the same frames as node:zlib's
 * one-shot functions, many pages of every size through one context, and
 * failures that leave the context usable.
 */

import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { compressorFor, DECOMPRESSORS } from "../../src/parquet/codecs.ts";
import { bytesSource, openParquet, readColumns } from "../../src/parquet/decode.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { ZstdCompressor, ZstdDecompressor } from "../../src/parquet/zstd.ts";
import { neuralBatch } from "./_fixtures.ts";

/** `n` bytes like a page: float noise, then runs of small integers. */
function pageBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  const half = n >>> 1;
  for (let i = 0; i < half; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (i & 3) === 3 ? 0x3c : s >>> 24;
  }
  for (let i = half; i < n; i++) out[i] = (i >>> 6) % 5;
  return out;
}

/** `n` bytes like a page of float32 samples: full random mantissas. */
function noiseBytes(n: number, seed = 1): Uint8Array {
  const values = new Float32Array(Math.ceil(n / 4));
  let s = seed;
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    values[i] = (s / 2 ** 32 - 0.5) * 120;
  }
  return new Uint8Array(values.buffer, 0, n);
}

const SIZES = [0, 1, 100, 4_000, 70_000, 1 << 20, (1 << 20) + 12_345];

Deno.test("ZstdCompressor writes zstdCompressSync's frames, or smaller ones, at levels 1, 3 and 9", () => {
  const decompressor = new ZstdDecompressor();
  assert(decompressor.reuses, "this Deno exposes node:zlib's native ZSTD handle");
  for (const level of [1, 3, 9]) {
    const compressor = new ZstdCompressor(level);
    assert(compressor.reuses, "this Deno exposes node:zlib's native ZSTD handle");
    for (const n of SIZES) {
      for (const noise of [false, true]) {
        const input = noise ? noiseBytes(n, level + n) : pageBytes(n, level + n);
        const what = `${n} B${noise ? " of noise" : ""} at level ${level}`;
        const params = { [constants.ZSTD_c_compressionLevel]: level };
        const frame = compressor.compress(input).slice();
        const oneShot = new Uint8Array(zstdCompressSync(input, { params }));
        // node:zlib drains frames 16 KiB at a time; one that fits is the same.
        if (oneShot.length <= 16_384) assertEquals(frame, oneShot, what);
        else assert(frame.length <= oneShot.length, `${what}: ${frame.length} > ${oneShot.length}`);
        assertEquals(new Uint8Array(zstdDecompressSync(frame)), input, `${what}, node:zlib`);
        assertEquals(decompressor.decompress(frame, n), input, what);
      }
    }
  }
});

Deno.test("one ZSTD compressor and decompressor carry 210 pages of every size in turn", () => {
  const compress = compressorFor("ZSTD")!;
  assert(compress === compressorFor("ZSTD", 1), "one compressor per level for the isolate");
  const decompress = DECOMPRESSORS.ZSTD!;
  for (let i = 0; i < 210; i++) {
    const n = SIZES[i % SIZES.length]! + (i % 7);
    const input = pageBytes(n, i);
    // The input may be a view into a larger buffer, at any offset.
    const view = i % 2 ? input : (() => {
      const padded = new Uint8Array(n + 11);
      padded.set(input, 5);
      return padded.subarray(5, 5 + n);
    })();
    const frame = compress(view).slice();
    assertEquals(new Uint8Array(zstdDecompressSync(frame)), input, `page ${i} by node:zlib`);
    assertEquals(decompress(frame, n), input, `page ${i} of ${n} bytes`);
  }
});

Deno.test("a corrupt, truncated or mis-sized ZSTD page fails with what is wrong, and the next page reads", () => {
  const decompressor = new ZstdDecompressor();
  const input = pageBytes(50_000);
  const frame = new ZstdCompressor(1).compress(input).slice();
  const flipped = frame.slice();
  for (let i = 20; i < flipped.length; i += 97) flipped[i]! ^= 0x5a;
  const trailing = new Uint8Array(frame.length + 3);
  trailing.set(frame);
  trailing.set([1, 2, 3], frame.length);
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["not a frame", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 50_000, /./],
    ["truncated", frame.subarray(0, frame.length - 100), 50_000, /holds \d+ bytes.*says 50000/],
    ["corrupt", flipped, 50_000, /./],
    ["larger than its header says", frame, 49_999, /more than the 49999 bytes/],
    ["smaller than its header says", frame, 50_001, /holds 50000 bytes, its header says 50001/],
    ["bytes after the frame", trailing, 50_000, /./],
    ["empty", new Uint8Array(0), 10, /holds 0 bytes, its header says 10/],
  ];
  for (const [what, bytes, size, message] of cases) {
    const error = assertThrows(() => decompressor.decompress(bytes, size));
    assert(message.test(error.message), `${what}: ${error.message}`);
    assert(!/^\s*at /m.test(error.message), `${what}: a message, not a stack`);
    assertEquals(decompressor.decompress(frame, 50_000), input, `the page after: ${what}`);
  }
});

Deno.test("ZSTD frames that follow one another in a page decompress as one", () => {
  const a = pageBytes(30_000, 3);
  const b = pageBytes(5_000, 4);
  const compressor = new ZstdCompressor(1);
  const fa = compressor.compress(a).slice();
  const fb = compressor.compress(b).slice();
  const both = new Uint8Array(fa.length + fb.length);
  both.set(fa);
  both.set(fb, fa.length);
  const out = new ZstdDecompressor().decompress(both, a.length + b.length);
  assertEquals(out.subarray(0, a.length), a);
  assertEquals(out.subarray(a.length), b);
});

Deno.test("ZstdCompressor refuses a level that is not an integer", () => {
  assertThrows(() => new ZstdCompressor(1.5), "ZSTD level must be an integer, got 1.5");
});

Deno.test("ZSTD files encoded one after another through the isolate's context read back alike", async () => {
  for (let i = 0; i < 40; i++) {
    const rows = [1, 500, 5_000, 20_000][i % 4]!;
    const batch = neuralBatch(rows, { neurons: 50 + i });
    const file = encodeParquet(batch, { zstdMinChunkBytes: 0, pageSize: 8_192 });
    const again = encodeParquet(batch, { zstdMinChunkBytes: 0, pageSize: 8_192 });
    assertEquals(again.bytes, file.bytes, `file ${i} is the same when encoded again`);
    const parsed = await openParquet(bytesSource(file.bytes, `part-${i}.parquet`));
    const fields = batch.fields.filter((f) => f.type !== "string");
    const read = await readColumns(parsed, { fields });
    fields.forEach((f, c) => {
      const values = batch.columns[batch.fields.indexOf(f)]!.values;
      assertEquals(read.columns[c]!.values, values, `file ${i}, ${f.name}`);
    });
  }
});
