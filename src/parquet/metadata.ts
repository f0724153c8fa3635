/**
 * Opening a Parquet file: reads the footer through a `ByteSource`, parses it
 * once (`footer.ts`), and decodes every column chunk's statistics into our
 * representations exactly, from the raw statistics bytes.
 *
 * Invariants: `rowGroups[i].rowStart` is the sum of the rows of the groups
 * before it; a chunk's min/max are given only when the footer has them in
 * an order we trust (min_value/max_value, or the legacy min/max for signed
 * numeric types), and flagged inexact when the writer truncated them.
 */

import { type FileMetaData, parquetSchema, type SchemaElement, type SchemaTree } from "hyparquet";
import type { ByteSource } from "./byte_source.ts";
import { parseFooter, type RawStats } from "./footer.ts";
import { type LeafKind, leafKind } from "./schema.ts";
import { decodeStatBytes, type StatValue } from "./stats.ts";

/** A top-level column of a file. */
export interface ParquetColumn {
  name: string;
  /** The schema element (a group for nested columns). */
  element: SchemaElement;
  /** True for struct, list and map columns. */
  nested: boolean;
  /** What a primitive column holds in our terms. */
  kind: LeafKind;
}

/** The statistics of one column chunk, decoded to our representation. */
export interface ChunkStats {
  nullCount?: number;
  min?: StatValue;
  max?: StatValue;
  /** False when the writer truncated the min (it is then only a lower bound). */
  minExact: boolean;
  /** False when the writer truncated the max (it is then only an upper bound). */
  maxExact: boolean;
}

/** A row group of a file. */
export interface RowGroupInfo {
  index: number;
  numRows: number;
  /** Index of the group's first row in the file. */
  rowStart: number;
  /** Compressed bytes of all its column chunks. */
  compressedSize: number;
  /** Statistics of each flat top-level column, by name (absent if none). */
  stats: Record<string, ChunkStats>;
  /**
   * Statistics of the leaves of nested columns reached through structs only
   * (no list or map on the way), by path joined with `"\u0000"`.
   */
  leafStats: Record<string, ChunkStats>;
}

/** An opened Parquet file. */
export interface ParquetFile {
  /** The name used in messages. */
  name: string;
  source: ByteSource;
  /** hyparquet's parsed footer. */
  metadata: FileMetaData;
  /** The schema as a tree (root first). */
  schema: SchemaTree;
  numRows: number;
  columns: ParquetColumn[];
  rowGroups: RowGroupInfo[];
  /** The footer bytes (thrift FileMetaData), for tools that re-read it. */
  footer: Uint8Array;
}

const TAIL = 1 << 16;
const MAGIC = 0x31524150; // "PAR1" little-endian

/**
 * Opens a Parquet file: reads its footer and decodes its schema and
 * statistics. The source's `name` is used in error messages.
 *
 * @example
 * ```ts
 * const file = await openParquet(bytesSource(bytes, "part-0.parquet"));
 * file.rowGroups[0].stats.timestamp_us.min; // bigint microseconds
 * ```
 */
export async function openParquet(source: ByteSource): Promise<ParquetFile> {
  const name = source.name ?? "Parquet file";
  const size = source.byteLength;
  if (size < 12) throw new Error(`Cannot read ${name}: ${size} bytes is too short for Parquet`);
  let tail = await source.read(Math.max(0, size - TAIL), Math.min(size, TAIL));
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tail.length - 4, true) !== MAGIC) {
    throw new Error(`Cannot read ${name}: it does not end with the Parquet magic PAR1`);
  }
  const footerLength = view.getUint32(tail.length - 8, true);
  if (footerLength + 12 > size) {
    throw new Error(`Cannot read ${name}: its footer length ${footerLength} exceeds the file`);
  }
  if (footerLength + 8 > tail.length) {
    tail = await source.read(size - footerLength - 8, footerLength + 8);
  }
  const footer = tail.subarray(tail.length - 8 - footerLength, tail.length - 8);
  let metadata: FileMetaData;
  let rawStats: (RawStats | undefined)[][];
  try {
    ({ metadata, stats: rawStats } = parseFooter(footer));
  } catch (error) {
    throw new Error(`Cannot read the footer of ${name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const schema = parquetSchema(metadata);
  const columns: ParquetColumn[] = schema.children.map((child) => ({
    name: child.element.name,
    element: child.element,
    nested: child.children.length > 0 || child.element.repetition_type === "REPEATED" ||
      !child.element.type,
    kind: child.element.type ? leafKind(child.element) : { type: undefined },
  }));
  const flat = new Map(columns.filter((c) => !c.nested).map((c) => [c.name, c]));
  const rowGroups: RowGroupInfo[] = [];
  let rowStart = 0;
  metadata.row_groups.forEach((group, index) => {
    const numRows = Number(group.num_rows);
    const stats: Record<string, ChunkStats> = {};
    const leafStats: Record<string, ChunkStats> = {};
    let compressedSize = 0;
    group.columns.forEach((chunk, c) => {
      const meta = chunk.meta_data;
      compressedSize += Number(meta?.total_compressed_size ?? 0n);
      const path = meta?.path_in_schema;
      const raw = rawStats[index]?.[c];
      if (!path || !raw) return;
      const column = path.length === 1 ? flat.get(path[0]!) : undefined;
      if (column) stats[column.name] = chunkStats(raw, column);
      else if (path.length > 1) {
        const leaf = structLeaf(schema, path);
        if (leaf) leafStats[path.join("\u0000")] = chunkStats(raw, leaf);
      }
    });
    rowGroups.push({ index, numRows, rowStart, compressedSize, stats, leafStats });
    rowStart += numRows;
  });
  return {
    name,
    source,
    metadata,
    schema,
    numRows: Number(metadata.num_rows),
    columns,
    rowGroups,
    footer,
  };
}

/** The leaf at `path` as a column, if the path passes through plain structs only. */
function structLeaf(root: SchemaTree, path: string[]): ParquetColumn | undefined {
  let node = root;
  for (const name of path) {
    const child = node.children.find((c) => c.element.name === name);
    if (!child || child.element.repetition_type === "REPEATED") return undefined;
    const annotation = child.element.logical_type?.type ?? child.element.converted_type;
    if (annotation === "LIST" || annotation === "MAP" || annotation === "MAP_KEY_VALUE") {
      return undefined;
    }
    node = child;
  }
  if (node.children.length || !node.element.type) return undefined;
  return {
    name: path.join("."),
    element: node.element,
    nested: false,
    kind: leafKind(node.element),
  };
}

/** Physical types whose legacy (signed) min/max order is the true order. */
function legacyOrderIsTrue(column: ParquetColumn): boolean {
  const { element, kind } = column;
  if (kind.type === undefined || kind.signed === false) return false;
  if (kind.type.startsWith("decimal")) return false;
  return element.type === "INT32" || element.type === "INT64" || element.type === "BOOLEAN" ||
    element.type === "FLOAT" || element.type === "DOUBLE";
}

function chunkStats(raw: RawStats, column: ParquetColumn): ChunkStats {
  const out: ChunkStats = { minExact: raw[8] !== false, maxExact: raw[7] !== false };
  if (raw[3] !== undefined) out.nullCount = Number(raw[3]);
  let minBytes = raw[6];
  let maxBytes = raw[5];
  if ((minBytes === undefined || maxBytes === undefined) && legacyOrderIsTrue(column)) {
    minBytes = raw[2];
    maxBytes = raw[1];
  }
  if (minBytes === undefined || maxBytes === undefined) return out;
  const min = decodeStatBytes(minBytes, column.element, column.kind);
  const max = decodeStatBytes(maxBytes, column.element, column.kind);
  // Some writers stored NaN as a bound; such bounds order nothing.
  if (min === undefined || max === undefined || min !== min || max !== max) return out;
  out.min = min;
  out.max = max;
  return out;
}
