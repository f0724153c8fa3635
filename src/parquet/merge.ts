/**
 * Compaction support: merges several Parquet files into one. A row group of
 * at least `minRowGroupRows` rows whose file has exactly the output schema is
 * copied byte for byte (its column chunks keep their pages, encodings and
 * codec; only the footer offsets move). Smaller row groups, and any of a file
 * with another schema, are decoded and re-encoded together into row groups of
 * up to `rowGroupRows` rows.
 *
 * A row filter per input (a deletion vector, seen from the Parquet side)
 * drops rows: a row group that loses any row is decoded, never copied.
 * A row transform per input (Delta row tracking: filling the materialized
 * row id columns) rewrites the decoded rows before the filter: a row group
 * it would change is decoded, since a copied chunk cannot change, unless
 * the file lacks exactly the columns the transform makes from nothing
 * (`generates`): then its chunks are copied and only those columns encoded.
 *
 * Invariants: the output holds exactly the input rows that the filters keep. Rows of one input row
 * group stay together and in order; copied groups are written where they are
 * met, re-encoded rows when a full row group has gathered (and at the end).
 * Page indexes and bloom filters of copied chunks are dropped, since their
 * offsets would be stale. The returned statistics are exact.
 *
 * String columns that every re-encoded input stores dictionary-encoded are
 * carried as codes (`string_codes.ts`): each file's dictionary is read into
 * ids, its index runs into the output row group, and the encoder writes the
 * ids as indexes of the strings they use; past `MAX_DICTIONARY` distinct
 * strings a column goes back to strings.
 */

import {
  allocateValues,
  type Column,
  type ColumnBatch,
  type Field,
  takeRows,
} from "../columnar/batch.ts";
import { type ByteSource, bytesSource } from "./byte_source.ts";
import { footerStatistics, type WriterChunk } from "./column_writer.ts";
import { readColumns, readColumnsInto, type ReadTarget } from "./decode.ts";
import {
  DEFAULT_ROW_GROUP_ROWS,
  type EncodedFile,
  type EncodeOptions,
  ParquetFileBuilder,
} from "./encode.ts";
import { type ChunkStats, openParquet, type ParquetFile, type RowGroupInfo } from "./metadata.ts";
import { columnNameOf, elementsOf, inferFields, sameElement, schemaOf } from "./schema.ts";
import type { ColumnType } from "../columnar/types.ts";
import { mapLimit } from "../util/concurrency.ts";
import type { ColumnStats } from "./stats.ts";
import { MAX_DICTIONARY } from "./dictionary.ts";
import { type CodedColumn, decodeStrings, isCoded, StringCodes } from "./string_codes.ts";

/** One input: an opened file, a byte source, or bytes in memory. */
export type MergeInput = ParquetFile | ByteSource | { bytes: Uint8Array; name?: string };

/** How inputs are merged. */
export interface MergeOptions extends EncodeOptions {
  /** Row groups with at least this many rows are copied without decoding. */
  minRowGroupRows: number;
  /** The output fields. @default the fields of the first input */
  fields?: Field[];
  /**
   * Per input (same index), which rows of a row group to keep: positions
   * relative to the group's first row, or undefined to keep them all.
   */
  rowFilters?: (RowFilter | undefined)[];
  /**
   * Per input (same index), a rewrite of each decoded row group, in place,
   * before its row filter: `rowStart` is the group's first row in its file.
   * A row group the transform would change is decoded, never copied.
   */
  rowTransforms?: (RowTransform | undefined)[];
}

/**
 * Rewrites a decoded row group in place; `rowStart` is its first row's
 * position in its file. `unchanged`, when given, tells from a group's footer
 * that the rewrite would change nothing there: such a group may be copied.
 */
export type RowTransform = ((rowStart: number, batch: ColumnBatch) => void) & {
  unchanged?: (group: RowGroupInfo) => boolean;
  /**
   * How many of the output's last columns the transform makes from nothing
   * when a file lacks them (null in, values out): a large row group of a
   * file that has exactly the other columns is then copied, and only these
   * columns are encoded beside its chunks.
   */
  generates?: number;
};

/** Rows of `[rowStart, rowStart + numRows)` to keep, relative to `rowStart`; undefined keeps all. */
export type RowFilter = (rowStart: number, numRows: number) => Uint32Array | undefined;

/** A merged file, with how its row groups were made. */
export interface MergedFile extends EncodedFile {
  /** Row groups copied byte for byte. */
  copiedRowGroups: number;
  /** Row groups decoded and re-encoded (input groups, not output groups). */
  decodedRowGroups: number;
}

/**
 * Merges inputs into one file.
 *
 * @example
 * ```ts
 * const merged = await mergeParquet(
 *   [{ bytes: a, name: "a.parquet" }, { bytes: b, name: "b.parquet" }],
 *   { minRowGroupRows: 100_000 },
 * );
 * ```
 */
export async function mergeParquet(
  inputs: MergeInput[],
  options: MergeOptions,
): Promise<MergedFile> {
  if (!inputs.length) throw new RangeError("Cannot merge Parquet files: no inputs were given");
  // Footers are read in parallel: with many small inputs, one at a time is
  // mostly waiting.
  const files = await mapLimit(inputs, 16, open);
  const fields = options.fields ?? inferFields(files[0]!.schema, files[0]!.name);
  const target = schemaOf(fields);
  const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  const sizeHint = files.reduce((n, f) => n + f.source.byteLength, 0) * 1.1 + 4096;
  const builder = new ParquetFileBuilder(fields, options, sizeHint);

  // Which groups are copied and which decoded, and so how many rows the
  // re-encoded row groups hold, before any byte is read: each output batch is
  // allocated once, at its exact size, and small groups decode straight into it.
  const steps: Step[] = [];
  let decodedRows = 0;
  for (const [f, file] of files.entries()) {
    const sameSchema = sameSchemaAs(file, target);
    const filter = options.rowFilters?.[f];
    const transform = options.rowTransforms?.[f];
    for (const group of file.rowGroups) {
      if (group.numRows === 0) continue;
      const keep = filter?.(group.rowStart, group.numRows);
      const rewrite = transform && !transform.unchanged?.(group);
      const large = !keep && group.numRows >= options.minRowGroupRows;
      const stats = sameSchema && large && !rewrite
        ? copyableStats(file, group, fields)
        : undefined;
      // A group lacking only the columns the transform makes: copied, and those encoded.
      const extendFrom = transform?.generates ? fields.length - transform.generates : undefined;
      const prefixStats = !stats && large && rewrite && extendFrom !== undefined &&
          sameSchemaAs(file, schemaOf(fields.slice(0, extendFrom)))
        ? copyableStats(file, group, fields.slice(0, extendFrom))
        : undefined;
      if (stats) steps.push({ file, group, stats });
      else if (prefixStats) {
        steps.push({
          file,
          group,
          stats: prefixStats,
          extend: { transform: transform!, from: extendFrom! },
        });
      } else {
        const rows = keep ? keep.length : group.numRows;
        steps.push({ file, group, keep, rows, transform });
        decodedRows += rows;
      }
    }
  }

  // Flat string fields whose every decoded chunk is dictionary-encoded are
  // held as codes: ids gathered from each file's dictionary, written back as
  // dictionary indexes (see string_codes.ts).
  const coded: (StringCodes | undefined)[] = fields.map((field) =>
    field.type === "string" &&
      steps.every((step) => "stats" in step || dictionaryChunk(step, columnNameOf(field)))
      ? new StringCodes()
      : undefined
  );

  let copied = 0;
  let decoded = 0;
  let out: ReadTarget | undefined;
  const emit = () => {
    for (const column of out!.columns) {
      if (column.nulls && !column.nulls.includes(1)) column.nulls = undefined;
    }
    builder.writeBatch({ fields, columns: out!.columns, length: out!.length });
    out = undefined;
  };
  const next = (): ReadTarget => {
    if (out) return out;
    const length = Math.min(rowGroupRows, decodedRows);
    decodedRows -= length;
    return out = {
      columns: fields.map((field, c): Column => {
        const codes = coded[c];
        return codes
          ? { values: new Int32Array(length), codes } as CodedColumn
          : { values: allocateValues(field.type, length) };
      }),
      length,
      at: 0,
    };
  };
  for (const step of steps) {
    if ("stats" in step) {
      const groupStart = builder.offset;
      let chunks = await copyRowGroup(builder, step.file, step.group, step.stats);
      let stats = step.stats;
      if (step.extend) {
        const made = extensionColumns(fields, step.group, step.extend);
        const written = builder.writeColumns(made, step.extend.from);
        chunks = [...chunks, ...written.chunks];
        stats = [...stats, ...written.stats];
      }
      builder.pushRowGroup(chunks, step.group.numRows, groupStart, stats);
      copied++;
      continue;
    }
    decoded++;
    if (step.rows === 0) continue;
    const into = next();
    const read = { fields, rowGroups: [step.group.index] };
    if (!step.keep && !step.transform && step.rows <= into.length - into.at) {
      into.at += await readColumnsInto(step.file, read, into);
    } else {
      // Rows to rewrite or filter, or more than the batch has room for: decode on the side.
      let batch = await readColumns(step.file, read);
      step.transform?.(step.group.rowStart, batch);
      if (step.keep) batch = takeRows(batch, step.keep);
      for (let from = 0; from < batch.length;) {
        const to = next();
        const count = Math.min(batch.length - from, to.length - to.at);
        copyRows(batch, from, count, to);
        from += count;
        to.at += count;
        if (to.at === to.length) emit();
      }
    }
    if (out && out.at === out.length) emit();
    // Codes that grew past what a dictionary holds go back to strings.
    coded.forEach((codes, c) => {
      if (!codes || codes.size <= MAX_DICTIONARY) return;
      coded[c] = undefined;
      const column = out?.columns[c];
      if (column && isCoded(column)) out!.columns[c] = uncoded(column, out!.length);
    });
  }
  const result = builder.finish();
  // NaN counts are not in Parquet footers, so copied groups leave them unknown.
  if (copied) { for (const column of result.columns) delete column.nanCount; }
  return { ...result, copiedRowGroups: copied, decodedRowGroups: decoded };
}

/** Whether a file's schema is exactly `target` (the root's name aside). */
function sameSchemaAs(file: ParquetFile, target: ReturnType<typeof schemaOf>): boolean {
  return file.metadata.schema.length === target.length &&
    file.metadata.schema.every((e, i) => i === 0 || sameElement(e, target[i]!));
}

/**
 * The columns `from`.. of a copied row group, made by its transform from
 * nulls (the columns before are empty: their chunks are copied).
 */
function extensionColumns(
  fields: Field[],
  group: RowGroupInfo,
  extend: { transform: RowTransform; from: number },
): ColumnBatch {
  const n = group.numRows;
  const batch: ColumnBatch = {
    fields,
    length: n,
    columns: fields.map((field, c): Column =>
      c < extend.from
        ? { values: allocateValues(field.type, 0) }
        : { values: allocateValues(field.type, n), nulls: new Uint8Array(n).fill(1) }
    ),
  };
  extend.transform(group.rowStart, batch);
  for (const column of batch.columns) {
    if (column.nulls && !column.nulls.includes(1)) column.nulls = undefined;
  }
  return batch;
}

/**
 * A row group to copy with its statistics (and, with `extend`, columns
 * from `from` on to make beside it), or to decode (keeping `keep`, `rows` rows).
 */
type Step =
  | {
    file: ParquetFile;
    group: RowGroupInfo;
    stats: ColumnStats[];
    extend?: { transform: RowTransform; from: number };
  }
  | {
    file: ParquetFile;
    group: RowGroupInfo;
    keep: Uint32Array | undefined;
    rows: number;
    transform?: RowTransform | undefined;
  };

/**
 * Whether the chunk of field `c` in a decoded step's row group is
 * dictionary-encoded (the file has the field as a flat column of that name).
 */
function dictionaryChunk(step: Step, name: string): boolean {
  const chunk = step.file.metadata.row_groups[step.group.index]!.columns.find((chunk) =>
    chunk.meta_data?.path_in_schema.length === 1 && chunk.meta_data.path_in_schema[0] === name
  );
  const encodings = chunk?.meta_data?.encodings ?? [];
  return encodings.includes("RLE_DICTIONARY") || encodings.includes("PLAIN_DICTIONARY");
}

/** A coded column as a plain string column of `length` rows (nulls kept). */
function uncoded(column: CodedColumn, length: number): Column {
  return { values: decodeStrings(column, length), nulls: column.nulls };
}

/** Copies rows [from, from + count) of a batch into `to` at `to.at`. */
function copyRows(batch: ColumnBatch, from: number, count: number, to: ReadTarget): void {
  batch.columns.forEach((column, c) => {
    const into = to.columns[c]!;
    if (isCoded(into)) {
      const src = column.values as string[];
      for (let i = 0; i < count; i++) into.values[to.at + i] = into.codes.intern(src[from + i]!);
    } else if (Array.isArray(column.values)) {
      const src = column.values as unknown[];
      const dst = into.values as unknown[];
      for (let i = 0; i < count; i++) dst[to.at + i] = src[from + i];
    } else {
      (into.values as Int32Array).set(
        (column.values as Int32Array).subarray(from, from + count),
        to.at,
      );
    }
    if (column.nulls) {
      (into.nulls ??= new Uint8Array(to.length)).set(
        column.nulls.subarray(from, from + count),
        to.at,
      );
    }
  });
}

async function open(input: MergeInput): Promise<ParquetFile> {
  if ("metadata" in input && "rowGroups" in input) return input;
  if ("bytes" in input) return await openParquet(bytesSource(input.bytes, input.name));
  return await openParquet(input);
}

/**
 * Returns exact statistics for every column of a row group, or undefined if
 * any chunk lacks them (then the group is re-encoded to compute them). The
 * group has the output schema, so its chunks are the fields' leaves in order.
 */
function copyableStats(
  file: ParquetFile,
  group: RowGroupInfo,
  fields: Field[],
): ColumnStats[] | undefined {
  const chunks = file.metadata.row_groups[group.index]!.columns;
  if (chunks.some((c) => !c.meta_data || c.file_path || c.encrypted_column_metadata)) {
    return undefined;
  }
  const out: ColumnStats[] = [];
  let at = 0;
  for (const field of fields) {
    const name = columnNameOf(field);
    if (typeof field.type !== "string") {
      const leaves = elementsOf(field).filter((e) => e.type !== undefined).length;
      const own = chunks.slice(at, at + leaves);
      at += leaves;
      if (own.length !== leaves || own.some((c) => c.meta_data!.path_in_schema[0] !== name)) {
        return undefined;
      }
      const stats = nestedCopyStats(field.type, [name], group);
      if (!stats) return undefined;
      out.push(stats);
      continue;
    }
    const meta = chunks[at++]?.meta_data;
    if (!meta || meta.path_in_schema.length !== 1 || meta.path_in_schema[0] !== name) {
      return undefined;
    }
    const s = group.stats[name];
    const exact = s && exactStats(s, group.numRows);
    if (!exact) return undefined;
    out.push(exact);
  }
  return at === chunks.length ? out : undefined;
}

function exactStats(s: ChunkStats, rows: number): ColumnStats | undefined {
  if (s.nullCount === undefined) return undefined;
  if (s.nullCount === rows) return { nullCount: s.nullCount };
  if (s.min === undefined || s.max === undefined || !s.minExact || !s.maxExact) return undefined;
  return { nullCount: s.nullCount, min: s.min, max: s.max };
}

/**
 * The statistics of a copied nested column from its leaves' footer
 * statistics: a struct's fields, recursively (arrays and maps carry none).
 * The column's own null count is not in the footer; Delta statistics do not
 * use it for nested columns, so it is left at 0. A variant is the exception:
 * its statistics are its null count alone, which is that of its `metadata`
 * binary (required in the group, so absent exactly where the variant is null).
 */
function nestedCopyStats(
  type: ColumnType,
  path: string[],
  group: RowGroupInfo,
): ColumnStats | undefined {
  const out: ColumnStats = { nullCount: 0 };
  if (typeof type === "string" || type.type !== "struct") return out;
  if (type.variant) {
    const s = group.leafStats[[...path, "metadata"].join("\u0000")];
    return s?.nullCount === undefined ? undefined : { nullCount: s.nullCount };
  }
  const fields: Record<string, ColumnStats> = {};
  for (const f of type.fields) {
    const name = columnNameOf(f);
    const childPath = [...path, name];
    if (typeof f.type === "string") {
      const s = group.leafStats[childPath.join("\u0000")];
      const exact = s && exactStats(s, group.numRows);
      if (!exact) return undefined;
      fields[name] = exact;
    } else if (f.type.type === "struct") {
      const child = nestedCopyStats(f.type, childPath, group);
      if (!child) return undefined;
      fields[name] = child;
    }
  }
  out.fields = fields;
  return out;
}

/**
 * Appends a row group's column chunks to the builder and returns their
 * metadata, offsets moved; the caller records the row group.
 */
async function copyRowGroup(
  builder: ParquetFileBuilder,
  file: ParquetFile,
  group: RowGroupInfo,
  stats: ColumnStats[],
): Promise<WriterChunk[]> {
  const chunks = file.metadata.row_groups[group.index]!.columns;
  const spans = chunks.map((chunk) => {
    const meta = chunk.meta_data!;
    const dict = meta.dictionary_page_offset;
    const start = dict !== undefined && dict > 0n && dict < meta.data_page_offset
      ? dict
      : meta.data_page_offset;
    return { start: Number(start), length: Number(meta.total_compressed_size) };
  });
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.start + s.length));
  if (first < 4 || last > file.source.byteLength - 8) {
    throw new RangeError(
      `Cannot copy row group ${group.index} of ${file.name}: its column chunks lie outside the file`,
    );
  }
  const bytes = await file.source.read(first, last - first);
  // Each flat field has one chunk; a nested one has one per leaf.
  const owner: number[] = [];
  builder.fields.forEach((field, f) => {
    const leaves = typeof field.type === "string"
      ? 1
      : elementsOf(field).filter((e) => e.type !== undefined).length;
    for (let i = 0; i < leaves; i++) owner.push(f);
  });
  const flatIndex = (c: number) => owner[c]!;
  const written: WriterChunk[] = chunks.map((chunk, c) => {
    const meta = chunk.meta_data!;
    const flat = typeof builder.fields[owner[c]!]!.type === "string";
    const span = spans[c]!;
    const at = builder.offset;
    builder.appendBytes(bytes.subarray(span.start - first, span.start - first + span.length));
    const shift = BigInt(at - span.start);
    const out = {
      type: meta.type,
      encodings: meta.encodings,
      path_in_schema: meta.path_in_schema,
      codec: meta.codec,
      num_values: meta.num_values,
      total_uncompressed_size: meta.total_uncompressed_size,
      total_compressed_size: meta.total_compressed_size,
      data_page_offset: meta.data_page_offset + shift,
    } as NonNullable<WriterChunk["meta_data"]>;
    // Leaves of nested columns keep exact statistics where we know them
    // (through structs only); other leaves go without.
    const leaf = flat ? undefined : group.leafStats[meta.path_in_schema.join("\u0000")];
    const leafExact = leaf && exactStats(leaf, group.numRows);
    if (flat) out.statistics = footerStatistics(stats[flatIndex(c)]!);
    else if (leafExact) out.statistics = footerStatistics(leafExact);
    if (meta.dictionary_page_offset !== undefined && meta.dictionary_page_offset > 0n) {
      out.dictionary_page_offset = meta.dictionary_page_offset + shift;
    }
    if (meta.index_page_offset !== undefined) {
      out.index_page_offset = meta.index_page_offset + shift;
    }
    if (meta.key_value_metadata) out.key_value_metadata = meta.key_value_metadata;
    if (meta.encoding_stats) {
      out.encoding_stats = meta.encoding_stats as NonNullable<typeof out.encoding_stats>;
    }
    return { file_offset: BigInt(at), meta_data: out };
  });
  return written;
}
