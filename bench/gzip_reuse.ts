/**
 * An experiment kept for `bench/parquet_encode.ts --section gzip`: GZIP
 * pages through one node:zlib Gzip context reused for every page, driven
 * through its native handle as `src/parquet/zstd.ts` drives ZSTD's, against
 * `gzipSync`, which builds a stream and a deflate context per page.
 *
 * neuralake does not use it: under Deno 2.9.6 a reset context does not start
 * from a clean state. Its members decode to the right bytes, but after other
 * pages they differ from `gzipSync`'s for the same page (deflate picks other
 * matches), so one batch no longer encodes to the same file twice, and the
 * CPU it saves is a few microseconds a page (docs/benchmarks.md, "GZIP
 * through one reused context").
 */

import { constants, createGzip, gzipSync } from "node:zlib";

interface Handle {
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
}

/** Gzip members at one level through one reused context, or undefined without the handle. */
export function reusedGzip(level: number): ((input: Uint8Array) => Uint8Array) | undefined {
  const stream = createGzip({ level }) as unknown as {
    _handle?: Handle;
    _writeState?: Uint32Array;
  };
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || !(state instanceof Uint32Array)) return undefined;
  let output = new Uint8Array(0);
  return (input) => {
    const bound = input.length + (input.length >>> 12) + (input.length >>> 14) + 128;
    if (output.length < bound) output = new Uint8Array(bound);
    handle.reset();
    let written = 0;
    let read = 0;
    for (;;) {
      handle.writeSync(
        constants.Z_FINISH,
        input,
        read,
        input.length - read,
        output,
        written,
        output.length - written,
      );
      written = output.length - state[0]!;
      read = input.length - state[1]!;
      if (state[0]! > 0) break;
      const grown = new Uint8Array(output.length * 2);
      grown.set(output);
      output = grown;
    }
    return output.subarray(0, written);
  };
}

/** How many of `pages`, compressed in turn through `compress`, differ from `gzipSync`'s bytes. */
export function differingFromOneShot(
  pages: readonly Uint8Array[],
  compress: (input: Uint8Array) => Uint8Array,
  level: number,
): number {
  let differing = 0;
  for (const page of pages) {
    const ours = compress(page);
    const reference = gzipSync(page, { level });
    if (ours.length !== reference.length || ours.some((v, i) => v !== reference[i])) differing++;
  }
  return differing;
}
