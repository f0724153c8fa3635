/**
 * `write`: append a source's rows to a table, or replace its contents, in one
 * commit. Creates the table if it is missing (protocol, metadata and data in
 * version 0, so a failed first write leaves no empty table behind).
 *
 * Invariants:
 * - Input is streamed: each partition keeps one open Parquet file in memory
 *   that is uploaded when it reaches the target size, so memory is bounded by
 *   the target size per open partition, not by the input.
 * - Nothing is committed unless the whole input was read without error. Data
 *   files uploaded for a failed write are referenced by no commit; vacuum
 *   reclaims them after the retention.
 * - With an application id and version (`txn`), a batch that the table
 *   already holds is not written again.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import type { Action, Add } from "../delta/actions.ts";
import { TableNotFoundError } from "../delta/log_segment.ts";
import { checkCanWrite, isAppendOnly } from "../delta/protocol.ts";
import { schemaFromFields, type StructType, toBatchFields } from "../delta/schema.ts";
import { commit, type CommitOptions, newIntent } from "../delta/transaction.ts";
import { type Codec, type EncodeOptions, ParquetFileBuilder } from "../parquet/encode.ts";
import type { RecordSource } from "../sources/source.ts";
import { log } from "../util/log.ts";
import { createTableActions } from "./create.ts";
import { addFor, alignBatch, dataFileKey, splitByPartition } from "./data_files.ts";
import { maybeCheckpoint } from "./checkpoint.ts";
import { latestSnapshotOf, type Table } from "./table.ts";
import { fileKey, lastAppVersion } from "../delta/replay.ts";

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
}

/** What a write did. */
export interface WriteResult {
  table: string;
  /** The committed version, or the version that already held this appTxn. */
  version: number;
  created: boolean;
  /** True if the appTxn was already committed, so nothing was written. */
  alreadyCommitted: boolean;
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
export type SourceOpener = (tableFields: Field[] | undefined) => Promise<RecordSource>;

/** Writes a source into a table. */
export async function writeTable(
  table: Table,
  input: RecordSource | SourceOpener,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const mode = options.mode ?? "append";
  const target = options.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE;
  const sourceName = options.sourceName ?? "input";
  const codec: Codec = options.encode?.codec ?? "SNAPPY";

  let snapshot;
  try {
    snapshot = await latestSnapshotOf(table);
  } catch (error) {
    if (!(error instanceof TableNotFoundError)) throw error;
  }
  let fields: Field[];
  let partitionColumns: string[];
  let createActions: Action[] = [];
  const tableFields = snapshot ? toBatchFields(snapshot.schema.fields) : undefined;
  const source = typeof input === "function" ? await input(tableFields) : input;
  if (snapshot) {
    checkCanWrite(snapshot.protocol, snapshot.metadata, snapshot.schema);
    if (mode === "overwrite" && isAppendOnly(snapshot.metadata)) {
      throw new Error(
        `Cannot overwrite ${table.uri}: the table is append-only (delta.appendOnly=true)`,
      );
    }
    partitionColumns = snapshot.metadata.partitionColumns;
    if (options.partitionBy && options.partitionBy.join(",") !== partitionColumns.join(",")) {
      throw new Error(
        `The table is partitioned by [${partitionColumns.join(", ")}], not by [${
          options.partitionBy.join(", ")
        }]`,
      );
    }
    fields = tableFields!;
    const committed = options.appTxn && lastAppVersion(snapshot, options.appTxn.appId);
    if (options.appTxn && committed !== undefined && committed >= options.appTxn.version) {
      return alreadyCommitted(table.uri, snapshot.version);
    }
  } else {
    const schema = options.schema ??
      schemaFromFields(source.fields.map((f) => ({ ...f, nullable: true })));
    partitionColumns = options.partitionBy ?? [];
    createActions = createTableActions({
      schema,
      partitionColumns,
      ...(options.properties ? { properties: options.properties } : {}),
    }).filter((a) => !("commitInfo" in a));
    fields = toBatchFields(schema.fields);
  }
  const dataFields = fields.filter((f) => !partitionColumns.includes(f.name));

  // Stream the input into one open file per partition.
  const open = new Map<
    string,
    { values: Record<string, string | null>; dir: string; builder: ParquetFileBuilder }
  >();
  const adds: Add[] = [];
  let rows = 0;
  let bytes = 0;
  let fileIndex = 0;
  const partitionsSeen = new Set<string>();
  const flush = async (dir: string) => {
    const entry = open.get(dir)!;
    open.delete(dir);
    if (entry.builder.numRows === 0) return;
    const file = entry.builder.finish();
    const key = dataFileKey(entry.dir, fileIndex++, codec);
    await table.store.put(key, file.bytes);
    adds.push(addFor(key, file, entry.values, dataFields));
    bytes += file.bytes.byteLength;
    options.onFile?.({ key, rows: file.numRows, bytes: file.bytes.byteLength });
    log("write").debug("Uploaded {key}: {rows} rows, {bytes} bytes", {
      key,
      rows: file.numRows,
      bytes: file.bytes.byteLength,
    });
  };
  for await (const batch of source.batches()) {
    const aligned: ColumnBatch = alignBatch(batch, fields, sourceName);
    for (const slice of splitByPartition(aligned, partitionColumns)) {
      partitionsSeen.add(slice.directory);
      let entry = open.get(slice.directory);
      if (!entry) {
        if (open.size >= MAX_OPEN_FILES) await flush(largestOpen(open));
        entry = {
          values: slice.values,
          dir: slice.directory,
          builder: new ParquetFileBuilder(
            dataFields,
            options.encode ?? {},
            Math.min(target, 64 << 20),
          ),
        };
        open.set(slice.directory, entry);
      }
      entry.builder.writeBatch(slice.batch);
      rows += slice.batch.length;
      if (entry.builder.offset >= target) await flush(slice.directory);
    }
  }
  for (const dir of [...open.keys()]) await flush(dir);

  // One commit: (create,) remove what is replaced, add what was written.
  const removes: Action[] = [];
  const readFiles = new Set<string>();
  if (snapshot && mode === "overwrite") {
    const now = Date.now();
    for (const add of snapshot.files.values()) {
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
  const actions: Action[] = [
    ...createActions,
    ...removes,
    ...adds.map((add) => ({ add })),
    ...(options.appTxn ? [{ txn: { ...options.appTxn, lastUpdated: Date.now() } }] : []),
  ];
  const readVersion = snapshot ? snapshot.version : -1;
  const intent = newIntent(readVersion, {
    readFiles,
    readWholeTable: mode === "overwrite",
    appTxns: options.appTxn ? [options.appTxn] : [],
  });
  const outcome = await commit(table.store, actions, intent, {
    operation: snapshot ? "WRITE" : "CREATE TABLE AS SELECT",
    operationParameters: {
      mode: mode === "overwrite" ? "Overwrite" : "Append",
      partitionBy: JSON.stringify(partitionColumns),
    },
    operationMetrics: {
      numFiles: String(adds.length),
      numOutputRows: String(rows),
      numOutputBytes: String(bytes),
      numRemovedFiles: String(removes.length),
    },
    isBlindAppend: mode === "append" && !!snapshot,
  }, options.commit);
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
        alreadyCommitted: false,
        rows,
        filesAdded: adds.length,
        filesRemoved: removes.length,
        bytes,
        partitions: partitionsSeen.size,
        checkpointed,
      };
    }
    case "already-committed":
      return alreadyCommitted(table.uri, outcome.atVersion);
    case "conflict":
      throw new Error(
        `Write to ${table.uri} not committed: ${outcome.reason} (at version ${outcome.atVersion}). Nothing was committed; run it again`,
      );
    case "gave-up":
      throw new Error(
        `Write to ${table.uri} not committed: ${outcome.reason}. Nothing was committed; run it again`,
      );
  }
}

/** The result of a write whose appTxn the table already holds: nothing was written. */
function alreadyCommitted(table: string, version: number): WriteResult {
  return {
    table,
    version,
    created: false,
    alreadyCommitted: true,
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
