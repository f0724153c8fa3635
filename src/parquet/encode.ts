/**
 * Column batches to Parquet bytes: `encodeParquet` for one batch, and the
 * `ParquetFileBuilder` underneath it that merging also uses to mix encoded
 * and copied row groups in one file.
 *
 * The file is framed by hyparquet-writer's `ParquetWriter` (magic, footer,
 * schema, statistics serialization); the column chunks are written by our own
 * typed-array encoder (`column_writer.ts`), which is several times faster
 * than converting every value to JS objects.
 *
 * Invariants: every row group holds at most `rowGroupRows` rows and no row
 * group is empty; footer min/max of strings and binary longer than
 * `FOOTER_STATS_BYTES` are truncated as the Parquet spec allows (a prefix for
 * the min, a prefix with its last character incremented for the max, each
 * flagged inexact), so one huge value is not stored twice more in the
 * footer; all other footer statistics are exact; the returned
 * `columns` stats are exact and aligned with the batch's fields.
 */

import { parquetSchema, type SchemaTree } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { describeType, representationOf, sameType } from "../columnar/types.ts";
import { type Codec, CODECS, compressorFor, DEFAULT_CODEC } from "./codecs.ts";
import { ColumnWriter, type WriterChunk } from "./column_writer.ts";
import type { FloatEncoding, TimestampEncoding } from "./column_values.ts";
import { DeltaScratch } from "./delta.ts";
import { type NestedWriteOptions, writeNestedColumn } from "./nested_columns.ts";
import { schemaOf } from "./schema.ts";
import { isCoded } from "./string_codes.ts";
import { type ColumnStats, mergeColumnStats } from "./stats.ts";

export type { FloatEncoding, TimestampEncoding } from "./column_values.ts";
export type { Codec } from "./codecs.ts";
export { CODECS, DEFAULT_CODEC } from "./codecs.ts";
export type { WriterChunk } from "./column_writer.ts";
export type { ColumnStats, StatValue } from "./stats.ts";

/** How a file is encoded. */
export interface EncodeOptions {
  /** Page compression. @default DEFAULT_CODEC */
  codec?: Codec;
  /** Compression level for ZSTD (default 1) and GZIP (default 6). */
  level?: number;
  /** The most rows per row group. @default 1_048_576 */
  rowGroupRows?: number;
  /** Target uncompressed bytes per data page. @default 1_048_576 */
  pageSize?: number;
  /** The footer's `created_by`. @default "neuralake" */
  createdBy?: string;
  /**
   * Encoding of timestamp columns. DELTA_BINARY_PACKED is smaller and faster;
   * PLAIN suits readers without it (Spark's vectorized reader before 3.3).
   * @default "DELTA_BINARY_PACKED"
   */
  timestampEncoding?: TimestampEncoding;
  /**
   * Encoding of float and double columns. BYTE_STREAM_SPLIT groups the bytes
   * of the values by significance, so that ZSTD shrinks noisy samples about
   * 9% more, but Spark's vectorized reader (4.0) refuses it ("Unsupported
   * encoding: BYTE_STREAM_SPLIT"); delta-rs and pyarrow read it. Under
   * SNAPPY it does not pay. @default DEFAULT_FLOAT_ENCODING
   */
  floatEncoding?: FloatEncoding;
  /**
   * Under ZSTD, column chunks estimated below this many uncompressed bytes
   * are written SNAPPY; 0 writes every chunk ZSTD (see `SMALL_ZSTD_CHUNK`).
   * @default SMALL_ZSTD_CHUNK
   */
  zstdMinChunkBytes?: number;
  /** Dictionary-encode low-cardinality integer and string columns. @default true */
  dictionary?: boolean;
}

/** An encoded Parquet file. */
export interface EncodedFile {
  bytes: Uint8Array;
  numRows: number;
  /** Exact statistics per field, in field order. */
  columns: ColumnStats[];
}

/**
 * The most bytes of a string or binary min/max in the footer; longer ones
 * are truncated and flagged inexact (parquet-mr truncates column indexes to
 * 64 bytes too).
 */
export const FOOTER_STATS_BYTES = 64;

/**
 * How float and double columns are encoded unless `floatEncoding` says
 * otherwise: PLAIN, because every Delta reader must read our tables and
 * Spark's vectorized reader does not read BYTE_STREAM_SPLIT.
 */
export const DEFAULT_FLOAT_ENCODING: FloatEncoding = "PLAIN";

/**
 * Under ZSTD, column chunks estimated below this many uncompressed bytes are
 * written SNAPPY: none. It was 16 KiB while node:zlib built a ZSTD context
 * per page (50-100 µs a call whatever the size); with the context reused
 * (`zstd.ts`), ZSTD costs no more CPU than SNAPPY on small chunks and leaves
 * 500-row files 15% and 5,000-row files 7% smaller (docs/benchmarks.md).
 * Parquet names the codec per column chunk, and every reader honours it.
 */
export const SMALL_ZSTD_CHUNK = 0;

/** The default most rows per row group. */
export const DEFAULT_ROW_GROUP_ROWS = 1 << 20;

/**
 * Builds one Parquet file from batches and copied row groups. Synchronous:
 * everything is written to an in-memory buffer.
 */
export class ParquetFileBuilder {
  /** The fields every batch must have. */
  readonly fields: readonly Field[];
  readonly #pq: ParquetWriter;
  readonly #writer: ByteWriter;
  readonly #columns: ColumnWriter;
  readonly #rowGroupRows: number;
  /** The schema tree (root first), whose children are the fields' columns. */
  readonly #tree: SchemaTree;
  readonly #nested: NestedWriteOptions;
  #stats: ColumnStats[];
  /** The output buffer is the caller's: `finish` copies the file out. */
  readonly #copyOut: boolean = false;
  #rows = 0;
  #finished = false;

  /**
   * `sizeHint` pre-sizes the output buffer (bytes); `buffer`, if given, is
   * written into instead (it grows as needed, and `finish` then copies the
   * file out of it, so the caller may reuse it once `finish` returned).
   */
  constructor(
    fields: readonly Field[],
    options: EncodeOptions = {},
    sizeHint = 1 << 16,
    buffer?: ArrayBuffer,
  ) {
    const codec = options.codec ?? DEFAULT_CODEC;
    if (!CODECS.includes(codec)) {
      throw new RangeError(
        `Cannot encode Parquet with codec "${codec}": use one of ${CODECS.join(", ")}`,
      );
    }
    this.#rowGroupRows = positiveInteger(
      options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
      "rowGroupRows",
    );
    const pageSize = positiveInteger(options.pageSize ?? 1 << 20, "pageSize");
    const timestampEncoding = options.timestampEncoding ?? "DELTA_BINARY_PACKED";
    if (timestampEncoding !== "DELTA_BINARY_PACKED" && timestampEncoding !== "PLAIN") {
      throw new RangeError(
        `Cannot encode timestamps as "${timestampEncoding}": use DELTA_BINARY_PACKED or PLAIN`,
      );
    }
    const floatEncoding = options.floatEncoding ?? DEFAULT_FLOAT_ENCODING;
    if (floatEncoding !== "BYTE_STREAM_SPLIT" && floatEncoding !== "PLAIN") {
      throw new RangeError(
        `Cannot encode floats as "${floatEncoding}": use BYTE_STREAM_SPLIT or PLAIN`,
      );
    }
    this.fields = fields;
    if (buffer) {
      this.#writer = new ByteWriter(0);
      this.#writer.buffer = buffer;
      this.#writer.view = new DataView(buffer);
      this.#copyOut = true;
    } else this.#writer = new ByteWriter(Math.max(1024, Math.ceil(sizeHint)));
    const schema = schemaOf(fields);
    const compress = compressorFor(codec, options.level);
    const smallZstd = options.zstdMinChunkBytes ?? SMALL_ZSTD_CHUNK;
    this.#pq = new ParquetWriter({
      writer: this.#writer,
      schema: schema as ParquetWriter["schema"],
      codec,
      ...(compress ? { compressors: { [codec]: compress } } : {}),
      statisticsTruncateLength: FOOTER_STATS_BYTES,
      createdBy: options.createdBy ?? "neuralake",
    });
    this.#tree = parquetSchema({ schema } as Parameters<typeof parquetSchema>[0]);
    this.#nested = {
      codec,
      compressors: this.#pq.compressors as NestedWriteOptions["compressors"],
      pageSize,
    };
    this.#columns = new ColumnWriter({
      codec,
      compress,
      pageSize,
      ...(codec === "ZSTD" && smallZstd > 0
        ? {
          small: {
            bytes: smallZstd,
            codec: "SNAPPY",
            compress: compressorFor("SNAPPY"),
          },
        }
        : {}),
      timestampEncoding,
      floatEncoding,
      dictionary: options.dictionary ?? true,
      delta: new DeltaScratch(),
    });
    this.#stats = fields.map(() => ({ nullCount: 0 }));
  }

  /** Bytes written so far; where the next row group starts. */
  get offset(): number {
    return this.#writer.offset;
  }

  /** Rows written so far. */
  get numRows(): number {
    return this.#rows;
  }

  /** Writes a batch as one or more row groups of at most `rowGroupRows` rows. */
  writeBatch(batch: ColumnBatch): void {
    checkBatch(batch, this.fields);
    for (let start = 0; start < batch.length; start += this.#rowGroupRows) {
      this.#writeRowGroup(batch, start, Math.min(batch.length, start + this.#rowGroupRows));
    }
  }

  #writeRowGroup(batch: ColumnBatch, start: number, end: number): void {
    this.#assertOpen();
    const groupStart = this.#writer.offset;
    const chunks: WriterChunk[] = [];
    const stats: ColumnStats[] = [];
    const nodes = this.#tree.children;
    for (let c = 0; c < this.fields.length; c++) {
      const field = this.fields[c]!;
      if (typeof field.type !== "string") {
        const written = writeNestedColumn(
          this.#writer,
          this.#tree,
          nodes[c]!,
          field,
          batch.columns[c]!,
          start,
          end,
          this.#nested,
        );
        chunks.push(...written.chunks);
        stats.push(written.stats);
        continue;
      }
      const written = this.#columns.write(
        this.#writer,
        field,
        nodes[c]!.element,
        batch.columns[c]!,
        start,
        end,
      );
      chunks.push(written.chunk);
      stats.push(written.stats);
    }
    this.pushRowGroup(chunks, end - start, groupStart, stats);
  }

  /**
   * Encodes the flat columns `from`.. of `batch` as column chunks at
   * `offset`, for a row group whose other chunks are copied (`appendBytes`);
   * the caller records the row group (`pushRowGroup`).
   */
  writeColumns(batch: ColumnBatch, from: number): { chunks: WriterChunk[]; stats: ColumnStats[] } {
    this.#assertOpen();
    const chunks: WriterChunk[] = [];
    const stats: ColumnStats[] = [];
    const nodes = this.#tree.children;
    for (let c = from; c < this.fields.length; c++) {
      const field = this.fields[c]!;
      if (typeof field.type !== "string") {
        throw new RangeError(`Cannot encode column ${field.name} alone: it is not a flat column`);
      }
      const written = this.#columns.write(
        this.#writer,
        field,
        nodes[c]!.element,
        batch.columns[c]!,
        0,
        batch.length,
      );
      chunks.push(written.chunk);
      stats.push(written.stats);
    }
    return { chunks, stats };
  }

  /** Appends raw bytes (copied column chunks) at `offset`. */
  appendBytes(bytes: Uint8Array): void {
    this.#assertOpen();
    this.#writer.appendBytes(bytes);
  }

  /**
   * Records a row group whose chunks are already written, starting at byte
   * `groupStart`, with the exact statistics of each column.
   */
  pushRowGroup(
    chunks: WriterChunk[],
    numRows: number,
    groupStart: number,
    stats: ColumnStats[],
  ): void {
    this.#assertOpen();
    let totalByteSize = 0n;
    for (const chunk of chunks) totalByteSize += chunk.meta_data?.total_uncompressed_size ?? 0n;
    this.#pq.row_groups.push({
      columns: chunks,
      total_byte_size: totalByteSize,
      num_rows: BigInt(numRows),
      file_offset: BigInt(groupStart),
      total_compressed_size: BigInt(this.#writer.offset - groupStart),
    });
    this.#pq.num_rows += BigInt(numRows);
    // The first row group's statistics are taken whole (a struct's fields too).
    this.#stats = this.#rows === 0
      ? stats.slice()
      : this.#stats.map((s, i) => mergeColumnStats(s, stats[i]!));
    this.#rows += numRows;
  }

  /**
   * Hands back the bytes written since the last call and lets go of them, so
   * a file can be streamed out row group by row group; `finish()` then
   * returns only the bytes after the last call.
   */
  takeBytes(): Uint8Array {
    const bytes = this.#writer.getBytes().slice();
    this.#writer.index = 0;
    return bytes;
  }

  /** Writes the footer and returns the file. The builder cannot be used after. */
  finish(): EncodedFile {
    this.#assertOpen();
    this.#finished = true;
    this.#pq.finish();
    const view = this.#writer.getBytes();
    // Hand back a tight buffer unless the slack is small.
    const bytes = this.#copyOut || view.byteLength * 1.25 < this.#writer.buffer.byteLength
      ? view.slice()
      : view;
    return { bytes, numRows: this.#rows, columns: this.#stats };
  }

  /** The output buffer as it is now (larger than the one given, if it grew). */
  get buffer(): ArrayBuffer {
    return this.#writer.buffer;
  }

  #assertOpen(): void {
    if (this.#finished) throw new TypeError("Cannot add to a Parquet file after finish()");
  }
}

/**
 * Encodes a batch as one Parquet file, with exact per-column statistics.
 *
 * @example
 * ```ts
 * const file = encodeParquet({
 *   fields: [{ name: "id", type: "long", nullable: false }],
 *   columns: [{ values: new BigInt64Array([1n, 2n]) }],
 *   length: 2,
 * });
 * file.columns[0]; // { nullCount: 0, min: 1n, max: 2n }
 * ```
 */
export function encodeParquet(batch: ColumnBatch, options: EncodeOptions = {}): EncodedFile {
  const estimate = estimateSize(batch);
  // The file is built in this isolate's scratch buffer and copied out: a
  // stream writer encodes a file per batch, and a fresh buffer each time
  // (sized for the uncompressed rows, some 20x the file) cost more to
  // allocate and zero than the copy, and fed the garbage collector.
  // Encoding is synchronous, so one buffer serves every call in turn.
  let pooled = scratch;
  scratch = undefined;
  if (pooled === undefined || pooled.byteLength < Math.min(estimate, SCRATCH_MAX_BYTES)) {
    pooled = new ArrayBuffer(Math.max(1024, Math.ceil(estimate)));
  }
  const builder = new ParquetFileBuilder(batch.fields, options, estimate, pooled);
  try {
    builder.writeBatch(batch);
    return builder.finish();
  } finally {
    const grown = builder.buffer;
    if (grown.byteLength <= SCRATCH_MAX_BYTES) scratch = grown;
    else if (pooled.byteLength <= SCRATCH_MAX_BYTES) scratch = pooled;
  }
}

/**
 * `encodeParquet`'s output buffer, kept between calls; absent while a call
 * uses it. Buffers beyond `SCRATCH_MAX_BYTES` are not kept, so one huge
 * batch does not pin its memory for the life of the isolate.
 */
let scratch: ArrayBuffer | undefined;
const SCRATCH_MAX_BYTES = 64 << 20;

/** A generous estimate of a batch's encoded size, to size the buffer once. */
function estimateSize(batch: ColumnBatch): number {
  let perRow = 0;
  for (const field of batch.fields) {
    const rep = representationOf(field.type);
    perRow += rep === "int64" || rep === "float64"
      ? 8
      : rep === "bool"
      ? 1
      : rep === "nested"
      ? 64
      : rep === "string" || rep === "binary" || rep === "decimal"
      ? 16
      : 4;
  }
  return 4096 + batch.fields.length * 256 + perRow * batch.length * 1.05;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Cannot encode Parquet: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Checks a batch against the fields it is written as, before any byte is written. */
function checkBatch(batch: ColumnBatch, fields: readonly Field[]): void {
  if (batch.fields.length !== fields.length || batch.columns.length !== fields.length) {
    throw new TypeError(
      `Cannot encode batch: it has ${batch.columns.length} columns, the file has ${fields.length}`,
    );
  }
  for (let c = 0; c < fields.length; c++) {
    const field = fields[c]!;
    const other = batch.fields[c]!;
    if (other.name !== field.name || !sameType(other.type, field.type)) {
      throw new TypeError(
        `Cannot encode batch: column ${c} is "${other.name}" ${
          describeType(other.type)
        }, expected "${field.name}" ${describeType(field.type)}`,
      );
    }
    const column = batch.columns[c]!;
    if (column.values.length !== batch.length) {
      throw new RangeError(
        `Cannot encode column "${field.name}": it has ${column.values.length} values, the batch has ${batch.length} rows`,
      );
    }
    if (column.nulls && column.nulls.length !== batch.length) {
      throw new RangeError(
        `Cannot encode column "${field.name}": its null mask has ${column.nulls.length} entries, the batch has ${batch.length} rows`,
      );
    }
    const rep = representationOf(field.type);
    if (!matchesRepresentation(column.values, rep) && !(rep === "string" && isCoded(column))) {
      throw new TypeError(
        `Cannot encode column "${field.name}": ${describeType(field.type)} values must be ${
          expectedName(representationOf(field.type))
        }, got ${column.values.constructor.name}`,
      );
    }
  }
}

function matchesRepresentation(values: unknown, rep: ReturnType<typeof representationOf>): boolean {
  switch (rep) {
    case "int32":
      return values instanceof Int32Array;
    case "int64":
      return values instanceof BigInt64Array;
    case "float32":
      return values instanceof Float32Array;
    case "float64":
      return values instanceof Float64Array;
    case "bool":
      return values instanceof Uint8Array;
    default:
      return Array.isArray(values);
  }
}

function expectedName(rep: ReturnType<typeof representationOf>): string {
  return {
    int32: "an Int32Array",
    int64: "a BigInt64Array",
    float32: "a Float32Array",
    float64: "a Float64Array",
    bool: "a Uint8Array of 0 and 1",
    string: "an array of strings",
    binary: "an array of Uint8Array",
    decimal: "an array of unscaled bigints",
    nested: "an array of JS values",
  }[rep];
}
