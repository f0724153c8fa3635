/**
 * Parquet bytes to columns: `readColumns` reads chosen columns of chosen row
 * groups into a `ColumnBatch` for wanted fields (projection, row-group
 * skipping, schema evolution and type widening), and `readRecords`
 * (`records.ts`) reads nested data (checkpoints) as plain JS objects. Values
 * stay exact: no Dates, timestamps in microseconds as bigint, decimals as
 * unscaled bigint.
 *
 * `readColumns` decodes each column chunk with our typed-array decoder
 * (`column_reader.ts`) where it can, and with hyparquet's columnar reader
 * where it cannot (encodings, page types or codecs it does not know), chunk
 * by chunk. `readRecords` decodes every leaf with the typed-array decoder.
 *
 * Invariants: the batch has exactly the wanted fields, in order, and one row
 * per row of the selected row groups, in file order; a wanted field the file
 * lacks is all null; only wanted columns and selected row groups are read;
 * both decoders give the same batch for the same chunk.
 */

import { type ColumnChunk, type ColumnMetaData, parquetRead, type SchemaTree } from "hyparquet";
import { allocateValues, type Column, type ColumnBatch, type Field } from "../columnar/batch.ts";
import { describeType, representationOf } from "../columnar/types.ts";
import { asyncBufferOf } from "./byte_source.ts";
import { DECOMPRESSORS } from "./codecs.ts";
import { type ConversionPlan, planConversion } from "./convert.ts";
import { chunkRefusal, decodeChunkFast, type FastPlan, fastPlanOf } from "./column_reader.ts";
import type { ParquetFile, RowGroupInfo } from "./metadata.ts";
import { findColumnTree, readNestedColumn } from "./nested_columns.ts";
import { describeElement } from "./schema.ts";

export { type ByteSource, bytesSource } from "./byte_source.ts";
export { readRecords, type RecordOptions } from "./records.ts";
export {
  type ChunkStats,
  openParquet,
  type ParquetColumn,
  type ParquetFile,
  type RowGroupInfo,
} from "./metadata.ts";

/** What `readColumns` reads. */
export interface ReadOptions {
  /** The wanted columns, with the types to read them as. */
  fields: Field[];
  /** Indexes of the row groups to read. @default all */
  rowGroups?: number[];
  /** Reads only the row groups for which this returns true. */
  rowGroupFilter?: (group: RowGroupInfo) => boolean;
  /**
   * Decodes flat column chunks with the typed-array decoder where it can;
   * false decodes every chunk with hyparquet (the reference, and a way out).
   * @default true
   */
  fastDecode?: boolean;
  /** Told which decoder read each column chunk, and why not the fast one. */
  onChunkDecoded?: (event: ChunkDecoded) => void;
}

/** Which decoder read one column chunk. */
export interface ChunkDecoded {
  column: string;
  rowGroup: number;
  decoder: "fast" | "hyparquet";
  /** Why the fast decoder did not read the chunk. */
  reason?: string;
}

/** A wanted field that the file has, and how it is read. */
interface Planned {
  field: Field;
  plan: ConversionPlan;
  /** The fast decoder's plan, or why it has none. */
  fast: FastPlan | string;
  column: Column;
}

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (v: number) => v,
};

/**
 * Reads wanted columns of a file into a batch.
 *
 * @example
 * ```ts
 * const file = await openParquet(source);
 * const batch = await readColumns(file, {
 *   fields: [{ name: "neuron_id", type: "long", nullable: true }],
 *   rowGroupFilter: (g) => (g.stats.neuron_id?.max as number) >= 100,
 * });
 * ```
 */
export async function readColumns(file: ParquetFile, options: ReadOptions): Promise<ColumnBatch> {
  const groups = selectGroups(file, options);
  const length = groups.reduce((n, g) => n + g.numRows, 0);
  const fields = options.fields;
  const columns: Column[] = fields.map((field) => ({
    values: allocateValues(field.type, length),
    nulls: undefined,
  }));
  await decodeGroups(file, groups, options, { columns, length, at: 0 });
  for (const column of columns) {
    if (column.nulls && !column.nulls.includes(1)) column.nulls = undefined;
  }
  return { fields, columns, length };
}

/**
 * Columns that `readColumnsInto` decodes into: `length` rows each, values
 * allocated for the fields' types (`allocateValues`), written from row `at`
 * on. A null mask is made (of `length` entries) where a null is first met.
 */
export interface ReadTarget {
  columns: Column[];
  length: number;
  at: number;
}

/**
 * Reads wanted columns of a file into rows of columns the caller owns, from
 * `target.at` on, and returns how many rows it wrote: merging many small
 * files decodes each straight into the output batch, with no batch per file
 * and no concatenation. Null masks without a null are left in place.
 *
 * @example
 * ```ts
 * const fields = [{ name: "neuron_id", type: "integer" as const, nullable: true }];
 * const columns = fields.map((f) => ({ values: allocateValues(f.type, 2_000) }));
 * let at = 0;
 * for (const file of files) {
 *   at += await readColumnsInto(file, { fields }, { columns, length: 2_000, at });
 * }
 * ```
 */
export async function readColumnsInto(
  file: ParquetFile,
  options: ReadOptions,
  target: ReadTarget,
): Promise<number> {
  const groups = selectGroups(file, options);
  const rows = groups.reduce((n, g) => n + g.numRows, 0);
  if (target.columns.length !== options.fields.length) {
    throw new RangeError(
      `Cannot read ${file.name} into ${target.columns.length} columns: ${options.fields.length} fields are wanted`,
    );
  }
  if (!(target.at >= 0 && target.at + rows <= target.length)) {
    throw new RangeError(
      `Cannot read ${rows} rows of ${file.name} into rows ${target.at}.. of columns of ${target.length} rows`,
    );
  }
  await decodeGroups(file, groups, options, target);
  return rows;
}

/** Decodes the selected groups' rows into `target` from row `target.at` on. */
async function decodeGroups(
  file: ParquetFile,
  groups: RowGroupInfo[],
  options: ReadOptions,
  target: ReadTarget,
): Promise<void> {
  const { length, at } = target;
  const rows = groups.reduce((n, g) => n + g.numRows, 0);
  const fields = options.fields;
  const schema = file.metadata.schema.slice();
  const plans = new Map<string, Planned>();
  const nested: { field: Field; tree: SchemaTree; column: Column }[] = [];
  fields.forEach((field, i) => {
    const column = target.columns[i]!;
    const tree = findColumnTree(file, field);
    const stored = tree && file.columns.find((c) => c.element === tree.element);
    if (!tree || !stored) {
      (column.nulls ??= new Uint8Array(length)).fill(1, at, at + rows);
      return;
    }
    if (typeof field.type !== "string") {
      if (!stored.nested) {
        throw new TypeError(
          `Cannot read column "${field.name}" of ${file.name} as ${
            describeType(field.type)
          }: it is a flat column of ${describeElement(stored.element)}`,
        );
      }
      column.nulls ??= new Uint8Array(length);
      nested.push({ field, tree, column });
      return;
    }
    if (stored.nested) {
      throw new TypeError(
        `Cannot read column "${field.name}" of ${file.name} as ${field.type}: it is a nested column`,
      );
    }
    if (plans.has(stored.name)) {
      throw new TypeError(`Cannot read column "${field.name}" of ${file.name} twice in one batch`);
    }
    const plan = planConversion(stored.element, stored.kind, field, file.name);
    const fast = options.fastDecode === false
      ? "fast decoding is off"
      : fastPlanOf(plan.element, stored.kind, field);
    plans.set(stored.name, { field, plan, fast, column });
    schema[schema.indexOf(stored.element)] = plan.element;
  });
  if (plans.size && groups.length) {
    const metadata = { ...file.metadata, schema };
    const buffer = asyncBufferOf(file.source);
    let base = at;
    for (const group of groups) {
      const offset = base - group.rowStart;
      const slow = await readFast(file, group, plans, base, length, options.onChunkDecoded);
      if (slow.length) {
        try {
          await parquetRead({
            file: buffer,
            metadata,
            columns: slow,
            rowStart: group.rowStart,
            rowEnd: group.rowStart + group.numRows,
            compressors: DECOMPRESSORS,
            utf8: false,
            parsers: PARSERS,
            onChunk: ({ columnName, columnData, rowStart }) => {
              const target = plans.get(columnName)!;
              const column = target.column;
              column.nulls ??= new Uint8Array(length);
              target.plan.copy(columnData, column.values, column.nulls, rowStart + offset);
            },
          });
        } catch (error) {
          throw new Error(
            `Cannot read row group ${group.index} of ${file.name}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      base += group.numRows;
    }
  }
  for (const { field, tree, column } of nested) {
    if (!groups.length) break;
    await readNestedColumn(file, groups, field, tree, {
      values: column.values as unknown[],
      nulls: column.nulls!,
      at,
    });
  }
}

/**
 * Decodes the chunks of one row group that the fast decoder can read into
 * rows [base, base + numRows) of their columns, reading exactly their bytes
 * (adjacent chunks in one read); returns the columns left for hyparquet.
 */
async function readFast(
  file: ParquetFile,
  group: RowGroupInfo,
  plans: Map<string, Planned>,
  base: number,
  length: number,
  report: ReadOptions["onChunkDecoded"],
): Promise<string[]> {
  const slow: string[] = [];
  const jobs: { name: string; meta: ColumnMetaData; fast: FastPlan; start: number; end: number }[] =
    [];
  const chunks = file.metadata.row_groups[group.index]!.columns;
  for (const [name, planned] of plans) {
    const chunk = chunks.find((c) =>
      c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name
    );
    const reason = refusal(planned.fast, chunk);
    if (reason !== undefined) {
      slow.push(name);
      report?.({ column: name, rowGroup: group.index, decoder: "hyparquet", reason });
      continue;
    }
    const meta = chunk!.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    if (!(start >= 0 && end <= file.source.byteLength)) {
      throw new RangeError(
        `Cannot read column "${name}" of ${file.name} (row group ${group.index}): its bytes ${start}..${end} lie outside the file of ${file.source.byteLength} bytes`,
      );
    }
    jobs.push({ name, meta, fast: planned.fast as FastPlan, start, end });
  }
  const bytes = await readRanges(file, jobs);
  jobs.forEach((job, i) => {
    const { column, field } = plans.get(job.name)!;
    const nulls = () => column.nulls ??= new Uint8Array(length);
    const target = { values: column.values, nulls, at: base, rows: group.numRows };
    let outcome;
    try {
      outcome = decodeChunkFast(bytes[i]!, job.meta.codec, job.fast, target);
    } catch (error) {
      throw new Error(
        `Cannot read column "${job.name}" of ${file.name} (row group ${group.index}): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    if (outcome.decoded) {
      report?.({ column: job.name, rowGroup: group.index, decoder: "fast" });
      return;
    }
    resetRows(field, column, base, group.numRows);
    slow.push(job.name);
    report?.({
      column: job.name,
      rowGroup: group.index,
      decoder: "hyparquet",
      reason: outcome.reason,
    });
  });
  return slow;
}

/** Why the fast decoder cannot read a chunk, judged before reading it. */
function refusal(fast: FastPlan | string, chunk: ColumnChunk | undefined): string | undefined {
  if (typeof fast === "string") return fast;
  const meta = chunk?.meta_data;
  if (!meta) return "the row group has no metadata for it";
  if (chunk.file_path) return "it is stored in another file";
  if (meta.type !== fast.physical) {
    return `its chunk says ${meta.type}, the schema ${fast.physical}`;
  }
  return chunkRefusal(meta);
}

/** Reads byte ranges, one read per run of adjacent ranges, all at once. */
async function readRanges(
  file: ParquetFile,
  ranges: { start: number; end: number }[],
): Promise<Uint8Array[]> {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.start - ranges[b]!.start);
  const runs: { start: number; end: number; members: number[] }[] = [];
  for (const i of order) {
    const { start, end } = ranges[i]!;
    const last = runs.at(-1);
    if (last && start === last.end) {
      last.end = end;
      last.members.push(i);
    } else runs.push({ start, end, members: [i] });
  }
  const out: Uint8Array[] = new Array(ranges.length);
  await Promise.all(runs.map(async (run) => {
    const bytes = await file.source.read(run.start, run.end - run.start);
    if (bytes.length !== run.end - run.start) {
      throw new RangeError(
        `Cannot read bytes ${run.start}..${run.end} of ${file.name}: got ${bytes.length} bytes`,
      );
    }
    for (const i of run.members) {
      const { start, end } = ranges[i]!;
      out[i] = bytes.subarray(start - run.start, end - run.start);
    }
  }));
  return out;
}

/** Puts rows [at, at + count) of a column back to placeholders, not null. */
function resetRows(field: Field, column: Column, at: number, count: number): void {
  column.nulls?.fill(0, at, at + count);
  const values = column.values;
  switch (representationOf(field.type)) {
    case "string":
      (values as string[]).fill("", at, at + count);
      return;
    case "binary":
      for (let i = at; i < at + count; i++) (values as Uint8Array[])[i] = new Uint8Array(0);
      return;
    case "decimal":
      (values as bigint[]).fill(0n, at, at + count);
      return;
    default:
      (values as Int32Array).fill(0, at, at + count);
  }
}

function selectGroups(file: ParquetFile, options: ReadOptions): RowGroupInfo[] {
  let groups = file.rowGroups;
  if (options.rowGroups) {
    const wanted = new Set(options.rowGroups);
    for (const index of wanted) {
      if (!Number.isInteger(index) || index < 0 || index >= groups.length) {
        throw new RangeError(
          `Cannot read row group ${index} of ${file.name}: it has ${groups.length} row groups`,
        );
      }
    }
    groups = groups.filter((g) => wanted.has(g.index));
  }
  if (options.rowGroupFilter) groups = groups.filter(options.rowGroupFilter);
  return groups.filter((g) => g.numRows > 0);
}
