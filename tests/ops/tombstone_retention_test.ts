/**
 * Tombstone retention over long runs: checkpoints and states that follow the
 * log drop `remove` tombstones past retention, and a streaming run's
 * retention follows its profile.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  addAction,
  createActions,
  jsonCheckpointCodec,
  removeAction,
  writeCommit,
} from "../_helpers/log.ts";
import { checkpointKey } from "../../src/delta/log_path.ts";
import { readCheckpointActions } from "../../src/delta/snapshot.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { followTable, openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { PROFILES } from "../../src/roles/config_keys.ts";
import { ensureStreamTable, tombstoneRetentionMs } from "../../src/roles/table_setup.ts";
import { parseInterval } from "../../src/delta/checkpoint.ts";

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

/** A table with four files, of which `old.parquet` was removed an hour ago and `young.parquet` a second ago. */
async function tableWithTombstones(configuration: Record<string, string> = {}): Promise<Table> {
  const table: Table = {
    uri: "memory://t",
    store: new MemoryStore("memory://t", () => NOW),
    codec: jsonCheckpointCodec,
  };
  await writeCommit(table.store, 0, createActions(configuration));
  await writeCommit(table.store, 1, [
    addAction("old.parquet"),
    addAction("young.parquet"),
    addAction("live.parquet"),
    addAction("undated.parquet"),
  ]);
  await writeCommit(table.store, 2, [
    removeAction("old.parquet", NOW - 60 * MINUTE),
    removeAction("young.parquet", NOW - 1000),
    { remove: { path: "undated.parquet", dataChange: true } },
  ]);
  return table;
}

async function checkpointTombstones(table: Table, version: number): Promise<string[]> {
  const actions = await readCheckpointActions(table.store, table.codec, checkpointKey(version));
  return actions.flatMap((a) => "remove" in a ? [a.remove.path] : []).sort();
}

Deno.test("checkpointTable() leaves out tombstones older than the retention it is given", async () => {
  const table = await tableWithTombstones();
  // The table has no delta.deletedFileRetentionDuration: 7 days would keep all three.
  await checkpointTable(table, undefined, { tombstoneRetentionMs: MINUTE, now: () => NOW });
  assertEquals(await checkpointTombstones(table, 2), ["young.parquet"]);
  const snapshot = await snapshotOf(table);
  assertEquals([...snapshot.files.keys()], ["live.parquet"]);
  assertEquals([...snapshot.tombstones.keys()], ["young.parquet"]);
});

Deno.test("checkpointTable() follows the table's delta.deletedFileRetentionDuration by default", async () => {
  const table = await tableWithTombstones({
    "delta.deletedFileRetentionDuration": "interval 2 hours",
  });
  await checkpointTable(table, undefined, { now: () => NOW });
  assertEquals(await checkpointTombstones(table, 2), ["old.parquet", "young.parquet"]);
  const short = await tableWithTombstones({
    "delta.deletedFileRetentionDuration": "interval 30 seconds",
  });
  await checkpointTable(short, undefined, { now: () => NOW });
  assertEquals(await checkpointTombstones(short, 2), ["young.parquet"]);
});

Deno.test("followTable() drops tombstones past retention from a state it moves forward", async () => {
  const table = await tableWithTombstones();
  const state = await snapshotOf(table, { version: 1 });
  assertEquals(
    await followTable(table.store, state, { tombstoneRetentionMs: MINUTE, now: () => NOW }),
    1,
  );
  assertEquals([...state.tombstones.keys()], ["young.parquet"]);
  assertEquals([...state.files.keys()], ["live.parquet"]);
  // A minute later the young one has gone too, with no new commit.
  await followTable(table.store, state, { tombstoneRetentionMs: MINUTE, now: () => NOW + MINUTE });
  assertEquals(state.tombstones.size, 0);
});

Deno.test("followTable() keeps tombstones for the table's retention by default", async () => {
  const table = await tableWithTombstones({
    "delta.deletedFileRetentionDuration": "interval 2 hours",
  });
  const state = await snapshotOf(table, { version: 1 });
  await followTable(table.store, state, { now: () => NOW });
  assertEquals([...state.tombstones.keys()].sort(), ["old.parquet", "young.parquet"]);
});

Deno.test("a streaming table keeps tombstones as long as its profile's vacuum retention", async () => {
  assertEquals(tombstoneRetentionMs(PROFILES.local), PROFILES.local.vacuum.retentionMs);
  assertEquals(tombstoneRetentionMs(PROFILES.production), 7 * 86_400_000);
  for (const profile of ["local", "production"] as const) {
    const dir = await Deno.makeTempDir({ prefix: `neuralake-tombstones-${profile}-` });
    const config = { ...PROFILES[profile], table: dir };
    const snapshot = await ensureStreamTable(await openTable(dir), config);
    const props = snapshot.metadata.configuration;
    assertEquals(
      parseInterval(props["delta.deletedFileRetentionDuration"]),
      config.vacuum.retentionMs,
      profile,
    );
    assertEquals(
      parseInterval(props["delta.logRetentionDuration"]),
      config.compaction.logRetentionMs,
      profile,
    );
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the local profile's vacuum can reclaim files compacted early in a default run", () => {
  const local = PROFILES.local;
  // A file compacted away in the first seconds is past retention, and a vacuum
  // pass comes, before the default run ends.
  assert(
    local.vacuum.retentionMs + 2 * local.vacuum.intervalMs <= local.durationMs,
    `retention ${local.vacuum.retentionMs} ms and interval ${local.vacuum.intervalMs} ms leave nothing to vacuum in ${local.durationMs} ms`,
  );
  assert(!local.vacuum.dryRun && local.vacuum.enabled);
});
