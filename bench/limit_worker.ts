/**
 * One worker of the `limit` scenario's ceiling: generates the stream's rows
 * and encodes them into Parquet in memory, as a stream writer does, for a
 * fixed time, with no upload, no commit and no maintenance. Says it is
 * loaded (`{ ready: true }`), waits for the go, and answers the rows it
 * encoded and the seconds it took.
 */

/// <reference lib="deno.worker" />

import type { ColumnBatch } from "../src/columnar/batch.ts";
import { encodeParquet } from "../src/parquet/encode.ts";
import { NeuralGenerator } from "../src/sources/neural.ts";

self.onmessage = (event: MessageEvent<{ writerId: string; rows: number; seconds: number }>) => {
  const { writerId, rows, seconds } = event.data;
  const generator = new NeuralGenerator({ seed: 42 });
  const tick0 = generator.tickAt(Date.now());
  let reuse: ColumnBatch | undefined;
  let encoded = 0;
  let bytes = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (let seq = 0; performance.now() < deadline; seq++) {
    reuse = generator.generate(
      { writerId, sessionId: "limit", batchSeq: seq, tick0, startRow: seq * rows, rows },
      reuse,
    );
    // The append path's options (ops/append.ts): one row group per file.
    bytes += encodeParquet(reuse, { rowGroupRows: 1 << 22 }).bytes.length;
    encoded += rows;
  }
  self.postMessage({ rows: encoded, bytes, seconds: (performance.now() - start) / 1000 });
};
self.postMessage({ ready: true });
