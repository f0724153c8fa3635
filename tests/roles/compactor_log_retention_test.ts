/**
 * A stream's compactor follows the table's own log properties: a run
 * configured with a shorter log retention than the table declares (the
 * local profile's 10 minutes on a table made with 30 days) keeps every
 * commit the table promises its readers, and a run checkpoints at the
 * table's `delta.checkpointInterval` whatever its own setting (which only a
 * table the run creates takes), or every 10 versions, Delta's default, on
 * a table that declares none.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { sourceOf } from "../_helpers/batches.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { writeTable } from "../../src/ops/write.ts";
import { openTable } from "../../src/ops/table.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import { compactorPass as runPass } from "../_helpers/compactor.ts";
import { ensureStreamTable } from "../../src/roles/table_setup.ts";

const HOUR = 3_600_000;

/**
 * A table declaring 30 days of log and a checkpoint every 4 versions, at
 * version 8 with a checkpoint at 4 (or at version `versions`), every log
 * file two hours old; then one compactor pass of a run with
 * `logRetentionMs` and `checkpointEvery`. Without `declaresLog`, the first
 * write creates the table with only `delta.checkpointInterval` (`interval`,
 * or none if undefined). Returns the checkpoints it wrote and the log files
 * gone.
 */
async function compactorPass(
  run: { logRetentionMs: number; checkpointEvery: number },
  table0: { declaresLog: boolean; interval?: string | undefined; versions?: number } = {
    declaresLog: true,
  },
) {
  const interval = "interval" in table0 ? table0.interval : "4";
  const versions = table0.versions ?? 8;
  const dir = await Deno.makeTempDir({ prefix: "neuralake-log-retention-" });
  try {
    const base = { ...resolveConfig({}), table: `${dir}/t` };
    const table = await openTable(base.table);
    if (table0.declaresLog) {
      await ensureStreamTable(table, {
        ...base,
        compaction: { ...base.compaction, logRetentionMs: 30 * 24 * HOUR, checkpointEvery: 4 },
      });
    } // else the first write creates it, with no log properties

    const generator = new NeuralGenerator({ seed: 1, neurons: 8 });
    for (let seq = 0; seq < versions; seq++) {
      const batch = generator.generate({
        writerId: "w",
        sessionId: "s",
        batchSeq: seq,
        tick0: 1_000_000,
        startRow: seq * 16,
        rows: 16,
      });
      // One checkpoint, at version 4 (the first write creates a table that
      // ensureStreamTable did not).
      const version = table0.declaresLog ? seq + 1 : seq;
      await writeTable(table, sourceOf(batch), {
        autoCheckpoint: version <= 4 && interval !== undefined,
        ...(table0.declaresLog || interval === undefined
          ? {}
          : { properties: { "delta.checkpointInterval": interval } }),
      });
    }
    const log = `${dir}/t/_delta_log`;
    const old = new Date(Date.now() - 2 * HOUR);
    const before: string[] = [];
    for await (const e of Deno.readDir(log)) {
      if (!e.isFile) continue;
      before.push(e.name);
      await Deno.utime(`${log}/${e.name}`, old, old);
    }
    assert(
      before.includes("00000000000000000004.checkpoint.parquet") === (interval !== undefined),
      before.join(" "),
    );
    const config = { ...base, compaction: { ...base.compaction, intervalMs: 0, ...run } };
    const checkpoints = await runPass(config);
    const after = new Set<string>();
    for await (const e of Deno.readDir(log)) if (e.isFile) after.add(e.name);
    return { checkpoints, gone: before.filter((name) => !after.has(name)) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the compactor keeps the log files within the table's log retention, not only the run's", async () => {
  // The run would keep one second of log and checkpoints on every pass.
  const { checkpoints, gone } = await compactorPass({ logRetentionMs: 1000, checkpointEvery: 1 });
  assertEquals(checkpoints.length, 1);
  assertEquals(gone, [], "log files deleted within the table's retention");
});

Deno.test("the compactor checkpoints at the table's interval when the run's is longer", async () => {
  const { checkpoints } = await compactorPass({ logRetentionMs: 1000, checkpointEvery: 100 });
  assertEquals(checkpoints.length, 1, "no checkpoint 4 versions after the last");
  assert(checkpoints[0]! >= 8, `checkpoint at ${checkpoints[0]}`);
});

Deno.test("the compactor keeps the log files of a table that declares no log retention: Delta's default of 30 days is its retention", async () => {
  // A table made by `neuralake write` or another engine, without
  // delta.logRetentionDuration: its readers may time-travel 30 days back.
  const { gone } = await compactorPass({ logRetentionMs: 1000, checkpointEvery: 1 }, {
    declaresLog: false,
  });
  assertEquals(gone, [], "log files deleted within Delta's default log retention");
});

Deno.test("the compactor checkpoints at the table's interval when the run's is shorter: the table's property wins", async () => {
  // Version 6, the last checkpoint at 4: the table's interval of 4 is not
  // reached, although the run would checkpoint every version.
  const { checkpoints } = await compactorPass({ logRetentionMs: 1000, checkpointEvery: 1 }, {
    declaresLog: true,
    versions: 6,
  });
  assertEquals(checkpoints, []);
});

Deno.test("the compactor checkpoints a table that declares no checkpoint interval every 10 versions, Delta's default, not at the run's interval", async () => {
  // Versions 0 to 11 with no checkpoint: 11 versions since version 0.
  const { checkpoints } = await compactorPass({ logRetentionMs: 1000, checkpointEvery: 100 }, {
    declaresLog: false,
    interval: undefined,
    versions: 12,
  });
  // At 11, or at 12 if its pass committed a compaction first.
  assertEquals(checkpoints.length, 1);
  assert(checkpoints[0]! >= 11, `checkpoint at ${checkpoints[0]}`);
});
