/**
 * The stream's compactor checkpoints a table that declares no
 * `delta.checkpointInterval` every 10 versions while its checkpoints are
 * cheap, and less often once they are large (a week of tombstones kept by
 * Delta's default retention), without dropping a tombstone early.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { sourceOf } from "../_helpers/batches.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { writeTable } from "../../src/ops/write.ts";
import { openTable, type Table } from "../../src/ops/table.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import {
  ACTIONS_PER_VERSION,
  checkpointDue,
  COST_FACTOR,
  VERSIONS_CAP_DIVISOR,
  versionsBetweenCheckpoints,
  versionsCap,
} from "../../src/roles/checkpoint_cadence.ts";
import { compactorPass } from "../_helpers/compactor.ts";

const generator = new NeuralGenerator({ seed: 1, neurons: 8 });
let seq = 0;

/** Appends `n` versions of 16 rows each, with no table properties. */
async function append(table: Table, n: number): Promise<void> {
  for (let i = 0; i < n; i++, seq++) {
    const batch = generator.generate({
      writerId: "w",
      sessionId: "s",
      batchSeq: seq,
      tick0: 1_000_000,
      startRow: seq * 16,
      rows: 16,
    });
    // No checkpoint of its own: only the compactor writes them here.
    await writeTable(table, sourceOf(batch), { autoCheckpoint: false });
  }
}

async function lastCheckpoint(dir: string): Promise<{ version: number; size: number }> {
  return JSON.parse(await Deno.readTextFile(`${dir}/t/_delta_log/_last_checkpoint`));
}

/**
 * A table made by `neuralake write` (no properties) with a checkpoint at
 * version 1 that holds `tombstones` removes of the last minute, as a long
 * stream leaves under Delta's week of retention.
 */
async function tableWithTombstones(tombstones: number) {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-checkpoint-cadence-" });
  const uri = `${dir}/t`;
  const table = await openTable(uri);
  await append(table, 1);
  const now = Date.now();
  const lines: string[] = [
    JSON.stringify({ commitInfo: { timestamp: now, operation: "OPTIMIZE" } }),
  ];
  for (let i = 0; i < tombstones; i++) {
    lines.push(JSON.stringify({
      remove: { path: `gone-${i}.parquet`, deletionTimestamp: now - 60_000, dataChange: false },
    }));
  }
  await Deno.writeTextFile(`${uri}/_delta_log/00000000000000000001.json`, lines.join("\n") + "\n");
  await checkpointTable(await openTable(uri));
  const config = {
    ...resolveConfig({}),
    table: uri,
  };
  return {
    dir,
    table: await openTable(uri),
    config: { ...config, compaction: { ...config.compaction, intervalMs: 0 } },
  };
}

Deno.test("checkpointDue() keeps the table's interval while checkpoints are cheap", () => {
  const cheap = { lastCheckpoint: 0, interval: 10, actions: 500 };
  assertEquals(checkpointDue({ ...cheap, version: 9 }), false);
  assertEquals(checkpointDue({ ...cheap, version: 10 }), true);
  // A quick last checkpoint (20 ms) a second ago does not hold it back.
  assertEquals(
    checkpointDue({ ...cheap, version: 10, lastCheckpointMs: 20, sinceLastCheckpointMs: 1000 }),
    true,
  );
});

Deno.test("checkpointDue() waits COST_FACTOR times the last checkpoint's duration after it", () => {
  // 40 versions: past the interval, short of the cap of 500 / 10.
  const c = { version: 40, lastCheckpoint: 0, interval: 10, actions: 500, lastCheckpointMs: 300 };
  assertEquals(checkpointDue({ ...c, sinceLastCheckpointMs: 300 * COST_FACTOR - 1 }), false);
  assertEquals(checkpointDue({ ...c, sinceLastCheckpointMs: 300 * COST_FACTOR }), true);
});

Deno.test("checkpointDue() writes a checkpoint once actions / VERSIONS_CAP_DIVISOR versions have passed, however dear", () => {
  const actions = 1_000_000;
  const cap = versionsCap(10, actions);
  assertEquals(cap, actions / VERSIONS_CAP_DIVISOR);
  // The last one took 1,000 s and ended 10 s ago.
  const dear = {
    lastCheckpoint: 0,
    interval: 10,
    actions,
    lastCheckpointMs: 1e6,
    sinceLastCheckpointMs: 1e4,
  };
  assertEquals(checkpointDue({ ...dear, version: cap - 1 }), false);
  assertEquals(checkpointDue({ ...dear, version: cap }), true);
});

Deno.test("checkpointDue() waits more versions for a larger checkpoint", () => {
  const actions = 5_000_000;
  const gap = versionsBetweenCheckpoints(10, actions);
  assertEquals(gap, actions / ACTIONS_PER_VERSION);
  assertEquals(
    checkpointDue({ version: gap - 1, lastCheckpoint: 0, interval: 10, actions }),
    false,
  );
  assertEquals(checkpointDue({ version: gap, lastCheckpoint: 0, interval: 10, actions }), true);
  // A table's own longer interval still decides.
  assertEquals(versionsBetweenCheckpoints(100_000, actions), 100_000);
});

Deno.test("the compactor checkpoints a table with no properties and many tombstones less often than every 10 versions, keeping every tombstone", async () => {
  // 25 times ACTIONS_PER_VERSION tombstones: at least 26 versions apart
  // (with the file and the table's protocol and metadata), and far from
  // the cap.
  const tombstones = 25 * ACTIONS_PER_VERSION;
  const { dir, table, config } = await tableWithTombstones(tombstones);
  try {
    assertEquals((await lastCheckpoint(dir)).version, 1);
    // Versions 2 to 13: past Delta's interval of 10, not past the bound.
    await append(table, 12);
    assertEquals(await compactorPass(config), [], "a checkpoint 12 versions after one this large");
    // Versions 14 to 28: 27 since the checkpoint at 1.
    await append(table, 15);
    const written = await compactorPass(config);
    assertEquals(written.length, 1);
    assert(written[0]! >= 28, `checkpoint at ${written[0]}`);
    const last = await lastCheckpoint(dir);
    assertEquals(last.version, written[0]);
    // Every tombstone is still in it (Delta's week of retention).
    assert(last.size >= tombstones, `${last.size} actions in the checkpoint`);
    // 10 more versions: still too few for a checkpoint of this size.
    await append(table, 10);
    assertEquals(await compactorPass(config), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the compactor checkpoints a table with no properties and few actions every 10 versions, pass after pass", async () => {
  const { dir, table, config } = await tableWithTombstones(10);
  try {
    let last = 1;
    for (let round = 0; round < 3; round++) {
      await append(table, 10);
      const written = await compactorPass(config);
      assertEquals(written.length, 1, `round ${round}`);
      assert(written[0]! >= last + 10, `checkpoint at ${written[0]} after ${last}`);
      last = written[0]!;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
