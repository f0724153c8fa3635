/**
 * `describe`: what a table is at one version: schema, partitioning,
 * protocol, files, bytes, rows and checkpoint.
 */

import type { Protocol } from "../delta/actions.ts";
import { liveRecords } from "../delta/deletion_vector.ts";
import { readLastCheckpoint } from "../delta/log_segment.ts";
import type { StructType } from "../delta/schema.ts";
import { snapshotOf, type Table } from "./table.ts";
import { activeFiles, fileCount } from "../delta/replay.ts";

/** The description of a table. */
export interface TableDescription {
  uri: string;
  id: string;
  name: string | null;
  description: string | null;
  version: number;
  createdTime: number | null;
  schema: StructType;
  partitionColumns: string[];
  protocol: Protocol;
  properties: Record<string, string>;
  files: number;
  bytes: number;
  /**
   * The rows of the table: the sum of `numRecords` less the rows deletion
   * vectors delete, or null if some file has no stats.
   */
  rows: number | null;
  filesWithoutStats: number;
  /** Files with a deletion vector, and the rows their vectors delete. */
  deletionVectors: { files: number; deletedRows: number };
  /** The checkpoint this snapshot was loaded from. */
  checkpointVersion: number | null;
  /** What `_last_checkpoint` says. */
  lastCheckpoint: number | null;
}

/** Describes the table at `version` (the latest by default). */
export async function describeTable(table: Table, version?: number): Promise<TableDescription> {
  const snapshot = await snapshotOf(table, version === undefined ? {} : { version });
  let bytes = 0;
  let rows = 0;
  let withoutStats = 0;
  const deletionVectors = { files: 0, deletedRows: 0 };
  for (const add of activeFiles(snapshot)) {
    if (add.deletionVector) {
      deletionVectors.files++;
      deletionVectors.deletedRows += add.deletionVector.cardinality;
    }
    bytes += add.size;
    const n = liveRecords(numRecordsOf(add.stats), add.deletionVector);
    if (n === undefined) withoutStats++;
    else rows += n;
  }
  const hint = await readLastCheckpoint(table.store);
  const m = snapshot.metadata;
  return {
    uri: table.uri,
    id: m.id,
    name: m.name ?? null,
    description: m.description ?? null,
    version: snapshot.version,
    createdTime: m.createdTime ?? null,
    schema: snapshot.schema,
    partitionColumns: m.partitionColumns,
    protocol: snapshot.protocol,
    properties: m.configuration,
    files: fileCount(snapshot),
    bytes,
    rows: withoutStats === 0 ? rows : null,
    filesWithoutStats: withoutStats,
    deletionVectors,
    checkpointVersion: snapshot.segment.checkpoint?.version ?? null,
    lastCheckpoint: hint?.version ?? null,
  };
}

/** Reads `numRecords` from stats JSON without parsing the column bounds. */
export function numRecordsOf(stats: string | null | undefined): number | undefined {
  if (!stats) return undefined;
  const m = /"numRecords"\s*:\s*(\d+)/.exec(stats);
  return m ? Number(m[1]) : undefined;
}
