/**
 * `write`: append a source's rows to a table, or replace its contents, in one
 * commit. Creates the table if it is missing (protocol, metadata and data in
 * version 0, so a failed first write leaves no empty table behind: neither
 * a commit nor, on local disk, the directories it made).
 *
 * Invariants:
 * - Input is streamed: each partition keeps one open Parquet file in memory
 *   that is uploaded when it reaches the target size, so memory is bounded by
 *   the target size per open partition, not by the input.
 * - An input without rows commits nothing (not even a new table).
 * - Nothing is committed unless the whole input was read without error. Data
 *   files uploaded for a write that did not commit are deleted (best effort;
 *   vacuum reclaims what is left), never those of a commit that may have landed.
 * - Files and commits go through ops/append.ts, the path every writer shares.
 *   Before committing, every file is looked up (on S3 one HEAD per file
 *   before the first attempt, a trifle beside its upload): a long input may
 *   outlast a short vacuum retention, and a missing file fails the write
 *   instead of being committed.
 * - Several writers may create the same new table at once: one wins version
 *   0, and the others append to it if it has their schema and partitioning
 *   (an error naming the difference otherwise).
 * - With an application id and version (`txn`), a batch that the table
 *   already holds is not written again.
 */

import { checkConstraints, type TableConstraint, tableConstraints } from "./constraints.ts";
import type { ColumnBatch, Field } from "../columnar/batch.ts";
import type { Action, Metadata } from "../delta/actions.ts";
import { TableNotFoundError } from "../delta/log_segment.ts";
import {
  checkCanWrite,
  inCommitTimestampsEnabled,
  isAppendOnly,
  rowTrackingActive,
} from "../delta/protocol.ts";
import { ROW_TRACKING_DOMAIN, rowTrackingActions } from "../delta/row_tracking.ts";
import {
  columnMappingMode,
  parseSchemaString,
  schemaFromFields,
  type StructField,
  type StructType,
  tableFields,
  typeName,
} from "../delta/schema.ts";
import type { CommitOptions } from "../delta/transaction.ts";
import type { Snapshot } from "../delta/snapshot.ts";
import {
  type Codec,
  DEFAULT_CODEC,
  type EncodeOptions,
  ParquetFileBuilder,
} from "../parquet/encode.ts";
import { log } from "../util/log.ts";
import { yieldToEventLoop } from "../util/event_loop.ts";
import { type AppendResult, appendTarget, commitFiles, HeldFiles } from "./append.ts";
import { createTableActions } from "./create.ts";
import { alignBatch, splitByPartition } from "./data_files.ts";
import { maybeCheckpoint } from "./checkpoint.ts";
import { latestSnapshotOf, type Table } from "./table.ts";
import { activeFiles, fileCount, fileKey, lastAppVersion } from "../delta/replay.ts";

/** A schema and its rows as column batches (every source in sources/ is one). */
export interface BatchSource {
  readonly fields: readonly Field[];
  batches(): AsyncIterable<ColumnBatch>;
}

/** The default size a data file aims for: 128 MiB. */
export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;

/** Options of a write. */
export interface WriteOptions {
  /** Append to the table or replace its contents. @default "append" */
  mode?: "append" | "overwrite";
  /** For a new table: its schema. @default inferred from the source */
  schema?: StructType;
  /** For a new table: its partition columns (must match an existing table's). */
  partitionBy?: string[];
  /** For a new table: its properties. */
  properties?: Record<string, string>;
  /** The size a data file aims for, in bytes. @default 128 MiB */
  targetFileSize?: number;
  /** Parquet encoding. @default Snappy, 1M-row groups */
  encode?: EncodeOptions;
  /** Idempotency: the application and its version for this write. */
  appTxn?: { appId: string; version: number };
  /** Write a checkpoint when the new version is a multiple of delta.checkpointInterval. @default true */
  autoCheckpoint?: boolean;
  /** Retry limits of the commit. */
  commit?: CommitOptions;
  /** Called after each uploaded file, for progress. */
  onFile?: (info: { key: string; rows: number; bytes: number }) => void;
  /** The name of the input in error messages. @default "input" */
  sourceName?: string;
  /**
   * Stops the write before its commit (an interrupted command): it rejects
   * with the signal's reason, commits nothing and deletes the files it
   * uploaded. A commit already in flight is not stopped.
   */
  signal?: AbortSignal;
}

/** What a write did. */
export interface WriteResult {
  table: string;
  /**
   * The committed version; when nothing was committed, the table's latest
   * version (the one that already held this appTxn), or -1 if it has none.
   */
  version: number;
  /** False when nothing was committed: the input was empty, or the appTxn already in. */
  committed: boolean;
  created: boolean;
  /** True if the appTxn was already committed, so nothing was written. */
  alreadyCommitted: boolean;
  /** True if the input had no rows, so nothing was committed (not even a new table). */
  emptyInput: boolean;
  rows: number;
  filesAdded: number;
  filesRemoved: number;
  bytes: number;
  partitions: number;
  checkpointed: boolean;
}

/** The most partition files held open at once before the largest is flushed. */
const MAX_OPEN_FILES = 64;

/**
 * Opens the input once the table's columns are known: `tableFields` is the
 * existing table's schema (so text inputs coerce straight into its types), or
 * undefined for a new table.
 */
export type SourceOpener = (tableFields: Field[] | undefined) => Promise<BatchSource>;

/** Writes a source into a table. */
export async function writeTable(
  table: Table,
  input: BatchSource | SourceOpener,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const mode = options.mode ?? "append";
  const sourceName = options.sourceName ?? "input";
  const codec: Codec = options.encode?.codec ?? DEFAULT_CODEC;

  let snapshot: Snapshot | undefined;
  try {
    snapshot = await latestSnapshotOf(table);
  } catch (error) {
    if (!(error instanceof TableNotFoundError)) throw error;
  }
  // A write that creates the table and commits nothing leaves no trace of
  // it: no files, and no directories (a failed first write left an empty
  // table directory that looked like a table to the next command).
  const creating = snapshot === undefined;
  let fields: Field[];
  let partitionColumns: string[];
  let createActions: Action[] = [];
  let newSchema: StructType | undefined;
  const existingFields = snapshot
    ? tableFields(snapshot.schema, snapshot.metadata.configuration)
    : undefined;
  const source = typeof input === "function" ? await input(existingFields) : input;
  if (snapshot) {
    checkCanWrite(snapshot.protocol, snapshot.metadata, snapshot.schema, {
      kind: mode,
      enforcesConstraints: true,
      writesInCommitTimestamps: true,
      assignsRowIds: true,
    });
    if (mode === "overwrite" && isAppendOnly(snapshot.metadata)) {
      throw new Error(
        `Cannot overwrite ${table.uri}: the table is append-only (delta.appendOnly=true)`,
      );
    }
    partitionColumns = snapshot.metadata.partitionColumns;
    checkExistingTable(snapshot, options);
    fields = existingFields!;
    const committed = options.appTxn && lastAppVersion(snapshot, options.appTxn.appId);
    if (options.appTxn && committed !== undefined && committed >= options.appTxn.version) {
      return nothingCommitted(table.uri, snapshot.version, "already-committed");
    }
  } else {
    // An empty input without a schema has no columns to create a table of:
    // it is an input without rows like any other, and creates nothing.
    if (options.schema === undefined && source.fields.length === 0) {
      return nothingCommitted(table.uri, -1, "empty-input");
    }
    const schema = options.schema ??
      schemaFromFields(source.fields.map((f) => ({ ...f, nullable: true })));
    partitionColumns = options.partitionBy ?? [];
    newSchema = schema;
    createActions = createTableActions({
      schema,
      partitionColumns,
      ...(options.properties ? { properties: options.properties } : {}),
    }).filter((a) => !("commitInfo" in a));
    // The new table's schema may have gained physical names (column mapping).
    const created = createActions.find((a) => "metaData" in a) as { metaData: Metadata };
    fields = tableFields(
      parseSchemaString(created.metaData.schemaString),
      created.metaData.configuration,
    );
  }
  // Invariants and CHECK constraints are checked on every row before upload.
  const constraints = snapshot ? tableConstraints(snapshot.metadata, snapshot.schema, fields) : [];
  const held = new HeldFiles(appendTarget(table.store, fields, partitionColumns), codec);
  let result: AppendResult | undefined;
  // Set while a commit is in flight: if it throws, it may still have landed.
  let inFlight = false;
  const commitOnce = async (readFrom: Snapshot | undefined, create: Action[]) => {
    inFlight = true;
    result = await commitWrite(held, readFrom, create, mode, options);
    inFlight = false;
    return result;
  };
  try {
    const { rows, partitions } = await uploadInput(
      held,
      source,
      fields,
      options,
      sourceName,
      constraints,
    );
    // An empty input (an empty file, a header-only CSV) changes nothing, so a
    // version would only record that nothing happened; in overwrite mode it
    // would empty the table by accident.
    if (rows === 0) return nothingCommitted(table.uri, snapshot?.version ?? -1, "empty-input");
    options.signal?.throwIfAborted();
    result = await commitOnce(snapshot, createActions);
    if (
      result.outcome.kind === "conflict" && !snapshot && result.outcome.atVersion === 0
    ) {
      // Another writer created the table first: append to it if it is ours.
      const winner = await latestSnapshotOf(table);
      checkSameTable(table.uri, winner, newSchema!, partitionColumns);
      if (columnMappingMode(winner.metadata.configuration) !== "none") {
        // Its physical names are not the ones our files were written with.
        await held.discard();
        throw new Error(
          `Cannot write to ${table.uri}: another writer created it at the same time, with column mapping; run the write again`,
        );
      }
      checkCanWrite(winner.protocol, winner.metadata, winner.schema, {
        kind: mode,
        enforcesConstraints: true,
        writesInCommitTimestamps: true,
        assignsRowIds: true,
      });
      snapshot = winner;
      const committed = options.appTxn && lastAppVersion(winner, options.appTxn.appId);
      if (options.appTxn && committed !== undefined && committed >= options.appTxn.version) {
        await held.discard();
        return nothingCommitted(table.uri, winner.version, "already-committed");
      }
      result = await commitOnce(winner, []);
    }
    return await finish(table, result, snapshot, rows, partitions, options);
  } finally {
    // Whatever did not commit (bad input, a conflict) leaves nothing behind.
    // A commit that threw may have landed: its files stay (vacuum reclaims
    // them if it did not).
    if (!inFlight && result?.outcome.kind !== "committed") {
      await held.discard();
      if (creating) await removeMadeDirectories(table);
    }
  }
}

/**
 * Removes the directories a failed first write made (a local table's root
 * and partition directories), once its files are gone; best effort, as the
 * files' removal is: a directory that holds anything stays.
 */
async function removeMadeDirectories(table: Table): Promise<void> {
  try {
    await table.store.removeMadeDirectories?.();
  } catch (error) {
    log("write").warn("Could not remove the directories of {table}: {error}", {
      table: table.uri,
      error: String(error),
    });
  }
}

/** Streams the input into one open file per partition, uploading full files. */
async function uploadInput(
  held: HeldFiles,
  source: BatchSource,
  fields: Field[],
  options: WriteOptions,
  sourceName: string,
  constraints: readonly TableConstraint[] = [],
): Promise<{ rows: number; partitions: number }> {
  const target = options.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE;
  const open = new Map<
    string,
    { values: Record<string, string | null>; directory: string; builder: ParquetFileBuilder }
  >();
  let rows = 0;
  let fileIndex = 0;
  const partitionsSeen = new Set<string>();
  const flush = async (dir: string) => {
    const entry = open.get(dir)!;
    open.delete(dir);
    if (entry.builder.numRows === 0) return;
    const t0 = performance.now();
    const file = entry.builder.finish();
    held.encodeMs += performance.now() - t0;
    const add = await held.upload(entry, file, fileIndex++);
    options.onFile?.({ key: add.path, rows: file.numRows, bytes: file.bytes.byteLength });
    log("write").debug("Uploaded {key}: {rows} rows, {bytes} bytes", {
      key: add.path,
      rows: file.numRows,
      bytes: file.bytes.byteLength,
    });
  };
  for await (const batch of source.batches()) {
    // A source read from local files and full files written to local disk
    // may make no asynchronous call: a stop (`signal`) and the progress
    // timer are served here, once per batch.
    await yieldToEventLoop();
    options.signal?.throwIfAborted();
    const aligned: ColumnBatch = alignBatch(batch, fields, sourceName);
    if (constraints.length) checkConstraints(constraints, aligned, sourceName, rows + 1);
    for (const slice of splitByPartition(aligned, held.target.partitionColumns)) {
      partitionsSeen.add(slice.directory);
      let entry = open.get(slice.directory);
      if (!entry) {
        if (open.size >= MAX_OPEN_FILES) await flush(largestOpen(open));
        entry = {
          values: slice.values,
          directory: slice.directory,
          builder: new ParquetFileBuilder(
            held.target.dataFields,
            options.encode ?? {},
            Math.min(target, 64 << 20),
          ),
        };
        open.set(slice.directory, entry);
      }
      const t0 = performance.now();
      entry.builder.writeBatch(slice.batch);
      held.encodeMs += performance.now() - t0;
      rows += slice.batch.length;
      if (entry.builder.offset >= target) await flush(slice.directory);
    }
  }
  for (const dir of [...open.keys()]) await flush(dir);
  return { rows, partitions: partitionsSeen.size };
}

/** One commit: (create,) remove what is replaced, add what was written. */
function commitWrite(
  held: HeldFiles,
  snapshot: Snapshot | undefined,
  createActions: Action[],
  mode: "append" | "overwrite",
  options: WriteOptions,
): Promise<AppendResult> {
  const removes: Action[] = [];
  const readFiles = new Set<string>();
  if (snapshot && mode === "overwrite") {
    const now = Date.now();
    for (const add of activeFiles(snapshot)) {
      readFiles.add(fileKey(add.path));
      removes.push({
        remove: {
          path: add.path,
          deletionTimestamp: now,
          dataChange: true,
          extendedFileMetadata: true,
          partitionValues: add.partitionValues,
          size: add.size,
        },
      });
    }
  }
  const ict = snapshot !== undefined && inCommitTimestampsEnabled(snapshot.metadata);
  const rowIds = snapshot !== undefined && rowTrackingActive(snapshot.protocol, snapshot.metadata)
    ? { actionsFor: rowTrackingActions(snapshot.domains.get(ROW_TRACKING_DOMAIN)) }
    : {};
  return commitFiles(held, {
    readVersion: snapshot ? snapshot.version : -1,
    leading: [...createActions, ...removes],
    ...(options.appTxn ? { txn: options.appTxn } : {}),
    intent: { readFiles, readWholeTable: mode === "overwrite" },
    description: {
      operation: snapshot ? "WRITE" : "CREATE TABLE AS SELECT",
      operationParameters: {
        mode: mode === "overwrite" ? "Overwrite" : "Append",
        partitionBy: JSON.stringify(held.target.partitionColumns),
      },
      operationMetrics: {
        numFiles: String(held.adds.length),
        numOutputRows: String(held.rows),
        numOutputBytes: String(held.bytes),
        numRemovedFiles: String(removes.length),
      },
      isBlindAppend: mode === "append" && !!snapshot,
    },
    // The input may take longer to read than any hold budget; the retention
    // (7 days unless shortened) and the file check stand in for it.
    holdBudgetMs: Infinity,
    // A lookup is free on local disk; on S3 it is a HEAD per file, paid once
    // rather than on every retry of a contended commit.
    checkFiles: held.target.store.headIsCheap ? "every-attempt" : "first-attempt",
    ...(options.commit || ict || rowIds.actionsFor
      ? {
        commit: { ...options.commit, ...(ict ? { inCommitTimestamps: true } : {}), ...rowIds },
      }
      : {}),
  });
}

/** The write's result from the commit's outcome, or the error that says why nothing was committed. */
async function finish(
  table: Table,
  result: AppendResult,
  snapshot: Snapshot | undefined,
  rows: number,
  partitions: number,
  options: WriteOptions,
): Promise<WriteResult> {
  const outcome = result.outcome;
  switch (outcome.kind) {
    case "committed": {
      const checkpointed = options.autoCheckpoint === false ? false : await maybeCheckpoint(
        table,
        outcome.version,
        snapshot?.metadata.configuration ?? options.properties ?? {},
      );
      return {
        table: table.uri,
        version: outcome.version,
        created: !snapshot,
        committed: true,
        alreadyCommitted: false,
        emptyInput: false,
        rows,
        filesAdded: result.files,
        filesRemoved: options.mode === "overwrite" && snapshot ? fileCount(snapshot) : 0,
        bytes: result.bytes,
        partitions,
        checkpointed,
      };
    }
    case "already-committed":
      return nothingCommitted(table.uri, outcome.atVersion, "already-committed");
    case "conflict":
      throw new Error(
        `Write to ${table.uri} not committed: ${outcome.reason} (at version ${outcome.atVersion}). Nothing was committed; run it again`,
      );
    case "gave-up":
    case "abandoned":
      throw new Error(
        `Write to ${table.uri} not committed: ${outcome.reason}. Nothing was committed; run it again`,
      );
  }
}

/**
 * Refuses to append to a table that another writer created first unless it
 * has the columns and partitioning this write would have created; the error
 * names the first difference.
 */
/**
 * A new table's definition (schema, partitioning, properties) given to a
 * write on a table that exists with another: a write does not change a
 * table's definition, so nothing is committed. `option` says which.
 */
export class TableDefinitionMismatch extends Error {
  readonly option: "schema" | "partitionBy" | "properties";
  constructor(option: TableDefinitionMismatch["option"], message: string) {
    super(message);
    this.name = "TableDefinitionMismatch";
    this.option = option;
  }
}

/** Refuses a schema, partitioning or properties that the existing table does not have. */
function checkExistingTable(snapshot: Snapshot, options: WriteOptions): void {
  const partitionColumns = snapshot.metadata.partitionColumns;
  if (options.partitionBy && options.partitionBy.join(",") !== partitionColumns.join(",")) {
    throw new TableDefinitionMismatch(
      "partitionBy",
      `The table is partitioned by [${partitionColumns.join(", ")}], not by [${
        options.partitionBy.join(", ")
      }]`,
    );
  }
  if (options.schema) {
    const differences = schemaDifferences(snapshot.schema, options.schema, "the schema given");
    if (differences.length > 0) {
      throw new TableDefinitionMismatch(
        "schema",
        `The table exists with another schema: ${
          differences.join("; ")
        }. A write does not change a table's schema`,
      );
    }
  }
  const configuration = snapshot.metadata.configuration;
  for (const [key, value] of Object.entries(options.properties ?? {})) {
    if (configuration[key] !== value) {
      throw new TableDefinitionMismatch(
        "properties",
        `The table exists and its property ${key} is ${
          configuration[key] === undefined ? "not set" : `"${configuration[key]}"`
        }, not "${value}". A write does not change a table's properties`,
      );
    }
  }
}

/** How schema `ours` (named `what`) differs from the table's, column by column. */
function schemaDifferences(table: StructType, ours: StructType, what: string): string[] {
  const describe = (f: StructField) =>
    `${f.name} ${typeName(f.type)}${f.nullable ? "" : " not null"}`;
  const differences: string[] = [];
  for (let i = 0; i < Math.max(table.fields.length, ours.fields.length); i++) {
    const a = table.fields[i];
    const b = ours.fields[i];
    if (!a || !b) {
      differences.push(
        a
          ? `it has column ${describe(a)}, ${what} does not`
          : `${what} has column ${describe(b!)}, the table does not`,
      );
      continue;
    }
    if (describe(a) !== describe(b)) {
      differences.push(`column ${i + 1} is ${describe(a)} in the table, ${describe(b)} in ${what}`);
    }
  }
  return differences;
}

function checkSameTable(
  uri: string,
  winner: Snapshot,
  schema: StructType,
  partitionColumns: readonly string[],
): void {
  const differences = schemaDifferences(winner.schema, schema, "this write");
  if (winner.metadata.partitionColumns.join(",") !== partitionColumns.join(",")) {
    differences.push(
      `it is partitioned by [${winner.metadata.partitionColumns.join(", ")}], this write by [${
        partitionColumns.join(", ")
      }]`,
    );
  }
  if (differences.length > 0) {
    throw new Error(
      `Cannot write to ${uri}: another writer created the table at the same time, and it differs from the one this write would create: ${
        differences.join("; ")
      }. Nothing was committed`,
    );
  }
}

/** The result of a write whose appTxn the table already holds: nothing was written. */
function nothingCommitted(
  table: string,
  version: number,
  why: "already-committed" | "empty-input",
): WriteResult {
  return {
    table,
    version,
    committed: false,
    created: false,
    alreadyCommitted: why === "already-committed",
    emptyInput: why === "empty-input",
    rows: 0,
    filesAdded: 0,
    filesRemoved: 0,
    bytes: 0,
    partitions: 0,
    checkpointed: false,
  };
}

function largestOpen(open: Map<string, { builder: ParquetFileBuilder }>): string {
  let best = "";
  let size = -1;
  for (const [dir, entry] of open) {
    if (entry.builder.offset > size) {
      size = entry.builder.offset;
      best = dir;
    }
  }
  return best;
}
