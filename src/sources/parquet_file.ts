/**
 * The Parquet file source: streams a file's rows as column batches, row
 * group by row group, so a large file is never held whole in memory (at most
 * one decoded row group at a time). The fields come from the file's schema;
 * nested columns are refused with an error that names them.
 *
 * Invariants (those of every `RecordSource`): `fields` is final; no batch is
 * empty or longer than `batchRows`; `batches()` iterates once, and the file
 * handle (for a path) is closed when iteration ends or breaks.
 */

import { open as openFile } from "node:fs/promises";
import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { sliceBatch } from "../columnar/batch.ts";
import type { ByteSource } from "../parquet/byte_source.ts";
import { readColumns } from "../parquet/decode.ts";
import { openParquet } from "../parquet/metadata.ts";
import { inferFields } from "../parquet/schema.ts";
import { DEFAULT_BATCH_ROWS, type RecordSource } from "./source.ts";

/** How a Parquet file is read. */
export interface ParquetSourceOptions {
  /** The most rows per batch. @default 65_536 */
  batchRows?: number;
}

/** A Parquet file as a record source. */
export interface ParquetSource extends RecordSource {
  /** Rows in the file. */
  readonly numRows: number;
  /** Closes the file if `batches()` was never run to the end. */
  close(): Promise<void>;
}

/** A byte source over a local file that can be closed. */
export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

/** Opens a local file for positional reads. */
export async function fileByteSource(path: string): Promise<FileByteSource> {
  let handle;
  try {
    handle = await openFile(path, "r");
  } catch (error) {
    throw new Error(`Cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  const { size } = await handle.stat();
  let closed = false;
  return {
    byteLength: size,
    name: path,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new RangeError(
            `Cannot read bytes ${offset}..${offset + length} of ${path}: the file ended`,
          );
        }
        done += bytesRead;
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/**
 * Opens a Parquet file (a local path or a byte source) as a source of column
 * batches.
 *
 * @example
 * ```ts
 * const source = await openParquetSource("recording.parquet", { batchRows: 50_000 });
 * for await (const batch of source.batches()) console.log(batch.length);
 * ```
 */
export async function openParquetSource(
  path: string | ByteSource,
  options: ParquetSourceOptions = {},
): Promise<ParquetSource> {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new RangeError(
      `Cannot read Parquet: batchRows must be a positive integer, got ${batchRows}`,
    );
  }
  const owned = typeof path === "string" ? await fileByteSource(path) : undefined;
  const source = owned ?? (path as ByteSource);
  const close = async () => await owned?.close();
  try {
    const file = await openParquet(source);
    const fields: Field[] = inferFields(file.schema, file.name);
    let started = false;
    return {
      fields,
      numRows: file.numRows,
      close,
      batches() {
        if (started) throw new TypeError(`Cannot read ${file.name} twice: batches() iterates once`);
        started = true;
        return (async function* (): AsyncGenerator<ColumnBatch> {
          try {
            for (const group of file.rowGroups) {
              if (group.numRows === 0) continue;
              const batch = await readColumns(file, { fields, rowGroups: [group.index] });
              for (let start = 0; start < batch.length; start += batchRows) {
                const end = Math.min(batch.length, start + batchRows);
                yield start === 0 && end === batch.length ? batch : sliceBatch(batch, start, end);
              }
            }
          } finally {
            await close();
          }
        })();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
