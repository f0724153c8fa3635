/**
 * Parquet bytes to columns: `readColumns` reads chosen columns of chosen row
 * groups into a `ColumnBatch` for wanted fields (projection, row-group
 * skipping, schema evolution and type widening), and `readRecords`
 * (`records.ts`) reads nested data (checkpoints) as plain JS objects. Values
 * stay exact: no Dates, timestamps in microseconds as bigint, decimals as
 * unscaled bigint.
 *
 * One decoder per shape (see docs/architecture.md, "Parquet decoding"):
 *
 * | shape                                         | decoded by                      |
 * |-----------------------------------------------|---------------------------------|
 * | flat primitive columns, numbers and booleans  | typed-array (`column_reader.ts`)|
 * | flat byte arrays (strings, binary, decimals)  | typed-array                     |
 * | checkpoint records: structs, maps and lists   | typed-array leaves, assembled   |
 * |   one level deep (`add.partitionValues`, ...) |   from levels (`records.ts`)    |
 * | nested columns of data files, any depth       | hyparquet (`nested_columns.ts`) |
 *
 * The typed-array decoder owns page framing (DATA_PAGE, DATA_PAGE_V2,
 * dictionary pages), levels and every value encoding: PLAIN,
 * PLAIN_DICTIONARY / RLE_DICTIONARY, RLE booleans, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT; codecs are
 * those of `codecs.ts`. A chunk it cannot decode (a deprecated BIT_PACKED
 * level encoding, the LZO codec) is an error naming the file, column and row
 * group: there is no second decoder to fall back to. hyparquet (its page
 * header reader) stays for Thrift, and its row assembly for data files'
 * nested columns, whose cost is in assembly rather than pages and whose
 * shapes (lists of lists, maps of structs of lists) this decoder does not
 * assemble. Tests compare the typed-array decoder with hyparquet's reader
 * (`tests/_helpers/hyparquet_reference.ts`) and with pyarrow.
 *
 * Invariants: the batch has exactly the wanted fields, in order, and one row
 * per row of the selected row groups, in file order; a wanted field the file
 * lacks is all null; only wanted columns and selected row groups are read.
 */

import type { ColumnChunk, ColumnMetaData, SchemaTree } from "hyparquet";
import { allocateValues, type Column, type ColumnBatch, type Field } from "../columnar/batch.ts";
import { describeType } from "../columnar/types.ts";
import { planConversion } from "./convert.ts";
import { chunkRefusal, decodeChunk, type FastPlan, fastPlanOf } from "./column_reader.ts";
import type { ParquetFile, RowGroupInfo } from "./metadata.ts";
import { findColumnTree, readNestedColumn } from "./nested_columns.ts";
import { describeElement } from "./schema.ts";
import { isCoded } from "./string_codes.ts";

export { type ByteSource, bytesSource } from "./byte_source.ts";
export { groupFields } from "./schema.ts";
export {
  readRecordColumns,
  readRecords,
  type RecordColumns,
  type RecordOptions,
  type RowReader,
} from "./records.ts";
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
}

/** A wanted flat field that the file has, and how it is read. */
interface Planned {
  field: Field;
  plan: FastPlan;
  column: Column;
}

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
 * A flat string column may be held as codes (`string_codes.ts`).
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
    const element = planConversion(stored.element, stored.kind, field, file.name).element;
    const plan = fastPlanOf(element, stored.kind, field);
    if (typeof plan === "string") {
      throw new TypeError(`Cannot read column "${field.name}" of ${file.name}: ${plan}`);
    }
    plans.set(stored.name, { field, plan, column });
  });
  let base = at;
  for (const group of plans.size ? groups : []) {
    await readGroup(file, group, plans, base, length);
    base += group.numRows;
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
 * Decodes the wanted chunks of one row group into rows [base, base +
 * numRows) of their columns, reading exactly their bytes (adjacent chunks in
 * one read).
 */
async function readGroup(
  file: ParquetFile,
  group: RowGroupInfo,
  plans: Map<string, Planned>,
  base: number,
  length: number,
): Promise<void> {
  const jobs: { name: string; meta: ColumnMetaData; plan: FastPlan; start: number; end: number }[] =
    [];
  const chunks = file.metadata.row_groups[group.index]!.columns;
  const where = (name: string) => `column "${name}" of ${file.name} (row group ${group.index})`;
  for (const [name, planned] of plans) {
    const chunk = chunks.find((c) =>
      c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name
    );
    const reason = refusal(planned.plan, chunk);
    if (reason !== undefined) {
      throw new Error(`Cannot read ${where(name)}: ${reason}`);
    }
    const meta = chunk!.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    if (!(start >= 0 && end <= file.source.byteLength)) {
      throw new RangeError(
        `Cannot read ${
          where(name)
        }: its bytes ${start}..${end} lie outside the file of ${file.source.byteLength} bytes`,
      );
    }
    jobs.push({ name, meta, plan: planned.plan, start, end });
  }
  const bytes = await readRanges(file, jobs);
  jobs.forEach((job, i) => {
    const { column } = plans.get(job.name)!;
    const nulls = () => column.nulls ??= new Uint8Array(length);
    const codes = isCoded(column) ? column.codes : undefined;
    const target = { values: column.values, nulls, at: base, rows: group.numRows, codes };
    let outcome;
    try {
      outcome = decodeChunk(bytes[i]!, job.meta.codec, job.plan, target);
    } catch (error) {
      throw new Error(`Cannot read ${where(job.name)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!outcome.decoded) {
      throw new Error(`Cannot read ${where(job.name)}: ${outcome.reason} cannot be decoded`);
    }
  });
}

/** Why a chunk cannot be decoded, judged from the footer before reading it. */
function refusal(plan: FastPlan, chunk: ColumnChunk | undefined): string | undefined {
  const meta = chunk?.meta_data;
  if (!meta) return "the row group has no metadata for it";
  if (chunk.file_path) return "it is stored in another file, which is not read";
  if (meta.type !== plan.physical) {
    return `its chunk says ${meta.type}, the schema ${plan.physical}`;
  }
  const reason = chunkRefusal(meta);
  return reason === undefined ? undefined : `${reason} cannot be decoded`;
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
