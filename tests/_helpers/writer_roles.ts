/**
 * Writer roles run in this process, as the stream's workers run them, until
 * each has had a number of batches acknowledged; and the stream table they
 * write, with a table feature turned on after its creation.
 */

import type { Action } from "../../src/delta/actions.ts";
import { openTable, type Snapshot, type Table } from "../../src/ops/table.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import type { StreamConfig } from "../../src/roles/config_keys.ts";
import type { RoleSpec } from "../../src/roles/messages.ts";
import { ChannelState } from "../../src/roles/run_role.ts";
import { ensureStreamTable } from "../../src/roles/table_setup.ts";
import { runWriter } from "../../src/roles/writer.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { writeCommit } from "./log.ts";

/** A stream table and the settings its writers run with. */
export interface StreamWriterTable {
  /** The settings: table `<dir>/t`, batches of 7 rows, committed at once, unpaced. */
  config: StreamConfig;
  table: Table;
  /** The table as `ensureStreamTable` created it. */
  created: Snapshot;
}

/** Creates the stream table under `dir` as a stream would, for writers that commit at once. */
export async function streamWriterTable(dir: string): Promise<StreamWriterTable> {
  const config = {
    ...resolveConfig({}),
    table: `${dir}/t`,
    batchRows: 7,
    batchIntervalMs: 0,
    rate: 0,
  };
  const table = await openTable(config.table);
  return { config, table, created: await ensureStreamTable(table, config) };
}

/**
 * Turns table features on in the commit after the table's creation, as
 * Databricks does: writer version 7 with `writerFeatures`, and
 * `configuration` added to the table's properties, after the `leading`
 * actions (a commitInfo). `configuration` is given the version of that
 * commit. Returns that version.
 */
export async function turnOnFeatures(
  { config, created }: StreamWriterTable,
  writerFeatures: string[],
  configuration: (version: number) => Record<string, string>,
  leading: Action[] = [],
): Promise<number> {
  const version = created.version + 1;
  await writeCommit(new LocalStore(config.table), version, [
    ...leading,
    { protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures } },
    {
      metaData: {
        ...created.metadata,
        configuration: { ...created.metadata.configuration, ...configuration(version) },
      },
    },
  ]);
  return version;
}

/** Runs `writers` writer roles on `config` until each has `batches` batches acknowledged. */
export async function runWritersUntilAcked(
  config: StreamConfig,
  writers: number,
  batches: number,
): Promise<void> {
  await Promise.all(Array.from({ length: writers }, (_, w) => {
    const state = new ChannelState();
    let acked = 0;
    const channel = state.channel((report) => {
      if (report.type === "acked" && ++acked >= batches) state.requestStop();
    }, () => {
      throw new Error(`writer ${w} died`);
    });
    const spec: RoleSpec = {
      kind: "writer",
      id: `writer-${w}`,
      config,
      sessionId: "s",
      runStartMs: Date.now(),
    };
    return runWriter(spec, channel);
  }));
}
