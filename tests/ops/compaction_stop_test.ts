/**
 * A compaction pass stops between bins when asked: a role asked to stop
 * finishes the bin in hand, not every bin of a backlog.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { appendBatch, appendTarget } from "../../src/ops/append.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { createTable } from "../../src/ops/create.ts";
import { openTable, schemaFromFields, snapshotOf } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

Deno.test("compactOnce() stops between bins once its signal aborts, keeping the bins done", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-compact-stop-" });
  try {
    const table = await openTable(dir);
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const target = appendTarget(table.store, FIELDS, []);
    for (let i = 0; i < 8; i++) {
      const result = await appendBatch(target, batchOf(FIELDS, [{ n: BigInt(i) }]), {
        readVersion: i,
        description: { operation: "WRITE", isBlindAppend: true },
      });
      assertEquals(result.outcome.kind, "committed");
    }
    const state = await snapshotOf(table);
    const size = [...state.files.values()][0]!.size;
    // Bins of two files each: four of them.
    const options = { targetFileSize: size * 2 + 1, minFiles: 2 };
    const stop = new AbortController();
    const outcomes = await compactOnce(table, state, { ...options, signal: stop.signal }, () => {
      stop.abort();
    });
    assertEquals(outcomes.map((o) => [o.kind, o.filesIn]), [["committed", 2]]);
    assertEquals((await snapshotOf(table)).files.size, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
