/**
 * A table's footprint in its store: the bytes of its data files (everything
 * outside `_delta_log/`, live or not yet vacuumed) and of its log. One
 * listing; no file is read.
 */

import type { ObjectStore } from "../storage/object_store.ts";
import { LOG_DIR } from "../delta/log_path.ts";

/** What a table occupies in its store. */
export interface TableFootprint {
  /** Objects outside the log: live data files and those vacuum has not deleted yet. */
  dataFiles: number;
  dataBytes: number;
  /** Commits, checkpoints, sidecars and the checkpoint hint. */
  logFiles: number;
  logBytes: number;
}

/** Lists the table once and sums its objects' sizes. */
export async function tableFootprint(store: ObjectStore): Promise<TableFootprint> {
  const footprint: TableFootprint = { dataFiles: 0, dataBytes: 0, logFiles: 0, logBytes: 0 };
  for await (const meta of store.list("")) {
    if (meta.key.startsWith(`${LOG_DIR}/`)) {
      footprint.logFiles++;
      footprint.logBytes += meta.size;
    } else {
      footprint.dataFiles++;
      footprint.dataBytes += meta.size;
    }
  }
  return footprint;
}
