/**
 * The Parquet footer from one thrift parse. hyparquet's `parquetMetadata`
 * parses the footer and converts statistics to floating point, so reading
 * exact statistics used to need a second parse of the same bytes; with many
 * small files (compaction, checkpoints of tables with many files) the parse
 * was the largest cost. Here the raw thrift structure is parsed once and
 * converted to hyparquet's `FileMetaData` shape, with the statistics left as
 * raw bytes for `stats.ts` to decode exactly.
 *
 * The field numbers are those of parquet-format's `parquet.thrift`. The
 * thrift reader is our own: hyparquet's names every field `field_<id>` (a
 * string built per field) and reads every i64 through BigInt shifts, which
 * made it most of the cost of opening a small file.
 */

import type {
  ColumnChunk,
  FileMetaData,
  LogicalType,
  RowGroup,
  SchemaElement,
  TimeUnit,
} from "hyparquet";
import {
  CompressionCodecs,
  ConvertedTypes,
  Encodings,
  FieldRepetitionTypes,
  PageTypes,
  ParquetTypes,
} from "./_hyparquet.ts";
import { type Cursor, readVarint, readZigzag, readZigzagBigInt } from "./varint.ts";

/** A column chunk's `Statistics`, as raw thrift fields by field id. */
export interface RawStats {
  /** Legacy max. */
  1?: Uint8Array;
  /** Legacy min. */
  2?: Uint8Array;
  /** null_count. */
  3?: bigint;
  /** max_value. */
  5?: Uint8Array;
  /** min_value. */
  6?: Uint8Array;
  /** is_max_value_exact. */
  7?: boolean;
  /** is_min_value_exact. */
  8?: boolean;
}

/** A parsed footer: hyparquet's metadata plus each chunk's raw statistics. */
export interface ParsedFooter {
  metadata: FileMetaData;
  /** `stats[rowGroup][column]`, undefined where the chunk has none. */
  stats: (RawStats | undefined)[][];
}

// deno-lint-ignore no-explicit-any
type Raw = any;

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const text = (bytes: Uint8Array | undefined) => bytes && decoder.decode(bytes);

/** Parses footer bytes (the thrift `FileMetaData`, without length and magic). */
export function parseFooter(footer: Uint8Array): ParsedFooter {
  const raw: Raw = readThrift(footer);
  if (!Array.isArray(raw[2]) || !Array.isArray(raw[4])) {
    throw new Error("the footer has no schema or no row groups");
  }
  const schema: SchemaElement[] = raw[2].map((f: Raw) =>
    ({
      type: ParquetTypes[f[1]],
      type_length: f[2],
      repetition_type: FieldRepetitionTypes[f[3]],
      name: text(f[4]),
      num_children: f[5],
      converted_type: ConvertedTypes[f[6]],
      scale: f[7],
      precision: f[8],
      field_id: f[9],
      logical_type: logicalType(f[10]),
    }) as SchemaElement
  );
  const stats: (RawStats | undefined)[][] = [];
  const rowGroups: RowGroup[] = raw[4].map((g: Raw) => {
    stats.push(g[1].map((c: Raw) => c[3]?.[12]));
    return {
      columns: g[1].map(columnChunk),
      total_byte_size: g[2],
      num_rows: g[3],
      ...(g[4]
        ? {
          sorting_columns: g[4].map((s: Raw) => ({
            column_idx: s[1],
            descending: s[2],
            nulls_first: s[3],
          })),
        }
        : {}),
      file_offset: g[5],
      total_compressed_size: g[6],
      ordinal: g[7],
    } as RowGroup;
  });
  const metadata = {
    version: raw[1],
    schema,
    num_rows: raw[3],
    row_groups: rowGroups,
    key_value_metadata: raw[5]?.map((kv: Raw) => ({
      key: text(kv[1]),
      value: text(kv[2]),
    })),
    created_by: text(raw[6]),
    metadata_length: footer.byteLength,
  } as FileMetaData;
  return { metadata, stats };
}

function columnChunk(c: Raw): ColumnChunk {
  const m = c[3];
  return {
    file_path: text(c[1]),
    file_offset: c[2],
    meta_data: m && {
      type: ParquetTypes[m[1]],
      encodings: m[2]?.map((e: number) => Encodings[e]),
      path_in_schema: m[3].map(text),
      codec: CompressionCodecs[m[4]],
      num_values: m[5],
      total_uncompressed_size: m[6],
      total_compressed_size: m[7],
      key_value_metadata: m[8]?.map((kv: Raw) => ({
        key: text(kv[1]),
        value: text(kv[2]),
      })),
      data_page_offset: m[9],
      index_page_offset: m[10],
      dictionary_page_offset: m[11],
      encoding_stats: m[13]?.map((s: Raw) => ({
        page_type: PageTypes[s[1]],
        encoding: Encodings[s[2]],
        count: s[3],
      })),
      bloom_filter_offset: m[14],
      bloom_filter_length: m[15],
    },
    offset_index_offset: c[4],
    offset_index_length: c[5],
    column_index_offset: c[6],
    column_index_length: c[7],
    crypto_metadata: c[8],
    encrypted_column_metadata: c[9],
  } as ColumnChunk;
}

function logicalType(t: Raw): LogicalType | undefined {
  if (!t) return undefined;
  if (t[1]) return { type: "STRING" };
  if (t[2]) return { type: "MAP" };
  if (t[3]) return { type: "LIST" };
  if (t[4]) return { type: "ENUM" };
  if (t[5]) return { type: "DECIMAL", scale: t[5][1], precision: t[5][2] };
  if (t[6]) return { type: "DATE" };
  if (t[7]) {
    return { type: "TIME", isAdjustedToUTC: t[7][1], unit: timeUnit(t[7][2]) };
  }
  if (t[8]) {
    return {
      type: "TIMESTAMP",
      isAdjustedToUTC: t[8][1],
      unit: timeUnit(t[8][2]),
    };
  }
  if (t[10]) {
    return { type: "INTEGER", bitWidth: t[10][1], isSigned: t[10][2] };
  }
  if (t[11]) return { type: "NULL" };
  if (t[12]) return { type: "JSON" };
  if (t[13]) return { type: "BSON" };
  if (t[14]) return { type: "UUID" };
  if (t[15]) return { type: "FLOAT16" };
  if (t[16]) return { type: "VARIANT", specification_version: t[16][1] } as LogicalType;
  if (t[17]) return { type: "GEOMETRY", crs: text(t[17][1]) } as LogicalType;
  if (t[18]) return { type: "GEOGRAPHY", crs: text(t[18][1]) } as LogicalType;
  if (t[19]) return { type: "FILE" } as unknown as LogicalType;
  return t;
}

function timeUnit(unit: Raw): TimeUnit {
  if (unit?.[1]) return "MILLIS";
  if (unit?.[2]) return "MICROS";
  if (unit?.[3]) return "NANOS";
  throw new Error("a time or timestamp logical type has no unit");
}

// Thrift compact protocol types.
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_STRUCT = 12;

/**
 * Reads one thrift compact-protocol struct. A struct is an array indexed by
 * field id (holes where a field is absent); i64 values are bigints, binary
 * values are views into `bytes`.
 */
export function readThrift(bytes: Uint8Array): Raw[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  const c: Cursor = { bytes, pos: 0, end };

  const byte = (): number => {
    if (c.pos >= end) throw new Error("the thrift data ends early");
    return bytes[c.pos++]!;
  };
  const varint = (): number => readVarint(c);
  const zigzag = (): number => readZigzag(c);
  const zigzag64 = (): bigint => readZigzagBigInt(c);
  const element = (type: number): Raw => {
    switch (type) {
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_BYTE: {
        const b = byte();
        return b > 127 ? b - 256 : b;
      }
      case T_I16:
      case T_I32:
        return zigzag();
      case T_I64:
        return zigzag64();
      case T_DOUBLE: {
        if (c.pos + 8 > end) throw new Error("the thrift data ends early");
        const value = view.getFloat64(c.pos, true);
        c.pos += 8;
        return value;
      }
      case T_BINARY: {
        const length = varint();
        if (c.pos + length > end) {
          throw new Error(`a thrift binary of ${length} bytes exceeds the data`);
        }
        const value = bytes.subarray(c.pos, c.pos + length);
        c.pos += length;
        return value;
      }
      case T_LIST:
      case T_SET: {
        const header = byte();
        const elementType = header & 0x0f;
        let size = header >> 4;
        if (size === 15) size = varint();
        if (size > end - c.pos && elementType !== T_TRUE && elementType !== T_FALSE) {
          throw new Error(`a thrift list of ${size} elements exceeds the data`);
        }
        const values = new Array(size);
        const bools = elementType === T_TRUE || elementType === T_FALSE;
        for (let i = 0; i < size; i++) values[i] = bools ? byte() === 1 : element(elementType);
        return values;
      }
      case T_STRUCT:
        return struct();
      default:
        throw new Error(`unexpected thrift type ${type}`);
    }
  };
  const struct = (): Raw[] => {
    const out: Raw[] = [];
    let id = 0;
    for (;;) {
      const header = byte();
      const type = header & 0x0f;
      if (type === 0) return out;
      const delta = header >> 4;
      id = delta ? id + delta : zigzag();
      if (id < 0 || id > 1024) throw new Error(`a thrift field id ${id} is out of range`);
      out[id] = element(type);
    }
  };
  return struct();
}
