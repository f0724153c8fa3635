/**
 * delta-rs appends to a table that neuralake created, and neuralake appends
 * to a table that delta-rs created; both sides then see every row.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { writeTable } from "../../src/ops/write.ts";
import { snapshotOf } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import {
  canonicalRows,
  deltaRs,
  readWithDeltaRs,
  readWithNeuralake,
} from "../_helpers/delta_rs.ts";

const FIELDS: Field[] = [
  { name: "ts", type: "timestamp", nullable: true },
  { name: "region", type: "string", nullable: true },
  { name: "n", type: "long", nullable: true },
  { name: "v", type: "double", nullable: true },
];
const SCHEMA: [string, string][] = FIELDS.map((f) => [f.name, f.type as string]);

function ourRows(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    ts: BigInt(1_700_000_000_000_000 + (from + i) * 1000),
    region: ["M1", "S1"][(from + i) % 2]!,
    n: BigInt(from + i),
    v: (from + i) / 4,
  }));
}

function theirRows(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    ts: new Date(1_700_000_000_000 + (from + i)).toISOString().replace("Z", "000Z"),
    region: ["M1", "S1"][(from + i) % 2],
    n: from + i,
    v: (from + i) / 4,
  }));
}

for (const backend of BACKENDS) {
  const storage = () => backend.storageOptions();

  Deno.test(`${backend.name}: delta-rs appends to a table neuralake created`, async () => {
    const { uri, table } = await backend.newTable("ours-then-theirs");
    await writeTable(table, sourceOf(batchOf(FIELDS, ourRows(0, 20))), { partitionBy: ["region"] });
    const appended = await deltaRs({
      op: "append",
      uri,
      rows: theirRows(20, 15),
      schema: SCHEMA,
      storage_options: storage(),
    });
    assert(appended.ok, JSON.stringify(appended));
    await writeTable(table, sourceOf(batchOf(FIELDS, ourRows(35, 5))));
    const theirs = await readWithDeltaRs(uri, { storageOptions: storage() });
    const ours = await readWithNeuralake(table);
    assertEquals(ours.rows.length, 40);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    assertEquals(new Set(ours.rows.map((r) => r.n)).size, 40);
  });

  Deno.test(`${backend.name}: neuralake appends to a table delta-rs created`, async () => {
    const { uri, table } = await backend.newTable("theirs-then-ours");
    const created = await deltaRs({
      op: "append",
      uri,
      rows: theirRows(0, 30),
      schema: SCHEMA,
      partition_by: ["region"],
      storage_options: storage(),
    });
    assert(created.ok, JSON.stringify(created));
    await writeTable(table, sourceOf(batchOf(FIELDS, ourRows(30, 10))));
    const again = await deltaRs({
      op: "append",
      uri,
      rows: theirRows(40, 5),
      schema: SCHEMA,
      storage_options: storage(),
    });
    assert(again.ok, JSON.stringify(again));
    const snapshot = await snapshotOf(table);
    assertEquals(snapshot.version, 2);
    const theirs = await readWithDeltaRs(uri, { storageOptions: storage() });
    const ours = await readWithNeuralake(table);
    assertEquals(theirs.rows.length, 45);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
  });
}
