/**
 * Data files, shared by every operation that writes them (write, the
 * streaming writer, compaction): aligning a batch to the table's columns,
 * splitting it by partition, naming files, and turning an encoded file into
 * an upload and an `add` action with Delta statistics.
 *
 * Invariants: partition columns are never stored in data files (their values
 * live in `partitionValues`); data file names are unique (a UUID each), so a
 * file is never overwritten; an `add` is built only after its upload finished.
 */

import {
  allocateValues,
  type Column,
  type ColumnBatch,
  type Field,
  takeRows,
} from "../columnar/batch.ts";
import { scalarAt } from "../columnar/scalar.ts";
import {
  type ColumnType,
  describeType,
  fitsType,
  type PrimitiveType,
  representationOf,
} from "../columnar/types.ts";
import type { Add } from "../delta/actions.ts";
import { encodeFilePath, partitionDirectory, serializePartitionValue } from "../delta/partition.ts";
import { buildStatsJson } from "../delta/stats.ts";
import { type Codec, DEFAULT_CODEC, type EncodedFile } from "../parquet/encode.ts";
import { InputError } from "../util/errors.ts";

/** A batch of one partition, holding only the data (non-partition) columns. */
export interface PartitionSlice {
  values: Record<string, string | null>;
  directory: string;
  batch: ColumnBatch;
}

const CODEC_SUFFIX: Record<Codec, string> = {
  SNAPPY: "snappy",
  ZSTD: "zstd",
  GZIP: "gz",
  UNCOMPRESSED: "uncompressed",
};

/** A new, unique data file key inside a partition directory. */
export function dataFileKey(
  directory: string,
  index: number,
  codec: Codec = DEFAULT_CODEC,
): string {
  const name = `part-${String(index % 100000).padStart(5, "0")}-${crypto.randomUUID()}.c000.${
    CODEC_SUFFIX[codec]
  }.parquet`;
  return directory ? `${directory}/${name}` : name;
}

/**
 * Reorders a batch's columns into the table's field order. A table column the
 * batch lacks becomes all null (refused if it is not nullable); a batch column
 * the table lacks is refused; types must match or widen (integer to long,
 * float to double). `source` names the input in errors.
 */
export function alignBatch(
  batch: ColumnBatch,
  tableFields: readonly Field[],
  source: string,
): ColumnBatch {
  const byName = new Map(batch.fields.map((f, i) => [f.name, i]));
  for (const f of batch.fields) {
    if (!tableFields.some((t) => t.name === f.name)) {
      throw new InputError(
        `Column "${f.name}" is not in the table; its columns are: ${
          tableFields.map((t) => t.name).join(", ")
        }`,
        { file: source, column: f.name },
      );
    }
  }
  if (
    batch.fields.length === tableFields.length &&
    batch.fields.every((f, i) =>
      f.name === tableFields[i]!.name && fitsType(f.type, tableFields[i]!.type)
    )
  ) {
    // The table's fields carry nullability and physical names (column mapping).
    return batch.fields === tableFields ? batch : { ...batch, fields: tableFields as Field[] };
  }
  const columns: Column[] = tableFields.map((target) => {
    const index = byName.get(target.name);
    if (index === undefined) {
      if (!target.nullable) {
        throw new InputError(
          `Column "${target.name}" is required by the table but missing from the input`,
          {
            file: source,
            column: target.name,
          },
        );
      }
      return {
        values: allocateValues(target.type, batch.length),
        nulls: new Uint8Array(batch.length).fill(1),
      };
    }
    const have = batch.fields[index]!;
    const column = batch.columns[index]!;
    if (fitsType(have.type, target.type)) return column;
    if (typeof have.type !== "string" || typeof target.type !== "string") {
      throw new InputError(
        `Column "${target.name}" does not match the table: ${
          typeDifference(have.type, target.type, target.name)
        }`,
        { file: source, column: target.name },
      );
    }
    return { values: widen(column, have, target, source), nulls: column.nulls };
  });
  return { fields: tableFields as Field[], columns, length: batch.length };
}

/** Says where two column types first differ, naming the path. */
function typeDifference(have: ColumnType, want: ColumnType, path: string): string {
  const differs = () =>
    `${path} is ${describeType(want)} in the table but ${describeType(have)} in the input`;
  if (typeof have === "string" || typeof want === "string" || have.type !== want.type) {
    return differs();
  }
  if (have.type === "array" && want.type === "array") {
    if (fitsType(have.elementType, want.elementType) && !want.containsNull) {
      return `${path} holds no null elements in the table, but may in the input`;
    }
    return typeDifference(have.elementType, want.elementType, `${path}.element`);
  }
  if (have.type === "map" && want.type === "map") {
    if (!fitsType(have.keyType, want.keyType)) {
      return typeDifference(have.keyType, want.keyType, `${path}.key`);
    }
    if (fitsType(have.valueType, want.valueType) && !want.valueContainsNull) {
      return `${path} holds no null values in the table, but may in the input`;
    }
    return typeDifference(have.valueType, want.valueType, `${path}.value`);
  }
  if (have.type === "struct" && want.type === "struct") {
    for (const f of want.fields) {
      const g = have.fields.find((x) => x.name === f.name);
      if (!g) return `${path}.${f.name} is in the table but not in the input`;
      if (!fitsType(g.type, f.type)) return typeDifference(g.type, f.type, `${path}.${f.name}`);
      if (g.nullable && !f.nullable) {
        return `${path}.${f.name} is not nullable in the table, but is in the input`;
      }
    }
    const extra = have.fields.find((g) => !want.fields.some((f) => f.name === g.name));
    if (extra) return `${path}.${extra.name} is in the input but not in the table`;
    return `the fields of ${path} are in another order than in the table`;
  }
  return differs();
}

function widen(column: Column, have: Field, target: Field, source: string) {
  const from = representationOf(have.type);
  const to = representationOf(target.type);
  const n = (column.values as ArrayLike<unknown>).length;
  if (from === "int32" && to === "int64" && have.type !== "date" && target.type === "long") {
    const out = new BigInt64Array(n);
    const src = column.values as Int32Array;
    for (let i = 0; i < n; i++) out[i] = BigInt(src[i]!);
    return out;
  }
  if (from === "int32" && to === "int32" && have.type !== "date" && target.type !== "date") {
    // byte -> short -> integer widen; narrowing is checked value by value.
    const src = column.values as Int32Array;
    const [lo, hi] = target.type === "byte"
      ? [-128, 127]
      : target.type === "short"
      ? [-32768, 32767]
      : [-2147483648, 2147483647];
    for (let i = 0; i < n; i++) {
      if (column.nulls?.[i] !== 1 && (src[i]! < lo || src[i]! > hi)) {
        throw new InputError(
          `Value ${src[i]} of column "${target.name}" does not fit ${target.type}`,
          {
            file: source,
            column: target.name,
          },
        );
      }
    }
    return src;
  }
  if ((from === "float32" || from === "int32") && to === "float64" && have.type !== "date") {
    return Float64Array.from(column.values as Float32Array);
  }
  throw new InputError(
    `Column "${target.name}" is ${target.type} in the table but ${have.type} in the input`,
    { file: source, column: target.name },
  );
}

/**
 * Splits an aligned batch by the values of the partition columns and drops
 * those columns. Without partition columns the batch is one slice.
 *
 * Rows are grouped by their raw column values (a number, bigint or string per
 * row, looked up in one map per column), so no object or string is made per
 * row; each group's partition values are serialised once. Groups whose
 * values serialise alike share one slice. Rows keep their
 * order within a slice.
 */
export function splitByPartition(
  batch: ColumnBatch,
  partitionColumns: readonly string[],
): PartitionSlice[] {
  if (partitionColumns.length === 0) {
    return [{ values: {}, directory: "", batch }];
  }
  const partIdx = partitionColumns.map((name) => batch.fields.findIndex((f) => f.name === name));
  const dataIdx = batch.fields.map((_, i) => i).filter((i) => !partIdx.includes(i));
  const physicalColumns = partIdx.map((i) =>
    batch.fields[i]!.physicalName ?? batch.fields[i]!.name
  );
  const n = batch.length;
  // group[row] is the row's group so far; each partition column refines it.
  let group = new Uint32Array(n);
  let firstRow: number[] = [0];
  for (const ci of partIdx) {
    const ids = valueIds(batch.columns[ci]!, batch.fields[ci]!.type, n, batch.fields[ci]!.name);
    const next = new Uint32Array(n);
    const combined = new Map<number, number>();
    const nextFirst: number[] = [];
    let lastKey = -1;
    let lastId = 0;
    for (let row = 0; row < n; row++) {
      const key = group[row]! * ids.count + ids.ids[row]!;
      if (key !== lastKey) {
        let id = combined.get(key);
        if (id === undefined) {
          id = nextFirst.length;
          combined.set(key, id);
          nextFirst.push(row);
        }
        lastKey = key;
        lastId = id;
      }
      next[row] = lastId;
    }
    group = next;
    firstRow = nextFirst;
  }
  // Serialise each group's values once; merge groups that serialise alike.
  const slices: { values: Record<string, string | null>; directory: string; count: number }[] = [];
  const sliceOfGroup = new Uint32Array(firstRow.length);
  const byValues = new Map<string, number>();
  for (let g = 0; g < firstRow.length; g++) {
    const row = firstRow[g]!;
    const values: Record<string, string | null> = {};
    for (const ci of partIdx) {
      const field = batch.fields[ci]!;
      const type = field.type as PrimitiveType;
      // Keyed by physical name: with column mapping, the log uses those.
      values[field.physicalName ?? field.name] = serializePartitionValue(
        scalarAt(batch.columns[ci]!, type, row),
        type,
        field.name,
      );
    }
    const key = JSON.stringify(Object.values(values));
    let s = byValues.get(key);
    if (s === undefined) {
      s = slices.length;
      byValues.set(key, s);
      slices.push({ values, directory: partitionDirectory(physicalColumns, values), count: 0 });
    }
    sliceOfGroup[g] = s;
  }
  const dataBatch: ColumnBatch = {
    fields: dataIdx.map((i) => batch.fields[i]!),
    columns: dataIdx.map((i) => batch.columns[i]!),
    length: n,
  };
  if (slices.length === 1) {
    const only = slices[0]!;
    return [{ values: only.values, directory: only.directory, batch: dataBatch }];
  }
  // A counting sort of the rows by slice.
  const sliceOfRow = new Uint32Array(n);
  for (let row = 0; row < n; row++) {
    const s = sliceOfGroup[group[row]!]!;
    sliceOfRow[row] = s;
    slices[s]!.count++;
  }
  const offsets = new Uint32Array(slices.length + 1);
  for (let s = 0; s < slices.length; s++) offsets[s + 1] = offsets[s]! + slices[s]!.count;
  const order = new Uint32Array(n);
  const fill = offsets.slice(0, slices.length);
  for (let row = 0; row < n; row++) order[fill[sliceOfRow[row]!]!++] = row;
  return slices.map((slice, s) => ({
    values: slice.values,
    directory: slice.directory,
    batch: takeRows(dataBatch, order.subarray(offsets[s]!, offsets[s + 1]!)),
  }));
}

/** The map key of null values: distinct from every column value. */
const NULL_KEY = Symbol("null");
/** The map key of -0. */
const NEGATIVE_ZERO_KEY = Symbol("-0");

/**
 * Numbers the distinct values of a column 0..count-1 (null counts as one
 * value). Runs of equal values, the common case, skip the map.
 */
function valueIds(
  column: Column,
  type: Field["type"],
  n: number,
  name: string,
): { ids: Uint32Array; count: number } {
  const ids = new Uint32Array(n);
  const seen = new Map<unknown, number>();
  const values = column.values as ArrayLike<unknown>;
  const nulls = column.nulls;
  // Binary values are arrays, equal by content: key them by their text.
  const binary = representationOf(type) === "binary";
  let last: unknown = NULL_KEY;
  let lastId = 0;
  for (let row = 0; row < n; row++) {
    let value = nulls !== undefined && nulls[row] === 1
      ? NULL_KEY
      : binary
      ? serializePartitionValue(values[row] as Uint8Array, type as PrimitiveType, name)
      : values[row];
    // Maps and === take -0 for 0; its partition value differs.
    if (value === 0 && Object.is(value, -0)) value = NEGATIVE_ZERO_KEY;
    if (row > 0 && value === last) {
      ids[row] = lastId;
      continue;
    }
    let id = seen.get(value);
    if (id === undefined) {
      id = seen.size;
      seen.set(value, id);
    }
    ids[row] = id;
    last = value;
    lastId = id;
  }
  return { ids, count: Math.max(seen.size, 1) };
}

/** The `add` action for an uploaded file. */
export function addFor(
  key: string,
  file: EncodedFile,
  partitionValues: Record<string, string | null>,
  dataFields: readonly Field[],
  options: { dataChange?: boolean; tags?: Record<string, string>; modificationTime?: number } = {},
): Add {
  const add: Add = {
    path: encodeFilePath(key),
    partitionValues,
    size: file.bytes.byteLength,
    modificationTime: options.modificationTime ?? Date.now(),
    dataChange: options.dataChange ?? true,
    stats: buildStatsJson(file.numRows, dataFields, file.columns),
  };
  if (options.tags) add.tags = options.tags;
  return add;
}
