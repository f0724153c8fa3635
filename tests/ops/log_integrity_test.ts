/**
 * The log as a whole is trusted only when it is whole: a gap after the
 * checkpoint is an error that names the missing commit (never the end of the
 * table, never a hole that the next write fills), on local disk and on S3.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Action } from "../../src/delta/actions.ts";
import { checkpointActions } from "../../src/delta/checkpoint.ts";
import {
  checkpointKey,
  commitKey,
  LAST_CHECKPOINT_KEY,
  multipartCheckpointKey,
} from "../../src/delta/log_path.ts";
import { readLastCheckpoint } from "../../src/delta/log_segment.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { describeTable } from "../../src/ops/describe.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { readHistory } from "../../src/ops/history.ts";
import { openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { parquetTool } from "../_helpers/pyarrow.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

/** A table of versions 0..last, checkpointed every 5 versions. */
async function tableOfVersions(table: Table, last: number): Promise<void> {
  for (let v = 0; v <= last; v++) {
    await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: BigInt(v) }])), {
      properties: { "delta.checkpointInterval": "5" },
    });
  }
}

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `a missing commit after the checkpoint is an error, and no write fills it (${backend.name})`,
    async fn() {
      const { table } = await backend.newTable("gap");
      await tableOfVersions(table, 7);
      assertEquals((await snapshotOf(table)).segment.checkpoint?.version, 5);
      await table.store.delete([commitKey(6)]);

      await assertRejects(() => snapshotOf(table), "commit 6 is missing");
      await assertRejects(() => describeTable(table), "commit 6 is missing");
      // A new process (a fresh handle, with no snapshot it could follow).
      const fresh: Table = { ...table };
      await assertRejects(
        () => writeTable(fresh, sourceOf(batchOf(FIELDS, [{ n: 99n }]))),
        "commit 6 is missing",
      );
      assert(await table.store.head(commitKey(6)) === undefined, "the hole stays a hole");
      const report = await verifyTable(fresh);
      assertEquals(
        report.checks.filter((c) => !c.passed).map((c) => [c.name, c.problems[0]]),
        [
          ["log_has_no_gaps", "version 6 is missing"],
          ["table_loads", (await snapshotOf(table).catch((e) => e)).message],
        ],
      );
      assert(await table.store.head(commitKey(8)) === undefined, "nothing was committed");
      // Time travel to a version before the gap still works.
      assertEquals((await snapshotOf(table, { version: 5 })).files.size, 6);
    },
  });
}

Deno.test("verify names a missing commit right after the checkpoint, with every older commit cleaned up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-gap-after-checkpoint-" });
  try {
    const table = await openTable(`${dir}/t`);
    await tableOfVersions(table, 7);
    assertEquals((await snapshotOf(table)).segment.checkpoint?.version, 5);
    // The log cleaned up to the checkpoint at 5: whole from there.
    await table.store.delete([0, 1, 2, 3, 4, 5].map(commitKey));
    const whole = await verifyTable({ ...table });
    assert(whole.passed, JSON.stringify(whole.checks.filter((c) => !c.passed)));
    // Then commit 6 lost: only 7 is left after the checkpoint.
    await table.store.delete([commitKey(6)]);
    const report = await verifyTable({ ...table });
    assertEquals(
      report.checks.filter((c) => !c.passed).map((c) => [c.name, c.problems[0]]),
      [
        ["log_has_no_gaps", "version 6 is missing"],
        ["table_loads", (await snapshotOf({ ...table }).catch((e) => e)).message],
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const DANGLING_HINTS: { name: string; damage: (table: Table) => Promise<void> }[] = [
  {
    name: "a version beyond the log",
    damage: (table) =>
      table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":40,"size":3}')),
  },
  {
    name: "a deleted checkpoint file",
    damage: async (table) => {
      await table.store.delete([checkpointKey(5)]);
    },
  },
];

for (const { name, damage } of DANGLING_HINTS) {
  Deno.test(`a _last_checkpoint that names ${name} fails verify, is read past, and the next checkpoint repairs it`, async () => {
    const { uri, table } = await BACKENDS[0]!.newTable("hint");
    await tableOfVersions(table, 7);
    await damage(table);

    const report = await verifyTable(table);
    const check = report.checks.find((c) => c.name === "last_checkpoint_exists")!;
    assertEquals([report.passed, check.passed], [false, false]);
    assert(check.problems[0]!.includes("does not exist"), check.problems[0]);
    await assertRejects(() => readWithDeltaRs(uri), "delta-rs cannot read");

    // neuralake reads the whole log instead, as Spark does.
    const ours = await readWithNeuralake(table);
    assertEquals(ours.version, 7);
    assertEquals(ours.rows.length, 8);

    const hint = await checkpointTable({ ...table });
    assertEquals(hint.version, 7);
    assertEquals((await readLastCheckpoint(table.store))?.version, 7, "the hint moved to 7");
    assert((await verifyTable(table)).passed);
    const theirs = await readWithDeltaRs(uri);
    assertEquals(theirs.version, 7);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
  });
}

const UNREADABLE_HINTS: { name: string; bytes: string; problem: string }[] = [
  { name: "empty", bytes: "", problem: "the file is empty" },
  { name: "torn", bytes: '{"version":5,"si', problem: "the file is not JSON" },
  { name: "without a version", bytes: '{"size":3}', problem: "non-negative integer version" },
];

for (const { name, bytes, problem } of UNREADABLE_HINTS) {
  Deno.test(`verify passes a table whose _last_checkpoint is ${name}, with a warning naming the file`, async () => {
    const { table } = await BACKENDS[0]!.newTable("hint-unreadable");
    await tableOfVersions(table, 7);
    await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(bytes));

    const report = await verifyTable({ ...table });
    const check = report.checks.find((c) => c.name === "last_checkpoint_exists")!;
    assert(report.passed, JSON.stringify(report.checks.filter((c) => !c.passed)));
    assertEquals([check.passed, check.warning], [true, true]);
    assert(check.problems[0]!.startsWith("_delta_log/_last_checkpoint: "), check.problems[0]);
    assert(check.problems[0]!.includes(problem), check.problems[0]);
    // The rest of the table was verified from the listing.
    assertEquals(report.version, 7);
    assertEquals(report.files, 8);
    const checkpoint = report.checks.find((c) => c.name === "checkpoint_matches_replay")!;
    assertEquals([checkpoint.passed, checkpoint.skipped], [true, false]);
  });
}

Deno.test("verify says a _last_checkpoint names a deleted checkpoint when a newer one is read instead", async () => {
  const { table } = await BACKENDS[0]!.newTable("hint-deleted-newer");
  await tableOfVersions(table, 11);
  // A hint left at 5 (its writer stopped before moving it), then the
  // checkpoint at 5 cleaned up: readers listing from 5 find the one at 10.
  await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":5,"size":8}'));
  await table.store.delete([checkpointKey(5)]);

  const report = await verifyTable({ ...table });
  const check = report.checks.find((c) => c.name === "last_checkpoint_exists")!;
  assert(report.passed, JSON.stringify(report.checks.filter((c) => !c.passed)));
  assertEquals([check.passed, check.warning], [true, true]);
  assert(!check.detail.includes("points at the checkpoint at version 5"), check.detail);
  assert(check.detail.includes("version 5, whose checkpoint is gone"), check.detail);
  assert(check.detail.includes("the checkpoint at version 10"), check.detail);
  assertEquals(check.problems, [
    "_delta_log/_last_checkpoint: it names a checkpoint at version 5, which does not exist",
  ]);
});

Deno.test("a checkpoint of an older version leaves a hint that points at a newer checkpoint", async () => {
  const { table } = await BACKENDS[0]!.newTable("hint-newer");
  await tableOfVersions(table, 11);
  assertEquals((await readLastCheckpoint(table.store))?.version, 10);
  await checkpointTable(table, await snapshotOf(table, { version: 7 }));
  assertEquals((await readLastCheckpoint(table.store))?.version, 10);
  assert(await table.store.head(checkpointKey(7)) !== undefined);
});

/**
 * Replaces the classic checkpoint at `version` by a two-part one, written as
 * PROTOCOL.md describes ("Multi-part checkpoint": part o of p, every action
 * in exactly one part) with `parts: 2` in `_last_checkpoint`. As in Spark's,
 * the second part holds only adds, in Parquet v1 pages (written by pyarrow).
 */
async function splitCheckpoint(table: Table, version: number): Promise<void> {
  const state = await snapshotOf(table, { version });
  const actions = checkpointActions(state, 0);
  const adds = actions.filter((a) => "add" in a);
  const second = adds.slice(0, Math.ceil(adds.length / 2));
  const first = actions.filter((a) => !(second as Action[]).includes(a));
  await table.store.put(
    multipartCheckpointKey(version, 1, 2),
    table.codec.write(first, state.schema),
  );
  const dir = await Deno.makeTempDir();
  await parquetTool({
    cmd: "write_adds",
    path: `${dir}/part2.parquet`,
    adds: second.map((a) => "add" in a && a.add),
  });
  await table.store.put(
    multipartCheckpointKey(version, 2, 2),
    await Deno.readFile(`${dir}/part2.parquet`),
  );
  await table.store.delete([checkpointKey(version)]);
  const hint = { version, size: actions.length, parts: 2 };
  await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(JSON.stringify(hint)));
}

for (const backend of BACKENDS) {
  Deno.test(`every part of a multi-part checkpoint is read, and a missing part is never read past (${backend.name})`, async () => {
    const { uri, table } = await backend.newTable("multipart");
    await tableOfVersions(table, 7);
    await splitCheckpoint(table, 5);
    // Without the commits the checkpoint replaces, only the checkpoint holds versions 0-5.
    await table.store.delete([0, 1, 2, 3, 4].map(commitKey));

    const fresh = (): Table => ({ ...table });
    const snapshot = await snapshotOf(fresh());
    assertEquals(snapshot.segment.checkpoint?.keys.length, 2);
    const ours = await readWithNeuralake(fresh());
    assertEquals(ours.rows.map((r) => Number(r.n)).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
    assert((await verifyTable(fresh())).passed);

    await table.store.delete([multipartCheckpointKey(5, 2, 2)]);
    await assertRejects(() => snapshotOf(fresh()), "has 1 of its 2 parts");
    await assertRejects(() => readWithNeuralake(fresh()), "commit 0 is missing");
  });
}

for (const backend of BACKENDS) {
  Deno.test(`the newest commit is found after _last_checkpoint, whether the hint is current, stale or dangling (${backend.name})`, async () => {
    const { table } = await backend.newTable("from-hint");
    await tableOfVersions(table, 12);
    assertEquals((await readLastCheckpoint(table.store))?.version, 10);
    const values = async () => {
      const ours = await readWithNeuralake({ ...table });
      return [ours.version, ours.rows.map((r) => Number(r.n)).sort((a, b) => a - b)];
    };
    const all = (last: number) => Array.from({ length: last + 1 }, (_, v) => v);
    assertEquals(await values(), [12, all(12)]);
    // A commit made after the checkpoint.
    await writeTable({ ...table }, sourceOf(batchOf(FIELDS, [{ n: 13n }])));
    assertEquals(await values(), [13, all(13)]);
    // A stale hint: the checkpoint at 10 is newer than the one it names.
    await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":5,"size":3}'));
    assertEquals(await values(), [13, all(13)]);
    // A hint whose checkpoint is gone: the listing finds the one at 5.
    await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":10,"size":3}'));
    await table.store.delete([checkpointKey(10)]);
    assertEquals(await values(), [13, all(13)]);
    assertEquals((await snapshotOf({ ...table })).segment.checkpoint?.version, 5);
  });
}

Deno.test("a log cleaned up down to its checkpoint, every commit gone, still reads, verifies and has an empty history", async () => {
  const dir = await copyFixture("spark_checkpoint_classic");
  try {
    const before = await readWithNeuralake(await openTable(dir), 10);
    for await (const entry of Deno.readDir(`${dir}/_delta_log`)) {
      const name = entry.name;
      if (/^\d{20}\.(json|crc)$/.test(name) || name.startsWith("00000000000000000005.checkpoint")) {
        await Deno.remove(`${dir}/_delta_log/${name}`);
      }
    }
    const table = await openTable(dir);
    const ours = await readWithNeuralake(table);
    assertEquals(ours.version, 10);
    assertEquals(canonicalRows(ours.rows), canonicalRows(before.rows));
    assertEquals(await readHistory(table), []);
    const report = await verifyTable(table);
    assert(report.passed, JSON.stringify(report.checks.filter((c) => !c.passed)));
    assertEquals(
      report.checks.find((c) => c.name === "log_has_no_gaps")?.detail,
      "no commits after the checkpoint at version 10, which replaces the commits up to it",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
