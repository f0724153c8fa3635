/**
 * Compaction of files with deletion vectors: the plan picks files whose
 * vectors delete enough rows, the merged file holds only live rows and no
 * vector, the commit removes each logical file with its vector, a concurrent
 * DELETE on a file in the bin makes the compaction lose, and delta-rs reads
 * the result row for row.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { createDvTableActions, deleteRows, writeIdFile } from "../_helpers/deletion_vectors.ts";
import { writeCommit } from "../_helpers/log.ts";
import type { Add } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { compactBin, compactOnce } from "../../src/ops/compaction.ts";
import { planCompaction } from "../../src/ops/compaction_plan.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { LocalStore } from "../../src/storage/local.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function file(path: string, size: number, rows: number, deleted = 0): Add {
  return {
    path,
    partitionValues: {},
    size,
    modificationTime: 0,
    dataChange: true,
    stats: JSON.stringify({ numRecords: rows }),
    ...(deleted
      ? {
        deletionVector: {
          storageType: "u",
          pathOrInlineDv: "vBn[lx{q8@P<9BNH/isA",
          offset: 1,
          sizeInBytes: 36,
          cardinality: deleted,
        },
      }
      : {}),
  };
}

Deno.test("planCompaction() rewrites a large file whose vector deletes over 5% of its rows, alone", () => {
  const bins = planCompaction([
    file("big-purge", 1000, 100, 6),
    file("big-few", 1000, 100, 5),
    file("big", 1000, 100),
  ], { targetFileSize: 500 });
  assertEquals(bins.map((b) => b.files.map((f) => f.path)), [["big-purge"]]);
});

Deno.test("planCompaction() keeps a bin holding a purgeable file even below minFiles", () => {
  const bins = planCompaction([file("a", 10, 10, 2), file("b", 10, 10)], {
    targetFileSize: 500,
    minFiles: 4,
  });
  assertEquals(bins.map((b) => b.files.map((f) => f.path).sort()), [["a", "b"]]);
  assertEquals(
    planCompaction([file("a", 10, 10), file("b", 10, 10)], { targetFileSize: 500, minFiles: 4 }),
    [],
  );
});

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-dv-compact-" });
  const store = new LocalStore(dir);
  await writeCommit(
    store,
    0,
    createDvTableActions([{ name: "id", type: "long", nullable: true }]),
  );
  const a = await writeIdFile(store, range(0, 10));
  const b = await writeIdFile(store, range(10, 20));
  const c = await writeIdFile(store, range(20, 30));
  await writeCommit(store, 1, [{ add: a }, { add: b }, { add: c }]);
  const da = await deleteRows(store, a, [0, 9], { kind: "u", prefix: "xy" });
  const db = await deleteRows(store, b, [1, 2, 3], { kind: "i" });
  await writeCommit(store, 2, [...da.actions, ...db.actions]);
  const live = range(0, 30).filter((id) => ![0, 9, 11, 12, 13].includes(id));
  return { dir, store, a: da, b: db, c, live };
}

function ids(rows: Record<string, unknown>[]): number[] {
  return rows.map((r) => Number(r.id)).sort((x, y) => x - y);
}

Deno.test("compaction drops deleted rows, removes each file with its vector, and delta-rs agrees", async () => {
  const f = await fixture();
  const table = await openTable(f.dir);
  const outcomes = await compactOnce(table, await snapshotOf(table), {
    targetFileSize: 1 << 20,
    minFiles: 2,
  });
  assertEquals(outcomes.map((o) => [o.kind, o.filesIn, o.rows]), [["committed", 3, 25]]);
  const snapshot = await snapshotOf(table);
  assertEquals(snapshot.files.size, 1);
  const [merged] = [...snapshot.files.values()];
  assert(!merged!.deletionVector, "the merged file has no vector");
  assertEquals(JSON.parse(merged!.stats!).numRecords, 25);
  const log = parseCommit(
    new TextDecoder().decode((await f.store.get(commitKey(3)))!),
    "commit 3",
  );
  const removes = log.flatMap((a) => ("remove" in a ? [a.remove] : []));
  assertEquals(
    removes.map((r) => r.deletionVector?.cardinality ?? 0).sort(),
    [0, 2, 3],
  );
  const ours = await readWithNeuralake(table);
  assertEquals(ids(ours.rows), f.live);
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));

  // Once past retention, vacuum deletes the old data files and DV file.
  const result = await vacuum(table.store, () => snapshotOf(table), {
    retentionMs: 0,
    allowShortRetention: true,
    now: () => Date.now() + 30 * 86_400_000,
  });
  const deleted = result.plan.delete.map((m) => m.key).sort();
  assert(deleted.includes(f.a.dvKey!), `DV file not deleted: ${deleted}`);
  assertEquals(deleted.length, 4);
  const after = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(ids(after.rows), f.live);
});

Deno.test("a compaction loses to a concurrent DELETE that changed a vector in its bin", async () => {
  const f = await fixture();
  const table = await openTable(f.dir);
  const state = await snapshotOf(table);
  const [bin] = planCompaction(state.files.values(), { targetFileSize: 1 << 20, minFiles: 2 });
  // The DELETE commits first: file a gets a new vector.
  const again = await deleteRows(f.store, f.a.add, [0, 5, 9], { kind: "u" });
  await writeCommit(f.store, 3, again.actions);
  const outcome = await compactBin(table, state, bin!, { targetFileSize: 1 << 20 });
  assertEquals(outcome.kind, "conflict");
  assert(outcome.reason!.includes(f.a.add.path), outcome.reason);
  // Nothing deleted comes back: row 5 of file a stays deleted.
  const ours = await readWithNeuralake(await openTable(f.dir));
  assertEquals(ids(ours.rows), f.live.filter((id) => id !== 5));
});
