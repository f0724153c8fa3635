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
 * the order asked (or the table's order); one batch is at most one row group,
 * and memory is bounded by the read-ahead (a few row groups), not by the
 * file or table size; with a limit, no file is opened once it has its rows.
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
import { decodeFilePath, isAbsoluteFilePath, parsePartitionValue } from "../delta/partition.ts";
import { columnMappingMode, toBatchFields } from "../delta/schema.ts";
import { type ParsedFileStats, parseStats } from "../delta/stats.ts";
import {
  openParquet,
  type ParquetFile,
  readColumns,
  type RowGroupInfo,
} from "../parquet/decode.ts";
import { dataFileLocation, deletedRowsOf, keptPositions } from "./deletion_vectors.ts";
import { objectSourceOf } from "./object_source.ts";
import {
  bindPredicate,
  type BoundPredicate,
  type ColumnBounds,
  type FileBounds,
  filterRows,
  mayMatch,
  mustMatch,
  parsePredicate,
  predicateColumns,
} from "./predicate.ts";
import { snapshotOf, type Table } from "./table.ts";
import { activeFiles } from "../delta/replay.ts";

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
  /**
   * Read the files in ascending order of this column's minimum in their
   * statistics (files without one first), not by path: a caller that tallies
   * a sequence column then meets it nearly in order. @default by path
   */
  orderBy?: string;
  /** How many row groups are read ahead in parallel. @default 4 */
  concurrency?: number;
  /**
   * The most compressed bytes of row groups read ahead; one row group is
   * always read, however large. @default 64 MiB
   */
  readAheadBytes?: number;
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

/** One piece of a scan's output: rows of one row group of one data file. */
export interface ScanPiece {
  /** The data file's path as the log names it (decoded, unless absolute). */
  file: string;
  batch: ColumnBatch;
}

/**
 * A scan in progress: the output fields, the batches, and running stats.
 * `batches` and `pieces` are two views of one stream: consume one of them.
 */
export interface Scan {
  fields: Field[];
  stats: ScanStats;
  batches: AsyncIterable<ColumnBatch>;
  /** The batches with the file each came from; a file may give several. */
  pieces: AsyncIterable<ScanPiece>;
}

const DEFAULT_READ_AHEAD_BYTES = 64 << 20;

/** A column asked of a scan (`columns`) that the table does not have. */
export class UnknownColumnError extends RangeError {
  constructor(readonly column: string, message: string) {
    super(message);
    this.name = "UnknownColumnError";
  }
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
      throw new UnknownColumnError(
        name,
        `Unknown column "${name}"; the table has: ${
          snapshot.schema.fields.map((f) => f.name).join(", ")
        }`,
      );
    }
  }
  // With column mapping, fields carry their physical names: files, stats and
  // partition values are keyed by those, batches by the logical names.
  const allFields = toBatchFields(
    snapshot.schema.fields,
    columnMappingMode(snapshot.metadata.configuration),
  );
  const predicateText = options.where?.trim();
  const predicate: BoundPredicate | undefined = predicateText
    ? bindPredicate(parsePredicate(predicateText), allFields)
    : undefined;
  const needed = new Set([
    ...(wanted ?? snapshot.schema.fields.map((f) => f.name)),
    ...(predicate ? predicateColumns(predicate) : []),
  ]);
  const readFields = allFields.filter((f) => needed.has(f.name));
  const outFields = wanted ? wanted.map((n) => readFields.find((f) => f.name === n)!) : readFields;
  const dataFields = readFields.filter((f) => !partitionColumns.includes(f.name));
  const partFields = readFields.filter((f) => partitionColumns.includes(f.name));
  const outDataFields = outFields.filter((f) => !partitionColumns.includes(f.name));
  const outPartFields = outFields.filter((f) => partitionColumns.includes(f.name));
  const statFields = allFields.filter((f) =>
    typeof f.type === "string" && !partitionColumns.includes(f.name)
  );
  const physicalOf = new Map(allFields.map((f) => [f.name, f.physicalName ?? f.name]));

  let files = [...activeFiles(snapshot)].sort((
    a,
    b,
  ) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (options.orderBy !== undefined) files = byMinimum(files, options.orderBy, allFields);
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
    allFields.flatMap((f) => typeof f.type === "string" ? [[f.name, f.type] as const] : []),
  );
  const selected: Selected[] = [];
  for (const add of files) {
    const partition = new Map<string, Scalar>();
    for (const name of partitionColumns) {
      const type = allTypes.get(name);
      const key = physicalOf.get(name) ?? name;
      if (type) partition.set(name, parsePartitionValue(add.partitionValues[key], type, name));
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
  const readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;

  /** The row groups of one file that may match, opened when first needed. */
  async function openEntry(entry: Selected): Promise<OpenedFile> {
    const { store, key } = await dataFileLocation(table, entry.add.path);
    const [file, deleted] = await Promise.all([
      objectSourceOf(store, key, entry.add.size).then(openParquet),
      deletedRowsOf(table, entry.add),
    ]);
    stats.filesRead++;
    stats.bytesRead += entry.add.size;
    // A file written before a column's type was widened (typeWidening) keeps
    // bounds of the older type in its footer: they order nothing at the new type.
    const storedTypes = new Map(file.columns.map((c) => [c.name, c.kind.type]));
    const groups = file.rowGroups.filter((group) => {
      if (group.numRows === 0) return false;
      const keep = !predicate || entry.whole || mayMatch(predicate, {
        numRecords: group.numRows,
        column: (name) => {
          if (entry.partition.has(name)) {
            return partitionBounds(entry.partition.get(name)!, group.numRows);
          }
          const physical = physicalOf.get(name) ?? name;
          const s = group.stats[physical];
          if (!s) return undefined;
          if (storedTypes.get(physical) !== allTypes.get(name)) return { nullCount: s.nullCount };
          return { min: s.min, max: s.max, nullCount: s.nullCount };
        },
      });
      if (!keep) stats.rowGroupsSkipped++;
      return keep;
    });
    return { entry, file, deleted, groups, next: 0 };
  }

  /** Reads one row group: the unit of memory a scan holds per read ahead. */
  async function readGroup(opened: OpenedFile, group: RowGroupInfo): Promise<ColumnBatch> {
    const { entry, file, deleted } = opened;
    let batch = await readColumns(file, {
      fields: entry.whole ? outDataFields : dataFields,
      rowGroups: [group.index],
    });
    stats.rowGroupsRead++;
    stats.rowsRead += batch.length;
    if (deleted.length > 0) {
      batch = takeRows(batch, keptPositions(deleted, group.rowStart, group.numRows));
    }
    let out = entry.whole
      ? withPartitions(batch, outFields, outPartFields, entry.partition)
      : withPartitions(batch, readFields, partFields, entry.partition);
    if (!entry.whole && predicate) out = takeRows(out, filterRows(predicate, out));
    return project(out, outFields);
  }

  async function* pieces(): AsyncGenerator<ScanPiece> {
    // Row groups are read in order with a bounded read-ahead: at most
    // `concurrency` groups and `readAheadBytes` compressed bytes in flight
    // (always at least one), and with a limit, no group beyond those that
    // may still be needed (a group gives at most its row count).
    const pending: {
      file: string;
      batch: Promise<ColumnBatch>;
      bytes: number;
      rows: number;
    }[] = [];
    let pendingBytes = 0;
    let pendingRows = 0;
    let fileIndex = 0;
    let current: OpenedFile | undefined;
    const nextGroup = async (): Promise<[OpenedFile, RowGroupInfo] | undefined> => {
      while (!current || current.next >= current.groups.length) {
        const entry = selected[fileIndex++];
        if (!entry) return undefined;
        current = await openEntry(entry);
      }
      return [current, current.groups[current.next++]!];
    };
    let exhausted = false;
    try {
      while (stats.rowsReturned < limit) {
        while (
          !exhausted && (pending.length === 0 || (
            pending.length < concurrency && pendingBytes < readAheadBytes &&
            pendingRows < limit - stats.rowsReturned
          ))
        ) {
          const next = await nextGroup();
          if (!next) {
            exhausted = true;
            break;
          }
          const [opened, group] = next;
          const batch = readGroup(opened, group);
          // Handled when taken; until then, a failure must not go unobserved.
          batch.catch(() => {});
          pending.push({
            file: logPath(opened.entry.add.path),
            batch,
            bytes: group.compressedSize,
            rows: group.numRows,
          });
          pendingBytes += group.compressedSize;
          pendingRows += group.numRows;
        }
        const head = pending.shift();
        if (!head) return;
        pendingBytes -= head.bytes;
        pendingRows -= head.rows;
        let batch = await head.batch;
        const room = limit - stats.rowsReturned;
        if (batch.length > room) batch = sliceBatch(batch, 0, room);
        if (batch.length === 0) continue;
        stats.rowsReturned += batch.length;
        yield { file: head.file, batch };
      }
    } finally {
      // Reads still in flight when the consumer stops are left to finish; their
      // failures were already observed above.
      pending.length = 0;
    }
  }
  async function* batchesOf(source: AsyncIterable<ScanPiece>): AsyncGenerator<ColumnBatch> {
    for await (const piece of source) yield piece.batch;
  }
  const stream = pieces();
  return { fields: outFields, stats, batches: batchesOf(stream), pieces: stream };
}

/** A file chosen by data skipping. */
interface Selected {
  add: Add;
  partition: Map<string, Scalar>;
  /** Every row matches: read only the output columns, filter nothing. */
  whole: boolean;
}

/** A file being read: its footer and the row groups still to read. */
interface OpenedFile {
  entry: Selected;
  file: ParquetFile;
  /** Positions of the rows the file's deletion vector deletes, ascending. */
  deleted: Float64Array;
  groups: RowGroupInfo[];
  next: number;
}

/**
 * A partition column's bounds in a file: its one value for every row, or
 * null for every row, known even where the file's row count is not.
 */
function partitionBounds(value: Scalar, rows: number): ColumnBounds {
  return value === null
    ? { nullCount: rows, allNull: true }
    : { min: value, max: value, nullCount: 0 };
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

function logPath(path: string): string {
  return isAbsoluteFilePath(path) ? path : decodeFilePath(path);
}

/**
 * `files` in ascending order of `column`'s minimum in their statistics,
 * those without one first, the rest of the order kept (a stable sort).
 */
function byMinimum(files: Add[], column: string, fields: readonly Field[]): Add[] {
  const field = fields.find((f) => f.name === column);
  if (!field || typeof field.type !== "string") {
    throw new RangeError(`Cannot order a scan by "${column}": it is not a primitive column`);
  }
  const keyed = files.map((add) => {
    const min = parseStats(add.stats, [field])?.columns.get(field.name)?.min;
    return { add, min: typeof min === "number" || typeof min === "bigint" ? min : undefined };
  });
  keyed.sort((a, b) => {
    if (a.min === undefined || b.min === undefined) {
      return a.min === undefined ? (b.min === undefined ? 0 : -1) : 1;
    }
    return a.min < b.min ? -1 : a.min > b.min ? 1 : 0;
  });
  return keyed.map((k) => k.add);
}
