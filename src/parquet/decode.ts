/**
 * Parquet bytes to columns: `readColumns` reads chosen columns of chosen row
 * groups into a `ColumnBatch` for wanted fields (projection, row-group
 * skipping, schema evolution and type widening), and `readRecords` reads
 * nested data (checkpoints) as plain JS objects. Both use hyparquet's
 * columnar reader and keep values exact: no Dates, timestamps in
 * microseconds as bigint, decimals as unscaled bigint.
 *
 * Invariants: the batch has exactly the wanted fields, in order, and one row
 * per row of the selected row groups, in file order; a wanted field the file
 * lacks is all null; only wanted columns and selected row groups are read.
 */

import { parquetRead, type SchemaElement, type SchemaTree } from "hyparquet";
import { isListLike, isMapLike } from "hyparquet/src/schema.js";
import { allocateValues, type Column, type ColumnBatch, type Field } from "../columnar/batch.ts";
import { asyncBufferOf } from "./byte_source.ts";
import { DECOMPRESSORS } from "./codecs.ts";
import { type ConversionPlan, planConversion } from "./convert.ts";
import type { ParquetFile, RowGroupInfo } from "./metadata.ts";
import { leafKind } from "./schema.ts";
import { bigintFromBytes, floorDiv } from "./stats.ts";

export { type ByteSource, bytesSource } from "./byte_source.ts";
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
  const byName = new Map(file.columns.map((c) => [c.name, c]));
  const schema = file.metadata.schema.slice();
  const plans = new Map<string, { plan: ConversionPlan; column: Column }>();
  const columns: Column[] = fields.map((field) => {
    const values = allocateValues(field.type, length);
    const nulls = new Uint8Array(length);
    const stored = byName.get(field.name);
    if (!stored) {
      nulls.fill(1);
      return { values, nulls };
    }
    if (stored.nested) {
      throw new TypeError(
        `Cannot read column "${field.name}" of ${file.name} as ${field.type}: it is a nested column`,
      );
    }
    if (plans.has(field.name)) {
      throw new TypeError(`Cannot read column "${field.name}" of ${file.name} twice in one batch`);
    }
    const plan = planConversion(stored.element, stored.kind, field, file.name);
    const column = { values, nulls };
    plans.set(field.name, { plan, column });
    schema[schema.indexOf(stored.element)] = plan.element;
    return column;
  });
  if (plans.size && groups.length) {
    const metadata = { ...file.metadata, schema };
    const buffer = asyncBufferOf(file.source);
    const names = [...plans.keys()];
    let base = 0;
    for (const group of groups) {
      const offset = base - group.rowStart;
      try {
        await parquetRead({
          file: buffer,
          metadata,
          columns: names,
          rowStart: group.rowStart,
          rowEnd: group.rowStart + group.numRows,
          compressors: DECOMPRESSORS,
          utf8: false,
          parsers: PARSERS,
          onChunk: ({ columnName, columnData, rowStart }) => {
            const target = plans.get(columnName)!;
            const nulls = target.column.nulls!;
            target.plan.copy(columnData, target.column.values, nulls, rowStart + offset);
          },
        });
      } catch (error) {
        throw new Error(
          `Cannot read row group ${group.index} of ${file.name}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      base += group.numRows;
    }
  }
  for (const column of columns) {
    if (column.nulls && !column.nulls.includes(1)) column.nulls = undefined;
  }
  return { fields, columns, length };
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

/**
 * Reads whole rows as JS objects, for nested data such as Delta checkpoints.
 * Structs become objects, lists arrays, maps plain objects; int64 values are
 * bigint, timestamps bigint microseconds, dates days, decimals unscaled
 * bigint, strings strings and other byte arrays Uint8Array. A null struct,
 * list or map is null.
 *
 * @example
 * ```ts
 * const rows = await readRecords(await openParquet(source), ["add", "metaData"]);
 * ```
 */
export async function readRecords(
  file: ParquetFile,
  columns?: string[],
): Promise<Record<string, unknown>[]> {
  for (const name of columns ?? []) {
    if (!file.columns.some((c) => c.name === name)) {
      throw new RangeError(
        `Cannot read column "${name}" of ${file.name}: the file has no such column`,
      );
    }
  }
  // Decimals are read raw and converted afterwards: hyparquet would make them floats.
  const decimals: SchemaElement[] = [];
  const schema = file.metadata.schema.map((element) => {
    if (element.type && leafKind(element).type?.startsWith("decimal")) {
      decimals.push(element);
      const { converted_type: _c, logical_type: _l, ...rest } = element;
      return rest;
    }
    return element;
  });
  let rows: Record<string, unknown>[] = [];
  try {
    await parquetRead({
      file: asyncBufferOf(file.source),
      metadata: { ...file.metadata, schema },
      ...(columns ? { columns } : {}),
      compressors: DECOMPRESSORS,
      utf8: false,
      rowFormat: "object",
      parsers: {
        timestampFromMilliseconds: (v: bigint) => v * 1000n,
        timestampFromMicroseconds: (v: bigint) => v,
        timestampFromNanoseconds: (v: bigint) => floorDiv(v, 1000n),
        dateFromDays: (v: number) => v,
      },
      onComplete: (result) => {
        rows = result;
      },
    });
  } catch (error) {
    throw new Error(`Cannot read records of ${file.name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (decimals.length) {
    const wanted = new Set(decimals);
    for (const child of file.schema.children) {
      if (columns && !columns.includes(child.element.name)) continue;
      if (!containsAny(child, wanted)) continue;
      const name = child.element.name;
      for (const row of rows) row[name] = fixDecimals(row[name], child, wanted);
    }
  }
  return rows;
}

function containsAny(tree: SchemaTree, elements: Set<SchemaElement>): boolean {
  return elements.has(tree.element) || tree.children.some((c) => containsAny(c, elements));
}

/** Replaces raw decimal values (numbers, bigints, bytes) by unscaled bigints. */
function fixDecimals(value: unknown, tree: SchemaTree, decimals: Set<SchemaElement>): unknown {
  if (value === null || value === undefined || !containsAny(tree, decimals)) return value;
  if (!tree.children.length) {
    return typeof value === "bigint"
      ? value
      : typeof value === "number"
      ? BigInt(value)
      : value instanceof Uint8Array
      ? bigintFromBytes(value)
      : value;
  }
  if (isListLike(tree)) {
    let element = tree.children[0]!;
    if (element.children.length === 1) element = element.children[0]!;
    return (value as unknown[]).map((v) => fixDecimals(v, element, decimals));
  }
  if (isMapLike(tree)) {
    const valueTree = tree.children[0]!.children.find((c) => c.element.name === "value")!;
    const out = value as Record<string, unknown>;
    for (const key of Object.keys(out)) out[key] = fixDecimals(out[key], valueTree, decimals);
    return out;
  }
  const out = value as Record<string, unknown>;
  for (const child of tree.children) {
    out[child.element.name] = fixDecimals(out[child.element.name], child, decimals);
  }
  return out;
}
