/**
 * Helpers that write Delta logs by hand for log-level tests, and a checkpoint
 * codec that stores actions as JSON lines, so that log tests do not depend on
 * the Parquet layer. Tables read by other engines use the real codec.
 */

import { type Action, parseCommit, serializeActions } from "../../src/delta/actions.ts";
import type { CheckpointCodec } from "../../src/delta/checkpoint.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import type { ObjectStore } from "../../src/storage/object_store.ts";

/** A checkpoint codec that keeps actions as JSON lines (tests only). */
export const jsonCheckpointCodec: CheckpointCodec = {
  async read(store: ObjectStore, key: string): Promise<Action[]> {
    const bytes = await store.get(key);
    if (!bytes) throw new Error(`missing ${key}`);
    return parseCommit(new TextDecoder().decode(bytes), key);
  },
  write(actions: readonly Action[]): Uint8Array {
    return new TextEncoder().encode(serializeActions(actions));
  },
};

/** The schema string of a table with columns `id: long` and `region: string`. */
export const TEST_SCHEMA = JSON.stringify({
  type: "struct",
  fields: [
    { name: "id", type: "long", nullable: true, metadata: {} },
    { name: "region", type: "string", nullable: true, metadata: {} },
  ],
});

/** The actions of a version-0 commit that creates a test table. */
export function createActions(configuration: Record<string, string> = {}): Action[] {
  return [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: "test-table",
        format: { provider: "parquet", options: {} },
        schemaString: TEST_SCHEMA,
        partitionColumns: [],
        createdTime: 0,
        configuration,
      },
    },
  ];
}

/** An add action for `path` with `rows` records. */
export function addAction(path: string, rows = 1, dataChange = true): Action {
  return {
    add: {
      path,
      partitionValues: {},
      size: 100,
      modificationTime: 0,
      dataChange,
      stats: JSON.stringify({ numRecords: rows }),
    },
  };
}

/** A remove action for `path`. */
export function removeAction(path: string, deletionTimestamp = 0, dataChange = true): Action {
  return { remove: { path, deletionTimestamp, dataChange } };
}

/** Writes a commit file directly. */
export async function writeCommit(
  store: ObjectStore,
  version: number,
  actions: Action[],
): Promise<void> {
  const outcome = await store.putIfAbsent(
    commitKey(version),
    new TextEncoder().encode(serializeActions(actions)),
  );
  if (outcome !== "created") throw new Error(`commit ${version} exists already`);
}
