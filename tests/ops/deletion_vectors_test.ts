/**
 * Tables with deletion vectors, made by the protocol (a DELETE that re-adds
 * files with relative, inline and absolute vectors): scan skips the deleted
 * rows exactly as delta-rs does, describe and verify count live rows, and
 * vacuum keeps every DV file a live or retained file names while deleting
 * the ones nothing names any more.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { createDvTableActions, deleteRows, writeIdFile } from "../_helpers/deletion_vectors.ts";
import { writeCommit } from "../_helpers/log.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { describeTable } from "../../src/ops/describe.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { writeTable } from "../../src/ops/write.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Three 10-row files (ids 0-9, 10-19, 20-29); version 2 deletes rows 0 and 9
 * of the first (DV file under prefix "ab"), 1-3 of the second (inline) and 5
 * of the third (absolute path).
 */
async function dvFixture() {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-dv-" });
  const store = new LocalStore(dir);
  const fields = [{ name: "id", type: "long" as const, nullable: true }];
  await writeCommit(store, 0, createDvTableActions(fields));
  const a = await writeIdFile(store, range(0, 10));
  const b = await writeIdFile(store, range(10, 20));
  const c = await writeIdFile(store, range(20, 30));
  await writeCommit(store, 1, [{ add: a }, { add: b }, { add: c }]);
  const da = await deleteRows(store, a, [0, 9], { kind: "u", prefix: "ab" });
  const db = await deleteRows(store, b, [1, 2, 3], { kind: "i" });
  const dc = await deleteRows(store, c, [5], { kind: "p", rootUri: store.uri });
  await writeCommit(store, 2, [...da.actions, ...db.actions, ...dc.actions]);
  const live = range(0, 30).filter((id) => ![0, 9, 11, 12, 13, 25].includes(id));
  return { dir, store, a: da, b: db, c: dc, live };
}

function ids(rows: Record<string, unknown>[]): number[] {
  return rows.map((r) => Number(r.id)).sort((x, y) => x - y);
}

Deno.test("scan skips rows deleted by relative, inline and absolute vectors, as delta-rs does", async () => {
  const f = await dvFixture();
  const ours = await readWithNeuralake(await openTable(f.dir));
  assertEquals(ids(ours.rows), f.live);
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
});

Deno.test("scan with a predicate and row-group pruning still drops deleted rows", async () => {
  const f = await dvFixture();
  const { scanTable } = await import("../../src/ops/scan.ts");
  const scan = await scanTable(await openTable(f.dir), { where: "id >= 8 AND id <= 12" });
  const got: number[] = [];
  for await (const batch of scan.batches) {
    for (const v of batch.columns[0]!.values as BigInt64Array) got.push(Number(v));
  }
  assertEquals(got.sort((x, y) => x - y), [8, 10]);
});

Deno.test("describe and verify count numRecords less each vector's cardinality", async () => {
  const f = await dvFixture();
  const table = await openTable(f.dir);
  const description = await describeTable(table);
  assertEquals(description.rows, 24);
  assertEquals(description.deletionVectors, { files: 3, deletedRows: 6 });
  const report = await verifyTable(table);
  assert(report.passed, JSON.stringify(report.checks));
  const counts = report.checks.find((c) => c.name === "row_counts_match_stats")!;
  assert(counts.detail.includes("24 live rows"), counts.detail);
});

Deno.test("verify reports a missing deletion-vector file by name", async () => {
  const f = await dvFixture();
  await Deno.remove(`${f.dir}/${f.a.dvKey}`);
  const report = await verifyTable(await openTable(f.dir));
  assert(!report.passed);
  const counts = report.checks.find((c) => c.name === "row_counts_match_stats")!;
  assert(counts.problems.some((p) => p.includes(f.a.dvKey!)), JSON.stringify(counts.problems));
});

Deno.test("vacuum keeps referenced DV files and deletes one no live file names", async () => {
  const f = await dvFixture();
  const old = new Date(Date.now() - 30 * 86_400_000);
  // A second DELETE on the first file replaces its vector; the old DV file
  // is then named only by a tombstone.
  const again = await deleteRows(f.store, f.a.add, [0, 4, 9], { kind: "u" }, old.getTime());
  await writeCommit(f.store, 3, again.actions);
  for await (const entry of Deno.readDir(f.dir)) {
    if (entry.isFile) await Deno.utime(`${f.dir}/${entry.name}`, old, old);
  }
  await Deno.utime(`${f.dir}/${f.a.dvKey}`, old, old);
  const table = await openTable(f.dir);
  const result = await vacuum(table.store, () => snapshotOf(table), {
    retentionMs: 86_400_000,
    allowShortRetention: true,
  });
  const deleted = result.plan.delete.map((m) => m.key);
  assertEquals(deleted, [f.a.dvKey!]);
  // Every data file survives (each has a vector, so the snapshot keys them by path + vector).
  const after = await readWithNeuralake(table);
  assertEquals(ids(after.rows), f.live.filter((id) => id !== 4));
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(after.rows), canonicalRows(theirs.rows));
});

Deno.test("a checkpoint keeps each file's deletion vector, so no deleted row comes back", async () => {
  const f = await dvFixture();
  const table = await openTable(f.dir);
  await checkpointTable(table);
  const snapshot = await snapshotOf(await openTable(f.dir));
  assertEquals(snapshot.segment.checkpoint?.version, 2);
  const vectors = [...snapshot.files.values()].map((a) => a.deletionVector?.cardinality).sort();
  assertEquals(vectors, [1, 2, 3]);
  const after = await readWithNeuralake(await openTable(f.dir));
  assertEquals(ids(after.rows), f.live);
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(after.rows), canonicalRows(theirs.rows));
});

Deno.test("appending to a table with deletion vectors adds rows and keeps the deleted ones out", async () => {
  const f = await dvFixture();
  const table = await openTable(f.dir);
  const fields = [{ name: "id", type: "long" as const, nullable: true }];
  await writeTable(table, sourceOf(batchOf(fields, [{ id: 100n }, { id: 101n }])));
  const snapshot = await snapshotOf(table);
  assertEquals(snapshot.version, 3);
  assertEquals(snapshot.protocol.readerFeatures, ["deletionVectors"]);
  const ours = await readWithNeuralake(table);
  assertEquals(ids(ours.rows), [...f.live, 100, 101]);
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
});

Deno.test("an absolute-path vector outside the table root (a shallow clone's) is read", async () => {
  const f = await dvFixture();
  const elsewhere = await Deno.makeTempDir({ prefix: "neuralake-dv-source-" });
  const source = new LocalStore(elsewhere);
  const again = await deleteRows(source, f.c.add, [5, 6], { kind: "p", rootUri: source.uri });
  await writeCommit(f.store, 3, again.actions);
  const ours = await readWithNeuralake(await openTable(f.dir));
  assertEquals(ids(ours.rows), f.live.filter((id) => id !== 26));
  const theirs = await readWithDeltaRs(f.dir, { engine: "datafusion" });
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
  // Vacuum never touches it: it is outside the table.
  const table = await openTable(f.dir);
  const result = await vacuum(table.store, () => snapshotOf(table), {
    retentionMs: 0,
    allowShortRetention: true,
    now: () => Date.now() + 30 * 86_400_000,
  });
  assert(result.plan.delete.every((m) => !m.key.includes(again.dvKey!)));
  await Deno.stat(`${elsewhere}/${again.dvKey}`);
});
