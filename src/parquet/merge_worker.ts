/**
 * The worker thread of a parallel merge (`mergeParquet` with
 * `parallelMinRows`): it merges the files it is sent, whole and in memory,
 * into one Parquet file and sends that file back, while the calling thread
 * merges the others. Requests and answers carry an id; an error is answered
 * with its message.
 */

import { parentPort } from "node:worker_threads";
import type { Field } from "../columnar/batch.ts";
import type { EncodeOptions } from "./encode.ts";
import type { ColumnStats } from "./stats.ts";
import { mergeParquet } from "./merge.ts";

/**
 * A part of a merge for the worker: its files' bytes one after another in
 * `buffer`, file i at `[ends[i - 1] ?? 0, ends[i])`. Bytes travel as an
 * `ArrayBuffer`, never a `Uint8Array`: Deno's node:worker_threads walks
 * every property of a message looking for ports, each byte of a typed array
 * too (3 s for 9 MB).
 */
export interface MergeRequest {
  id: number;
  buffer: ArrayBuffer;
  ends: number[];
  names: string[];
  fields: Field[];
  options: EncodeOptions & { minRowGroupRows: number };
}

/** The worker's merged file, or why it failed. */
export type MergeAnswer =
  | {
    id: number;
    ok: true;
    /** The merged file (the whole buffer). */
    buffer: ArrayBuffer;
    numRows: number;
    columns: ColumnStats[];
    copiedRowGroups: number;
    decodedRowGroups: number;
  }
  | {
    id: number;
    ok: false;
    message: string;
    /** True when the worker itself failed (then the share is merged by the caller). */
    workerFailed?: boolean;
  };

parentPort?.on("message", async (request: MergeRequest) => {
  let answer: MergeAnswer;
  try {
    const { ends, names } = request;
    const bytes = new Uint8Array(request.buffer);
    const inputs = ends.map((end, i) => ({
      bytes: bytes.subarray(ends[i - 1] ?? 0, end),
      name: names[i]!,
    }));
    const merged = await mergeParquet(inputs, {
      ...request.options,
      fields: request.fields,
    });
    answer = {
      id: request.id,
      ok: true,
      buffer: tight(merged.bytes),
      numRows: merged.numRows,
      columns: merged.columns,
      copiedRowGroups: merged.copiedRowGroups,
      decodedRowGroups: merged.decodedRowGroups,
    };
  } catch (error) {
    answer = { id: request.id, ok: false, message: (error as Error).message };
  }
  const transfer = answer.ok ? [answer.buffer] : [];
  parentPort!.postMessage(answer, transfer);
});

/** The bytes as a buffer of their own. */
function tight(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes.buffer as ArrayBuffer : bytes.slice().buffer;
}
