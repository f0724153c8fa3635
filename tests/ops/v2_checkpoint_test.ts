/**
 * V2 checkpoints (PROTOCOL.md, "V2 Spec", "Sidecar Files", "V2 Checkpoint
 * Table Feature"): tables with the `v2Checkpoint` feature are read and
 * appended to, get UUID-named checkpoints whose file actions live in
 * sidecars, keep `_last_checkpoint` correct with its v2 fields, and log
 * cleanup never deletes a sidecar that a kept checkpoint still needs. delta-rs
 * reads the results row for row.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Action } from "../../src/delta/actions.ts";
import { checkpointActions } from "../../src/delta/checkpoint.ts";
import {
  commitKey,
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  parseLogPath,
  SIDECAR_DIR,
  uuidCheckpointKey,
} from "../../src/delta/log_path.ts";
import { readLastCheckpoint } from "../../src/delta/log_segment.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { cleanupLog, planSidecarCleanup } from "../../src/ops/log_cleanup.ts";
import { snapshotOf, type Table } from "../../src/ops/table.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { writeTable } from "../../src/ops/write.ts";
import type { ObjectMeta } from "../../src/storage/object_store.ts";
import { listAll } from "../../src/storage/object_store.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { writeCommit } from "../_helpers/log.ts";
import { parquetTool } from "../_helpers/pyarrow.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];
const DAY = 86_400_000;

const V2_PROTOCOL = {
  minReaderVersion: 3,
  minWriterVersion: 7,
  readerFeatures: ["v2Checkpoint"],
  writerFeatures: ["v2Checkpoint"],
};

/** A table that supports v2 checkpoints: version 0 creates it, version 1 upgrades it. */
async function v2Table(table: Table, interval = 3): Promise<void> {
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 0n }])), {
    properties: { "delta.checkpointInterval": String(interval) },
  });
  await writeCommit(table.store, 1, [{ protocol: V2_PROTOCOL }]);
}

async function append(table: Table, n: number): Promise<void> {
  await writeTable({ ...table }, sourceOf(batchOf(FIELDS, [{ n: BigInt(n) }])));
}

async function logNames(table: Table): Promise<string[]> {
  return (await listAll(table.store, `${LOG_DIR}/`)).map((m) => m.key.slice(LOG_DIR.length + 1));
}

for (const backend of BACKENDS) {
  Deno.test(`a v2Checkpoint table gets UUID-named checkpoints with a sidecar, read row for row by delta-rs (${backend.name})`, async () => {
    const { uri, table } = await backend.newTable("v2");
    await v2Table(table);
    for (let n = 1; n <= 6; n++) await append(table, n); // versions 2..7, checkpoints at 3 and 6

    const names = await logNames(table);
    const checkpoints = names.filter((n) => n.includes(".checkpoint."));
    assertEquals(checkpoints.length, 2, checkpoints.join(", "));
    for (const name of checkpoints) {
      assertEquals(parseLogPath(`${LOG_DIR}/${name}`)?.type, "uuid-checkpoint", name);
      assert(name.endsWith(".json"));
    }
    assertEquals(names.filter((n) => n.startsWith("_sidecars/")).length, 2);

    const hint = (await readLastCheckpoint(table.store))!;
    assertEquals(hint.version, 6);
    assert(hint.v2Checkpoint, "the hint carries the v2 checkpoint");
    const top = await table.store.head(`${LOG_DIR}/${hint.v2Checkpoint.path}`);
    assertEquals(top?.size, hint.v2Checkpoint.sizeInBytes);
    assertEquals(hint.numOfAddFiles, 6);

    const snapshot = await snapshotOf({ ...table });
    assertEquals(snapshot.segment.checkpoint?.keys, [`${LOG_DIR}/${hint.v2Checkpoint.path}`]);
    const ours = await readWithNeuralake({ ...table });
    assertEquals(ours.rows.map((r) => Number(r.n)).sort(), [0, 1, 2, 3, 4, 5, 6]);
    const theirs = await readWithDeltaRs(uri, {
      engine: "datafusion",
      storageOptions: backend.storageOptions(),
    });
    assertEquals(theirs.version, 7);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
    // delta-rs's view of the live files comes from our checkpoint and sidecar alone.
    await table.store.delete([0, 1, 2, 3, 4, 5, 6].map(commitKey));
    const fromCheckpoint = await readWithDeltaRs(uri, {
      engine: "datafusion",
      storageOptions: backend.storageOptions(),
    });
    assertEquals(canonicalRows(fromCheckpoint.rows), canonicalRows(ours.rows));
    assert((await verifyTable({ ...table })).passed);
  });
}

/**
 * A checkpoint as Spark writes one for a v2 table: a UUID-named top-level
 * file (JSON or Parquet) with checkpointMetadata, protocol, metadata and a
 * sidecar action, and the adds in a sidecar of Parquet v1 pages.
 */
async function sparkStyleCheckpoint(
  table: Table,
  version: number,
  format: "json" | "parquet",
): Promise<{ topKey: string; sidecarKey: string }> {
  const state = await snapshotOf({ ...table }, { version });
  const actions = checkpointActions(state, 0);
  const adds = actions.filter((a) => "add" in a).map((a) => "add" in a && a.add);
  const dir = await Deno.makeTempDir();
  const name = `${
    String(version).padStart(20, "0")
  }.checkpoint.0000000001.0000000001.${crypto.randomUUID()}.parquet`;
  await parquetTool({ cmd: "write_adds", path: `${dir}/sidecar.parquet`, adds });
  const sidecarBytes = await Deno.readFile(`${dir}/sidecar.parquet`);
  const sidecarKey = `${SIDECAR_DIR}/${name}`;
  await table.store.put(sidecarKey, sidecarBytes);
  const top: Action[] = [
    { checkpointMetadata: { version, tags: {} } },
    { sidecar: { path: name, sizeInBytes: sidecarBytes.length, modificationTime: Date.now() } },
    ...actions.filter((a) => "protocol" in a || "metaData" in a),
  ];
  const topKey = uuidCheckpointKey(version, crypto.randomUUID(), format);
  if (format === "json") {
    await table.store.put(
      topKey,
      new TextEncoder().encode(top.map((a) => JSON.stringify(a)).join("\n") + "\n"),
    );
  } else {
    await parquetTool({ cmd: "write_checkpoint", path: `${dir}/top.parquet`, actions: top });
    await table.store.put(topKey, await Deno.readFile(`${dir}/top.parquet`));
  }
  const path = topKey.slice(LOG_DIR.length + 1);
  const hint = {
    version,
    size: top.length + adds.length,
    v2Checkpoint: { path, sizeInBytes: 0, modificationTime: Date.now() },
  };
  await table.store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(JSON.stringify(hint)));
  return { topKey, sidecarKey };
}

for (const format of ["json", "parquet"] as const) {
  Deno.test(`a ${format} UUID-named checkpoint written as Spark writes it is read with its sidecar`, async () => {
    const { uri, table } = await BACKENDS[0]!.newTable("v2-read");
    await v2Table(table, 1000);
    for (let n = 1; n <= 4; n++) await append(table, n); // versions 2..5
    const { sidecarKey } = await sparkStyleCheckpoint(table, 4, format);
    await table.store.delete([0, 1, 2, 3, 4].map(commitKey));

    const ours = await readWithNeuralake({ ...table });
    assertEquals(ours.rows.map((r) => Number(r.n)).sort(), [0, 1, 2, 3, 4]);
    const theirs = await readWithDeltaRs(uri, { engine: "datafusion" });
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
    // Appending to it works, and so does its next checkpoint.
    await append(table, 5);
    await checkpointTable({ ...table });
    assertEquals((await readWithNeuralake({ ...table })).rows.length, 6);

    // A checkpoint is never read without its sidecar.
    await table.store.delete([sidecarKey]);
    await assertRejects(() => snapshotOf({ ...table }, { version: 5 }), sidecarKey);
  });
}

Deno.test("planSidecarCleanup() keeps referenced sidecars and young ones", () => {
  const now = 100 * DAY;
  const meta = (name: string, ageDays: number): ObjectMeta => ({
    key: `${SIDECAR_DIR}/${name}`,
    size: 1,
    lastModified: now - ageDays * DAY,
  });
  const sidecars = [meta("kept.parquet", 90), meta("old.parquet", 90), meta("young.parquet", 0.5)];
  const referenced = new Set([`${SIDECAR_DIR}/kept.parquet`]);
  // Retention of one hour: still, a sidecar younger than a day may belong to a checkpoint in progress.
  const plan = planSidecarCleanup(sidecars, referenced, now - 3_600_000, now);
  assertEquals(plan.map((m) => m.key), [`${SIDECAR_DIR}/old.parquet`]);
  assertEquals(planSidecarCleanup(sidecars, referenced, now - 95 * DAY, now), []);
});

Deno.test("log cleanup of a v2 table deletes only the sidecars of deleted checkpoints", async () => {
  const { uri, table } = await BACKENDS[0]!.newTable("v2-cleanup");
  await v2Table(table);
  for (let n = 1; n <= 6; n++) await append(table, n); // checkpoints at 3 and 6
  const sidecarsBefore = (await logNames(table)).filter((n) => n.startsWith("_sidecars/"));
  assertEquals(sidecarsBefore.length, 2);
  const at6 = (await snapshotOf({ ...table })).segment.checkpoint!.keys[0]!;

  const later = Date.now() + 40 * DAY;
  const result = await cleanupLog(table.store, {}, { now: () => later });
  assertEquals(result.plan.keepFromVersion, 6);
  assertEquals(result.sidecars.length, 1);
  const names = await logNames(table);
  const left = names.filter((n) => n.startsWith("_sidecars/"));
  assertEquals(left.length, 1);
  assert(!left.includes(result.sidecars[0]!.key.slice(LOG_DIR.length + 1)));
  assert(names.includes(at6.slice(LOG_DIR.length + 1)), "the kept checkpoint is there");

  // The kept checkpoint names the kept sidecar: the table reads whole.
  const ours = await readWithNeuralake({ ...table });
  assertEquals(ours.rows.length, 7);
  const theirs = await readWithDeltaRs(uri, { engine: "datafusion" });
  assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
});
