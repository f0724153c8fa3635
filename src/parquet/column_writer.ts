/**
 * Writes one flat column chunk: an optional dictionary page, then V1 data
 * pages of about `pageSize` uncompressed bytes, each holding definition
 * levels (for nullable columns) and the values, compressed with the chunk's
 * codec. Returns the chunk's footer metadata and its exact statistics.
 *
 * Invariants: pages start on row boundaries; `num_values` counts nulls; the
 * footer statistics are the chunk's exact min/max (floats follow the Parquet
 * rule that a zero min is written as -0 and a zero max as +0).
 */

import type { SchemaElement } from "hyparquet";
import type { ParquetWriter } from "hyparquet-writer";
import { writePageHeader, type Writer } from "./_hyparquet.ts";
import type { Column, Field } from "../columnar/batch.ts";
import { ByteBuffer } from "./byte_buffer.ts";
import type { Codec, Compress } from "./codecs.ts";
import { prepareValues, type ValueOptions } from "./column_values.ts";
import { writeDefinitionLevels, writeRleHybrid } from "./rle.ts";
import type { ColumnStats } from "./stats.ts";

/** A footer column chunk, typed as hyparquet-writer serializes it. */
export type WriterChunk = ParquetWriter["row_groups"][number]["columns"][number];
type ColumnMetaData = NonNullable<WriterChunk["meta_data"]>;

/** Settings shared by every chunk of a file. */
export interface ChunkSettings extends ValueOptions {
  codec: Codec;
  compress: Compress | undefined;
  pageSize: number;
  /**
   * The codec of chunks estimated below `bytes` uncompressed, when a writer
   * asks for one (`EncodeOptions.zstdMinChunkBytes`).
   */
  small?: { bytes: number; codec: Codec; compress: Compress | undefined };
}

/** The footer entry and statistics of a written chunk. */
export interface WrittenChunk {
  chunk: WriterChunk;
  stats: ColumnStats;
}

/**
 * The page buffer, shared by every writer of this isolate: a page is built
 * and flushed within one synchronous call, so no two users overlap, and small
 * files do not pay for allocating one each.
 */
const sharedPage = new ByteBuffer(1 << 20);

/** Writes column chunks. */
export class ColumnWriter {
  readonly #settings: ChunkSettings;

  constructor(settings: ChunkSettings) {
    this.#settings = settings;
  }

  /** Writes rows [start, end) of `column` as one chunk at the writer's offset. */
  write(
    writer: Writer,
    field: Field,
    element: SchemaElement,
    column: Column,
    start: number,
    end: number,
  ): WrittenChunk {
    const settings = this.#settings;
    const rows = end - start;
    const nulls = column.nulls;
    let nullCount = 0;
    if (nulls) { for (let i = start; i < end; i++) nullCount += nulls[i]!; }
    if (nullCount && !field.nullable) {
      let row = start;
      while (!nulls![row]) row++;
      throw new RangeError(
        `Cannot write column "${field.name}": it is not nullable, but row ${row} is null`,
      );
    }
    const prepared = prepareValues(field, column, start, end, nullCount, settings);
    const stats: ColumnStats = { ...prepared.stats, nullCount };
    const chunkStart = writer.offset;
    let uncompressed = 0;
    let pages = 0;
    let dictionaryOffset: bigint | undefined;
    const page = sharedPage;
    const dictionary = prepared.dictionary;
    const small = settings.small;
    const estimate = prepared.count * (dictionary ? dictionary.bitWidth / 8 : prepared.width);
    const [codec, compress] = small && estimate < small.bytes
      ? [small.codec, small.compress]
      : [settings.codec, settings.compress];

    if (dictionary) {
      dictionaryOffset = BigInt(writer.offset);
      page.reset();
      dictionary.write(page);
      uncompressed += this.#writePage(writer, compress, page.content(), (size, compressedSize) => ({
        type: "DICTIONARY_PAGE",
        uncompressed_page_size: size,
        compressed_page_size: compressedSize,
        dictionary_page_header: { num_values: dictionary.size, encoding: "PLAIN" },
      }));
    }

    const dataOffset = writer.offset;
    const cuts = pageCuts(
      prepared.sizeOf,
      prepared.width,
      nullCount ? nulls : undefined,
      start,
      end,
      settings.pageSize,
      dictionary?.bitWidth,
    );
    let value = 0;
    for (let p = 0; p + 1 < cuts.length; p++) {
      const ps = cuts[p]!;
      const pe = cuts[p + 1]!;
      let pageNulls = 0;
      if (nullCount) { for (let i = ps; i < pe; i++) pageNulls += nulls![i]!; }
      const count = pe - ps - pageNulls;
      page.reset();
      if (field.nullable) writeDefinitionLevels(page, nulls, ps, pe, pageNulls);
      if (dictionary) {
        page.u8(dictionary.bitWidth);
        writeRleHybrid(page, dictionary.indexes, value, value + count, dictionary.bitWidth);
      } else {
        prepared.writeValues(page, value, count);
      }
      value += count;
      pages++;
      uncompressed += this.#writePage(writer, compress, page.content(), (size, compressedSize) => ({
        type: "DATA_PAGE",
        uncompressed_page_size: size,
        compressed_page_size: compressedSize,
        data_page_header: {
          num_values: pe - ps,
          encoding: prepared.encoding,
          definition_level_encoding: "RLE",
          repetition_level_encoding: "RLE",
        },
      }));
    }

    const encodings: ColumnMetaData["encodings"] = dictionary
      ? ["PLAIN", "RLE", "RLE_DICTIONARY"]
      : [prepared.encoding, "RLE"];
    const meta: ColumnMetaData = {
      type: element.type!,
      encodings,
      path_in_schema: [element.name],
      codec,
      num_values: BigInt(rows),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(writer.offset - chunkStart),
      data_page_offset: BigInt(dataOffset),
      statistics: footerStatistics(stats),
      encoding_stats: [
        ...(dictionary
          ? [{ page_type: "DICTIONARY_PAGE" as const, encoding: "PLAIN" as const, count: 1 }]
          : []),
        {
          page_type: "DATA_PAGE",
          encoding: dictionary ? "RLE_DICTIONARY" : prepared.encoding,
          count: pages,
        },
      ],
    };
    if (dictionaryOffset !== undefined) meta.dictionary_page_offset = dictionaryOffset;
    return { chunk: { file_offset: BigInt(chunkStart), meta_data: meta }, stats };
  }

  /** Compresses and writes one page; returns its uncompressed size with header. */
  #writePage(
    writer: Writer,
    compress: Compress | undefined,
    body: Uint8Array,
    header: (size: number, compressedSize: number) => Parameters<typeof writePageHeader>[1],
  ): number {
    const data = compress ? compress(body) : body;
    const before = writer.offset;
    writePageHeader(writer, header(body.length, data.length));
    const headerSize = writer.offset - before;
    writer.appendBytes(data);
    return headerSize + body.length;
  }
}

/** Row boundaries of the pages of rows [start, end), both ends included. */
function pageCuts(
  sizeOf: ((i: number) => number) | undefined,
  width: number,
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
  pageSize: number,
  bitWidth: number | undefined,
): number[] {
  const cuts = [start];
  if (sizeOf) {
    let bytes = 0;
    let value = 0;
    for (let row = start; row < end; row++) {
      if (!nulls || nulls[row] === 0) bytes += sizeOf(value++) + 4;
      if (bytes >= pageSize && row + 1 < end) {
        cuts.push(row + 1);
        bytes = 0;
      }
    }
  } else {
    const perValue = bitWidth === undefined ? width : bitWidth / 8;
    const rowsPerPage = Math.max(1, Math.floor(pageSize / perValue));
    for (let row = start + rowsPerPage; row < end; row += rowsPerPage) cuts.push(row);
  }
  cuts.push(end);
  return cuts;
}

/** Parquet footer statistics in the physical form hyparquet-writer serializes. */
export function footerStatistics(stats: ColumnStats): NonNullable<ColumnMetaData["statistics"]> {
  const out: NonNullable<ColumnMetaData["statistics"]> = { null_count: BigInt(stats.nullCount) };
  let { min, max } = stats;
  if (min !== undefined && max !== undefined) {
    if (min === 0) min = -0;
    if (max === 0) max = 0;
    out.min_value = min;
    out.max_value = max;
  }
  return out;
}
