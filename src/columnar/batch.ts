/**
 * Column batches: the in-memory form of rows from a source to the Parquet
 * encoder and back from the decoder. Data stays columnar, in typed arrays, so
 * that the hot path allocates nothing per row.
 *
 * Value layout by type (see `representationOf`):
 * - byte, short, integer, date (days since epoch): `Int32Array`
 * - long, timestamp and timestamp_ntz (microseconds since epoch): `BigInt64Array`
 * - float: `Float32Array`; double: `Float64Array`
 * - boolean: `Uint8Array` of 0 and 1
 * - string: `string[]`; binary: `Uint8Array[]`
 * - decimal: `bigint[]` of unscaled values
 * - struct, array and map: `unknown[]` of JS values: a struct is a plain
 *   object keyed by its fields' (logical) names, an array a JS array, a map a
 *   JS `Map`; their primitive values are single values of the representation
 *   above, except that booleans are `true` / `false`; a null is `null`
 *
 * Invariant: every column of a batch has `length` values. Where `nulls[i]` is 1
 * the value at `i` is null and its slot holds a placeholder (0, "" or empty).
 */

import { type ColumnField, type ColumnType, representationOf } from "./types.ts";

/** The values of one column. */
export type ColumnValues =
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array
  | string[]
  | Uint8Array[]
  | bigint[]
  | unknown[];

/** One column of a batch. */
export interface Column {
  values: ColumnValues;
  /** 1 where the value is null; absent when the column has no nulls. */
  nulls?: Uint8Array | undefined;
}

/** A named, typed field of a batch. */
export type Field = ColumnField;

/** Rows held as columns. */
export interface ColumnBatch {
  fields: Field[];
  columns: Column[];
  length: number;
}

/** Allocates a column of `length` placeholder values for `type`. */
export function allocateValues(type: ColumnType, length: number): ColumnValues {
  switch (representationOf(type)) {
    case "int32":
      return new Int32Array(length);
    case "int64":
      return new BigInt64Array(length);
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "bool":
      return new Uint8Array(length);
    case "string":
      return new Array<string>(length).fill("");
    case "binary":
      return Array.from({ length }, () => new Uint8Array(0));
    case "decimal":
      return new Array<bigint>(length).fill(0n);
    case "nested":
      return new Array<unknown>(length).fill(null);
  }
}

/** Counts the nulls of a column. */
export function nullCount(column: Column): number {
  const nulls = column.nulls;
  if (!nulls) return 0;
  let count = 0;
  for (let i = 0; i < nulls.length; i++) count += nulls[i]!;
  return count;
}

/** True if row `i` of `column` is null. */
export function isNull(column: Column, i: number): boolean {
  return column.nulls !== undefined && column.nulls[i] === 1;
}

/** Returns the column named `name`, or undefined. */
export function columnByName(
  batch: ColumnBatch,
  name: string,
): Column | undefined {
  const index = batch.fields.findIndex((f) => f.name === name);
  return index < 0 ? undefined : batch.columns[index];
}

/** Returns rows [start, end) of a batch; typed arrays are views, not copies. */
export function sliceBatch(
  batch: ColumnBatch,
  start: number,
  end: number,
): ColumnBatch {
  return {
    fields: batch.fields,
    columns: batch.columns.map((c) => ({
      values: sliceValues(c.values, start, end),
      nulls: c.nulls?.subarray(start, end),
    })),
    length: end - start,
  };
}

function sliceValues(values: ColumnValues, start: number, end: number): ColumnValues {
  return Array.isArray(values)
    ? values.slice(start, end) as ColumnValues
    : (values as Int32Array).subarray(start, end) as ColumnValues;
}

/** Picks rows by index into a new batch (used for filtering and partition splits). */
export function takeRows(batch: ColumnBatch, rows: Uint32Array | number[]): ColumnBatch {
  const n = rows.length;
  return {
    fields: batch.fields,
    length: n,
    columns: batch.columns.map((c, ci) => {
      const type = batch.fields[ci]!.type;
      const out = allocateValues(type, n);
      const src = c.values as ArrayLike<unknown>;
      const dst = out as unknown as { [i: number]: unknown };
      for (let i = 0; i < n; i++) dst[i] = src[rows[i]!];
      let nulls: Uint8Array | undefined;
      if (c.nulls) {
        nulls = new Uint8Array(n);
        for (let i = 0; i < n; i++) nulls[i] = c.nulls[rows[i]!]!;
      }
      return { values: out, nulls };
    }),
  };
}

/**
 * Joins one array-valued column of many batches with the engine's own
 * `concat`, far faster than copying element by element into a filled array.
 */
function concatArrays(batches: ColumnBatch[], ci: number): ColumnValues {
  const parts = batches.map((b) => {
    const values = b.columns[ci]!.values as unknown[];
    return values.length === b.length ? values : values.slice(0, b.length);
  });
  let out: unknown[] = [];
  // concat takes its parts as arguments; keep each call well under the limit.
  for (let i = 0; i < parts.length; i += 8192) out = out.concat(...parts.slice(i, i + 8192));
  return out as ColumnValues;
}

/** Concatenates batches that share the same fields. */
export function concatBatches(batches: ColumnBatch[]): ColumnBatch {
  const first = batches[0];
  if (!first) throw new RangeError("Cannot concatenate zero batches");
  if (batches.length === 1) return first;
  const length = batches.reduce((n, b) => n + b.length, 0);
  const columns = first.fields.map((field, ci) => {
    const anyNulls = batches.some((b) => b.columns[ci]!.nulls !== undefined);
    const nulls = anyNulls ? new Uint8Array(length) : undefined;
    const values = Array.isArray(first.columns[ci]!.values)
      ? concatArrays(batches, ci)
      : allocateValues(field.type, length);
    let offset = 0;
    for (const b of batches) {
      const c = b.columns[ci]!;
      if (!Array.isArray(values)) {
        const src = c.values as Int32Array;
        (values as Int32Array).set(
          src.length === b.length ? src : src.subarray(0, b.length),
          offset,
        );
      }
      if (nulls && c.nulls) nulls.set(c.nulls.subarray(0, b.length), offset);
      offset += b.length;
    }
    return { values, nulls };
  });
  return { fields: first.fields, columns, length };
}
