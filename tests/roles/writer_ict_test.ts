/**
 * Stream writers on a table with in-commit timestamps (Databricks turns
 * them on for new tables): concurrent writers, learning of each other's
 * commits from their feeds or by reading the winners back, each put
 * `commitInfo` first with an `inCommitTimestamp` above the previous
 * version's, even when that one is an hour in the future.
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import {
  appendBatch,
  appendCommitOptions,
  type AppendTarget,
  appendTarget,
} from "../../src/ops/append.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import { ensureStreamTable } from "../../src/roles/table_setup.ts";
import { LocalStore } from "../../src/storage/local.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";
import { writeCommit } from "../_helpers/log.ts";
import { runWritersUntilAcked } from "../_helpers/writer_roles.ts";

const HOUR = 3_600_000;

/** Every commit of the table from `from` on: commitInfo first, its ICT strictly increasing. */
async function checkTimestamps(dir: string, from: number, last: number, previousIct: number) {
  const store = new LocalStore(dir);
  let previous = previousIct;
  for (let v = from; v <= last; v++) {
    const actions: Action[] = parseCommit(
      new TextDecoder().decode((await store.get(commitKey(v)))!),
      `commit ${v}`,
    );
    const first = actions[0]!;
    assert("commitInfo" in first, `commit ${v} does not start with commitInfo`);
    const ict = first.commitInfo.inCommitTimestamp;
    assert(typeof ict === "number", `commit ${v} has no inCommitTimestamp`);
    assert(ict > previous, `commit ${v}: ${ict} is not above ${previous}`);
    previous = ict;
  }
}

Deno.test("concurrent stream writers on an in-commit timestamp table put increasing timestamps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-writer-ict-" });
  try {
    const config = {
      ...resolveConfig({}),
      table: `${dir}/t`,
      batchRows: 7,
      batchIntervalMs: 0,
      rate: 0,
    };
    const table = await openTable(config.table);
    const created = await ensureStreamTable(table, config);
    // In-commit timestamps turned on, the enabling commit's an hour ahead.
    const future = Date.now() + HOUR;
    const enabled = created.version + 1;
    await writeCommit(new LocalStore(config.table), enabled, [
      { commitInfo: { timestamp: future, inCommitTimestamp: future } },
      {
        protocol: {
          minReaderVersion: 1,
          minWriterVersion: 7,
          writerFeatures: ["inCommitTimestamp", "appendOnly", "invariants"],
        },
      },
      {
        metaData: {
          ...created.metadata,
          configuration: {
            ...created.metadata.configuration,
            "delta.enableInCommitTimestamps": "true",
            "delta.inCommitTimestampEnablementVersion": String(enabled),
            "delta.inCommitTimestampEnablementTimestamp": String(future),
          },
        },
      },
    ]);
    const WRITERS = 3;
    const BATCHES = 4;
    await runWritersUntilAcked(config, WRITERS, BATCHES);
    const end = await snapshotOf(table);
    assert(end.version >= enabled + WRITERS * BATCHES, `version ${end.version}`);
    await checkTimestamps(config.table, enabled + 1, end.version, future);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appends racing without a feed read the winners and go above their timestamps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-append-ict-" });
  try {
    const fields: Field[] = [{ name: "n", type: "long", nullable: true }];
    const future = Date.now() + HOUR;
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
            metaData: {
              ...a.metaData,
              configuration: { "delta.enableInCommitTimestamps": "true" },
            },
          };
        }
        return a;
      });
    const store = new LocalStore(dir);
    await writeCommit(store, 0, [
      { commitInfo: { timestamp: future, inCommitTimestamp: future } },
      ...actions,
    ]);
    const snapshot = await snapshotOf(await openTable(dir));
    const target: AppendTarget = appendTarget(store, fields, []);
    // Every append read version 0: all but one lose a race, some several.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        appendBatch(target, batchOf(fields, [{ n: BigInt(i) }]), {
          readVersion: 0,
          fileIndex: i,
          description: { operation: "WRITE", isBlindAppend: true },
          commit: appendCommitOptions(snapshot),
        })),
    );
    assertEquals(results.map((r) => r.outcome.kind), Array(6).fill("committed"));
    assert(results.some((r) => r.outcome.kind === "committed" && r.outcome.lostRaces > 0));
    await checkTimestamps(dir, 1, 6, future);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
