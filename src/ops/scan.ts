/**
 * Scanning a table: choose the files of a snapshot, prune them by partition
 * values and statistics (data skipping), prune row groups by their Parquet
 * statistics, read only the needed columns, drop the rows each file's
 * deletion vector deletes, filter rows, and stream column batches with the
 * partition columns filled in.
 *
 * Invariants: a file or row group is skipped only when its bounds prove no
 * row matches (see predicate.ts); rows come out in a deterministic order (files
 * by path, then file order); the batch fields are the requested columns in
 * the order asked (or the table's order).
 */

import {
  allocateValues,
  type Column,
  type ColumnBatch,
  type Field,
  sliceBatch,
  takeRows,
} from "../columnar/batch.ts";
import { type Scalar, setScalar } from "../columnar/scalar.ts";
import type { Add } from "../delta/actions.ts";
import { decodeFilePath, parsePartitionValue } from "../delta/partition.ts";
import { toBatchFields } from "../delta/schema.ts";
import { type ParsedFileStats, parseStats } from "../delta/stats.ts";
import { openParquet, readColumns } from "../parquet/decode.ts";
import { mapLimit } from "../util/concurrency.ts";
import { deletedRowsOf, keptPositions } from "./deletion_vectors.ts";
import { objectSourceOf } from "./object_source.ts";
import {
  bindPredicate,
  type BoundPredicate,
  type FileBounds,
  filterRows,
  mayMatch,
  mustMatch,
  parsePredicate,
  predicateColumns,
} from "./predicate.ts";
import { snapshotOf, type Table } from "./table.ts";

/** What to scan. */
export interface ScanOptions {
  /** Columns to return, in order. @default all */
  columns?: string[];
  /** A `--where` predicate. */
  where?: string;
  /** The version to read. @default the latest */
  version?: number;
  /** The most rows to return. */
  limit?: number;
  /** How many files are read ahead in parallel. @default 4 */
  concurrency?: number;
}

/** What a scan read and skipped; filled in as the scan runs. */
export interface ScanStats {
  version: number;
  filesTotal: number;
  filesSkipped: number;
  filesRead: number;
  rowGroupsRead: number;
  rowGroupsSkipped: number;
  bytesRead: number;
  rowsRead: number;
  rowsReturned: number;
}

/** A scan in progress: the output fields, the batches, and running stats. */
export interface Scan {
  fields: Field[];
  stats: ScanStats;
  batches: AsyncIterable<ColumnBatch>;
}

/** Starts a scan. Errors in columns or the predicate are thrown here. */
export async function scanTable(table: Table, options: ScanOptions = {}): Promise<Scan> {
  const snapshot = await snapshotOf(
    table,
    options.version === undefined ? {} : { version: options.version },
  );
  const partitionColumns = snapshot.metadata.partitionColumns;
  const wanted = options.columns && options.columns.length > 0 ? options.columns : undefined;
  for (const name of wanted ?? []) {
    if (!snapshot.schema.fields.some((f) => f.name === name)) {
      throw new RangeError(
        `Unknown column "${name}"; the table has: ${
          snapshot.schema.fields.map((f) => f.name).join(", ")
        }`,
      );
    }
  }
  const predicateText = options.where?.trim();
  const predicate: BoundPredicate | undefined = predicateText
    ? bindPredicate(
      parsePredicate(predicateText),
      toBatchFields(snapshot.schema.fields.filter((f) => typeof f.type === "string")),
    )
    : undefined;
  const needed = new Set([
    ...(wanted ?? snapshot.schema.fields.map((f) => f.name)),
    ...(predicate ? predicateColumns(predicate) : []),
  ]);
  // Only the columns we read must be primitive; others may be anything.
  const readFields = toBatchFields(snapshot.schema.fields.filter((f) => needed.has(f.name)));
  const outFields = wanted ? wanted.map((n) => readFields.find((f) => f.name === n)!) : readFields;
  const dataFields = readFields.filter((f) => !partitionColumns.includes(f.name));
  const partFields = readFields.filter((f) => partitionColumns.includes(f.name));
  const outDataFields = outFields.filter((f) => !partitionColumns.includes(f.name));
  const outPartFields = outFields.filter((f) => partitionColumns.includes(f.name));
  const statFields = toBatchFields(
    snapshot.schema.fields.filter((f) =>
      typeof f.type === "string" && !partitionColumns.includes(f.name)
    ),
  );

  const files = [...snapshot.files.values()].sort((
    a,
    b,
  ) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const stats: ScanStats = {
    version: snapshot.version,
    filesTotal: files.length,
    filesSkipped: 0,
    filesRead: 0,
    rowGroupsRead: 0,
    rowGroupsSkipped: 0,
    bytesRead: 0,
    rowsRead: 0,
    rowsReturned: 0,
  };
  const allTypes = new Map(
    toBatchFields(snapshot.schema.fields.filter((f) => typeof f.type === "string")).map((
      f,
    ) => [f.name, f.type]),
  );
  const selected: { add: Add; partition: Map<string, Scalar>; whole: boolean }[] = [];
  for (const add of files) {
    const partition = new Map<string, Scalar>();
    for (const name of partitionColumns) {
      const type = allTypes.get(name);
      if (type) partition.set(name, parsePartitionValue(add.partitionValues[name], type, name));
    }
    let whole = !predicate;
    if (predicate) {
      const bounds = fileBounds(parseStats(add.stats, statFields), partition);
      if (!mayMatch(predicate, bounds)) {
        stats.filesSkipped++;
        continue;
      }
      // Every row matches: no need to read predicate-only columns or filter rows.
      whole = mustMatch(predicate, bounds);
    }
    selected.push({ add, partition, whole });
  }

  const limit = options.limit ?? Infinity;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  async function readFile(
    entry: { add: Add; partition: Map<string, Scalar>; whole: boolean },
  ): Promise<{ batch: ColumnBatch; filter: boolean }> {
    const key = decodeFilePath(entry.add.path);
    const [file, deleted] = await Promise.all([
      objectSourceOf(table.store, key, entry.add.size).then(openParquet),
      deletedRowsOf(table, entry.add),
    ]);
    let groupsRead = 0;
    const keptGroups: { rowStart: number; numRows: number }[] = [];
    const fields = entry.whole ? outDataFields : dataFields;
    let batch = await readColumns(file, {
      fields,
      rowGroupFilter: (group) => {
        const keep = !predicate || entry.whole || mayMatch(predicate, {
          numRecords: group.numRows,
          column: (name) => {
            if (entry.partition.has(name)) {
              return partitionBounds(entry.partition.get(name)!, group.numRows);
            }
            const s = group.stats[name];
            return s ? { min: s.min, max: s.max, nullCount: s.nullCount } : undefined;
          },
        });
        if (keep) {
          groupsRead++;
          keptGroups.push(group);
        } else stats.rowGroupsSkipped++;
        return keep;
      },
    });
    stats.rowGroupsRead += groupsRead;
    stats.filesRead++;
    stats.bytesRead += entry.add.size;
    stats.rowsRead += batch.length;
    if (deleted.length > 0) batch = takeRows(batch, liveRows(deleted, keptGroups));
    return entry.whole
      ? { batch: withPartitions(batch, outFields, outPartFields, entry.partition), filter: false }
      : {
        batch: withPartitions(batch, readFields, partFields, entry.partition),
        filter: !!predicate,
      };
  }

  async function* batches(): AsyncGenerator<ColumnBatch> {
    for (let i = 0; i < selected.length && stats.rowsReturned < limit; i += concurrency) {
      const group = selected.slice(i, i + concurrency);
      const results = await mapLimit(group, concurrency, readFile);
      for (const read of results) {
        let batch = read.batch;
        if (read.filter) batch = takeRows(batch, filterRows(predicate!, batch));
        batch = project(batch, outFields);
        const room = limit - stats.rowsReturned;
        if (batch.length > room) batch = sliceBatch(batch, 0, room);
        if (batch.length === 0) continue;
        stats.rowsReturned += batch.length;
        yield batch;
        if (stats.rowsReturned >= limit) return;
      }
    }
  }
  return { fields: outFields, stats, batches: batches() };
}

/**
 * Positions in a batch of the given row groups (in file order, empty groups
 * included or not) of the rows a deletion vector leaves.
 */
function liveRows(
  deleted: Float64Array,
  groups: readonly { rowStart: number; numRows: number }[],
): Uint32Array {
  const parts: Uint32Array[] = [];
  let base = 0;
  let total = 0;
  for (const group of groups) {
    if (group.numRows === 0) continue;
    const kept = keptPositions(deleted, group.rowStart, group.numRows);
    for (let i = 0; i < kept.length; i++) kept[i]! += base;
    parts.push(kept);
    total += kept.length;
    base += group.numRows;
  }
  const out = new Uint32Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function partitionBounds(value: Scalar, rows: number) {
  return value === null ? { nullCount: rows } : { min: value, max: value, nullCount: 0 };
}

function fileBounds(
  parsed: ParsedFileStats | undefined,
  partition: Map<string, Scalar>,
): FileBounds {
  return {
    numRecords: parsed?.numRecords,
    column: (name) => {
      if (partition.has(name)) {
        return partitionBounds(partition.get(name)!, parsed?.numRecords ?? Number.MAX_SAFE_INTEGER);
      }
      return parsed?.columns.get(name);
    },
  };
}

/** Adds constant partition columns to a batch of data columns, in `fields` order. */
function withPartitions(
  data: ColumnBatch,
  fields: readonly Field[],
  partFields: readonly Field[],
  values: Map<string, Scalar>,
): ColumnBatch {
  if (partFields.length === 0) return data;
  const columns: Column[] = fields.map((field) => {
    const index = data.fields.findIndex((f) => f.name === field.name);
    if (index >= 0) return data.columns[index]!;
    const value = values.get(field.name) ?? null;
    const out = allocateValues(field.type, data.length);
    if (value === null) return { values: out, nulls: new Uint8Array(data.length).fill(1) };
    for (let i = 0; i < data.length; i++) setScalar(out, i, value);
    return { values: out };
  });
  return { fields: fields as Field[], columns, length: data.length };
}

function project(batch: ColumnBatch, fields: readonly Field[]): ColumnBatch {
  if (
    batch.fields.length === fields.length &&
    batch.fields.every((f, i) => f.name === fields[i]!.name)
  ) {
    return batch;
  }
  return {
    fields: fields as Field[],
    columns: fields.map((f) => batch.columns[batch.fields.findIndex((b) => b.name === f.name)]!),
    length: batch.length,
  };
}
