/**
 * In-commit timestamps in tests: a table created with them on (as
 * Databricks creates new tables), and the check every commit on such a
 * table must pass: `commitInfo` first, its `inCommitTimestamp` above the
 * previous commit's.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { type Action, type CommitInfo, parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { createTableActions } from "../../src/ops/create.ts";
import type { ObjectStore } from "../../src/storage/object_store.ts";
import { assert } from "./assert.ts";
import { writeCommit } from "./log.ts";

/**
 * Writes version 0 of a table of `fields` into `store`, made with in-commit
 * timestamps on (writer 7, `inCommitTimestamp`), whose commit has the
 * in-commit timestamp `firstIct`.
 */
export async function createIctTable(
  store: ObjectStore,
  fields: Field[],
  firstIct: number,
): Promise<void> {
  const actions = createTableActions({ schema: schemaFromFields(fields) })
    .filter((a) => !("commitInfo" in a)).map((a): Action => {
      if ("protocol" in a) {
        return {
          protocol: {
            minReaderVersion: 1,
            minWriterVersion: 7,
            writerFeatures: ["inCommitTimestamp"],
          },
        };
      }
      if ("metaData" in a) {
        return {
          metaData: { ...a.metaData, configuration: { "delta.enableInCommitTimestamps": "true" } },
        };
      }
      return a;
    });
  await writeCommit(store, 0, [
    { commitInfo: { timestamp: firstIct, inCommitTimestamp: firstIct } },
    ...actions,
  ]);
}

/** The `commitInfo` of the commit at `version`, which must be its first action. */
export async function commitInfoAt(store: ObjectStore, version: number): Promise<CommitInfo> {
  const bytes = await store.get(commitKey(version));
  assert(bytes, `commit ${version} is missing`);
  const actions = parseCommit(new TextDecoder().decode(bytes), `commit ${version}`);
  const first = actions[0];
  assert(first && "commitInfo" in first, `commit ${version} does not start with commitInfo`);
  return first.commitInfo;
}

/** The `inCommitTimestamp` of the commit at `version`, which must have one. */
export async function inCommitTimestampAt(store: ObjectStore, version: number): Promise<number> {
  const ict = (await commitInfoAt(store, version)).inCommitTimestamp;
  assert(typeof ict === "number", `commit ${version} has no inCommitTimestamp`);
  return ict;
}

/**
 * Checks the commits `from` to `to`: each starts with `commitInfo`, and
 * its `inCommitTimestamp` is above the one before (`previous` for `from`).
 * Returns the last one.
 */
export async function assertIncreasingTimestamps(
  store: ObjectStore,
  from: number,
  to: number,
  previous: number,
): Promise<number> {
  for (let v = from; v <= to; v++) {
    const ict = await inCommitTimestampAt(store, v);
    assert(ict > previous, `commit ${v}: ${ict} is not above ${previous}`);
    previous = ict;
  }
  return previous;
}
