/**
 * Stream writers on a table with in-commit timestamps (Databricks turns
 * them on for new tables): concurrent writers, learning of each other's
 * commits from their feeds or by reading the winners back, each put
 * `commitInfo` first with an `inCommitTimestamp` above the previous
 * version's, even when that one is an hour in the future.
 */

import type { Field } from "../../src/columnar/batch.ts";
import {
  appendBatch,
  appendCommitOptions,
  type AppendTarget,
  appendTarget,
} from "../../src/ops/append.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";
import { assertIncreasingTimestamps, createIctTable } from "../_helpers/ict.ts";
import {
  runWritersUntilAcked,
  streamWriterTable,
  turnOnFeatures,
} from "../_helpers/writer_roles.ts";

const HOUR = 3_600_000;

Deno.test("concurrent stream writers on an in-commit timestamp table put increasing timestamps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-writer-ict-" });
  try {
    const setup = await streamWriterTable(dir);
    const { config, table } = setup;
    // In-commit timestamps turned on, the enabling commit's an hour ahead.
    const future = Date.now() + HOUR;
    const enabled = await turnOnFeatures(
      setup,
      ["inCommitTimestamp", "appendOnly", "invariants"],
      (version) => ({
        "delta.enableInCommitTimestamps": "true",
        "delta.inCommitTimestampEnablementVersion": String(version),
        "delta.inCommitTimestampEnablementTimestamp": String(future),
      }),
      [{ commitInfo: { timestamp: future, inCommitTimestamp: future } }],
    );
    const WRITERS = 3;
    const BATCHES = 4;
    await runWritersUntilAcked(config, WRITERS, BATCHES);
    const end = await snapshotOf(table);
    assert(end.version >= enabled + WRITERS * BATCHES, `version ${end.version}`);
    await assertIncreasingTimestamps(
      new LocalStore(config.table),
      enabled + 1,
      end.version,
      future,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appends racing without a feed read the winners and go above their timestamps", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-append-ict-" });
  try {
    const fields: Field[] = [{ name: "n", type: "long", nullable: true }];
    const future = Date.now() + HOUR;
    const store = new LocalStore(dir);
    await createIctTable(store, fields, future);
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
    await assertIncreasingTimestamps(store, 1, 6, future);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
