/**
 * A stream into a table that `write` made: the table's columns are nullable
 * (as a `--schema` or an inferred schema gives them), the stream generates
 * rows whose own fields say "no null". Its data files must still have the
 * table's file schema, so that the compactor, which writes the table's
 * schema, copies their large row groups byte for byte instead of decoding
 * and re-encoding every one; and the rows stay exactly as they were.
 */

import { activeFiles } from "../../src/delta/replay.ts";
import { appendBatch, appendTarget } from "../../src/ops/append.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { openTable, snapshotOf, tableFields } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { NEURAL_FIELDS, NeuralGenerator } from "../../src/sources/neural.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { sourceOf } from "../_helpers/batches.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";

Deno.test("stream files on a table made by write have its file schema, so compaction copies their row groups", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = await openTable(dir);
    const generator = new NeuralGenerator({ seed: 11 });
    const tick0 = generator.tickAt(Date.parse("2026-01-01T00:00:00Z"));
    const request = { sessionId: "s1", tick0, startRow: 0 };

    // One 16-row write, without properties, creates the table with nullable columns.
    const first = generator.generate({ ...request, writerId: "w-write", batchSeq: 0, rows: 16 });
    const written = await writeTable(
      table,
      sourceOf({ ...first, fields: NEURAL_FIELDS.map((f) => ({ ...f, nullable: true })) }),
    );
    assertEquals(written.created, true);

    // Then the stream's writers append through the same path as the writer role.
    let snapshot = await snapshotOf(table);
    const target = appendTarget(
      table.store,
      tableFields(snapshot.schema, snapshot.metadata.configuration),
      snapshot.metadata.partitionColumns,
    );
    for (const seq of [1, 2, 3]) {
      const batch = generator.generate({
        ...request,
        writerId: `w-${seq}`,
        batchSeq: seq,
        rows: 20_000,
      });
      const { outcome } = await appendBatch(target, batch, {
        readVersion: snapshot.version,
        txn: { appId: `w-${seq}`, version: seq },
        fileIndex: seq,
        description: {
          operation: "STREAMING UPDATE",
          operationParameters: { outputMode: "Append", queryId: `w-${seq}`, epochId: seq },
          isBlindAppend: true,
        },
      });
      assertEquals(outcome.kind, "committed");
      snapshot = await snapshotOf(table);
    }
    const before = await readWithNeuralake(table);
    assertEquals(before.rows.length, 16 + 3 * 20_000);

    const outcomes = await compactOnce(table, snapshot, {
      targetFileSize: 1 << 30,
      minRowGroupRows: 16_384,
    });
    assertEquals(outcomes.map((o) => o.kind), ["committed"]);
    // The three stream files' row groups are copied; only the write's 16 rows are re-encoded.
    assertEquals(outcomes[0]!.copiedRowGroups, 3);
    assertEquals(outcomes[0]!.decodedRowGroups, 1);

    const after = await snapshotOf(table);
    assertEquals([...activeFiles(after)].length, 1);
    const rows = await readWithNeuralake(table);
    assertEquals(canonicalRows(rows.rows), canonicalRows(before.rows));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
