/**
 * Opening (and if need be creating) the streaming table, shared by every
 * role and the orchestrator. Creation is a put-if-absent of version 0, so
 * many roles on many machines may race to create it and one wins.
 */

import { NEURAL_FIELDS } from "../sources/neural.ts";
import { createTable, TableExistsError } from "../ops/create.ts";
import {
  checkCanWrite,
  openTable,
  schemaFromFields,
  type Snapshot,
  snapshotOf,
  type Table,
  tableFields,
  TableNotFoundError,
} from "../ops/table.ts";
import type { StreamConfig } from "./config_keys.ts";
import {
  VACUUM_RETENTION_FLOOR_MS,
  type VacuumOptions,
  type VacuumRetention,
} from "../ops/vacuum.ts";
import { formatDuration } from "../util/units.ts";
import { tableLogRetention } from "../ops/log_cleanup.ts";
import { DEFAULT_TOMBSTONE_RETENTION_MS, tombstoneRetentionOf } from "../ops/table.ts";

/** Opens the run's table. */
export async function streamTable(config: StreamConfig): Promise<Table> {
  return await openTable(config.table);
}

/**
 * How long the run keeps `remove` tombstones, in checkpoints and in the
 * roles' memory: the profile's vacuum retention, raised to vacuum's floor.
 * The run's vacuum deletes a removed file once it is past that retention,
 * so a tombstone kept longer would only name a file that is gone, while
 * the table's checkpoints, snapshot loads and the compactor's memory grow
 * with every file compaction removes. A new table records it as its
 * `delta.deletedFileRetentionDuration`, so that other engines agree.
 */
export function tombstoneRetentionMs(config: StreamConfig): number {
  return Math.max(config.vacuum.retentionMs, VACUUM_RETENTION_FLOOR_MS);
}

/**
 * How long the run's compactor keeps `remove` tombstones, in its memory and
 * in the checkpoints it writes, on a table whose properties are
 * `configuration`: the run's retention (`tombstoneRetentionMs`), or the
 * table's `delta.deletedFileRetentionDuration` where that is longer, and
 * Delta's default of a week for a table that declares none. PROTOCOL.md
 * keeps a tombstone in checkpoints until that retention expires: a reader
 * of a checkpoint, or a vacuum of another engine that honours the table's
 * retention, learns from it that the file was removed and when. A table the
 * run creates declares the run's retention, so there the two agree.
 */
export function tombstoneRetentionFor(
  config: StreamConfig,
  configuration: Record<string, string>,
): number {
  return Math.max(
    tombstoneRetentionMs(config),
    tombstoneRetentionOf(configuration) ?? DEFAULT_TOMBSTONE_RETENTION_MS,
  );
}

/**
 * The retention options of the run's vacuum role: the run's retention,
 * raised to the table's `delta.deletedFileRetentionDuration` where that is
 * longer (Delta's week where the table declares none), unless the run
 * explicitly allows a shorter one (`vacuum.allowShortRetention`, as Spark's
 * `retentionDurationCheck` off). Other readers of a table made elsewhere
 * keep their time travel, and a long read of an older version its files;
 * a table the run creates declares the run's retention (`ensureStreamTable`),
 * so there vacuum deletes as soon as before.
 */
export function vacuumRetentionOptions(
  config: StreamConfig,
): Pick<VacuumOptions, "retentionMs" | "allowShortRetention" | "atLeastTableRetention"> {
  return {
    retentionMs: config.vacuum.retentionMs,
    allowShortRetention: config.vacuum.allowShortRetention,
    atLeastTableRetention: true,
  };
}

/** Why the run's vacuum uses `retention`, for its log line. */
export function describeVacuumRetention(config: StreamConfig, retention: VacuumRetention): string {
  const run = formatDuration(config.vacuum.retentionMs);
  const table = retention.declared
    ? `the table's delta.deletedFileRetentionDuration (${formatDuration(retention.tableMs)})`
    : `Delta's default of ${
      formatDuration(retention.tableMs)
    } (the table declares no delta.deletedFileRetentionDuration)`;
  if (retention.source === "table") return `${table}, longer than the run's ${run}`;
  if (retention.ms < retention.tableMs) {
    return `the run's ${run}, shorter than ${table}, as vacuum.allowShortRetention (--allow-short-retention) allows`;
  }
  return `the run's ${run}, at least ${table}`;
}

/**
 * How old a log file must be before the run's log cleanup may delete it,
 * on a table whose properties are `configuration`: the run's log retention,
 * or the table's `delta.logRetentionDuration` where that is longer. A table
 * made with 30 days of log (the production profile, or another engine) and
 * then streamed into with the local profile's 10 minutes keeps its 30 days:
 * every version within them stays readable, as the table promises its
 * readers. A table that declares no log retention has Delta's default of 30
 * days (`tableLogRetention`), not none: that is what its readers were promised.
 */
export function logRetentionFor(
  config: StreamConfig,
  configuration: Record<string, string>,
): number {
  return Math.max(config.compaction.logRetentionMs, tableLogRetention(configuration));
}

/** A duration as a Delta interval property: `interval 15 seconds`. */
export function deltaInterval(ms: number): string {
  return `interval ${Math.max(1, Math.ceil(ms / 1000))} seconds`;
}

/** Loads the table, creating it with the neural schema if it does not exist. */
export async function ensureStreamTable(table: Table, config: StreamConfig): Promise<Snapshot> {
  try {
    return checkSchema(await snapshotOf(table));
  } catch (error) {
    if (!(error instanceof TableNotFoundError)) throw error;
  }
  try {
    await createTable(table, {
      schema: schemaFromFields(NEURAL_FIELDS),
      partitionColumns: config.partitionBy,
      properties: {
        "delta.checkpointInterval": String(config.compaction.checkpointEvery),
        "delta.deletedFileRetentionDuration": deltaInterval(tombstoneRetentionMs(config)),
        "delta.logRetentionDuration": deltaInterval(config.compaction.logRetentionMs),
      },
      name: "neural_signals",
    });
  } catch (error) {
    if (!(error instanceof TableExistsError)) throw error;
  }
  return checkSchema(await snapshotOf(table));
}

/**
 * Refuses a table whose columns are not the neural schema's, or that a
 * stream writer may not append to (it does not check rows against
 * invariants or CHECK constraints). Row ids it assigns (ops/append.ts
 * `rowIdMarkOf`), and in-commit timestamps (`appendCommitOptions`).
 */
function checkSchema(snapshot: Snapshot): Snapshot {
  checkCanWrite(snapshot.protocol, snapshot.metadata, snapshot.schema, {
    kind: "append",
    assignsRowIds: true,
    writesInCommitTimestamps: true,
  });
  const fields = tableFields(snapshot.schema, snapshot.metadata.configuration);
  const same = fields.length === NEURAL_FIELDS.length &&
    fields.every((f, i) => f.name === NEURAL_FIELDS[i]!.name && f.type === NEURAL_FIELDS[i]!.type);
  if (!same) {
    throw new Error(
      `The table's columns (${
        fields.map((f) => `${f.name} ${f.type}`).join(", ")
      }) are not the neural schema (${
        NEURAL_FIELDS.map((f) => `${f.name} ${f.type}`).join(", ")
      }); stream into a new table`,
    );
  }
  return snapshot;
}
