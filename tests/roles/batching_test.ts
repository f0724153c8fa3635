import { BatchWindow } from "../../src/roles/batching.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("a batch without a rate is complete at once and holds batchRows rows", () => {
  const w = new BatchWindow({ batchRows: 500, batchIntervalMs: 200, ratePerSecond: 0 }, 1000);
  assertEquals(w.shouldComplete(1000), true);
  assertEquals(w.msUntilComplete(1000), 0);
  assertEquals(w.complete(1000), 500);
});

Deno.test("a paced batch completes when its window runs out, carrying fractions of rows", () => {
  const w = new BatchWindow({ batchRows: 1000, batchIntervalMs: 200, ratePerSecond: 25 }, 0);
  assertEquals(w.shouldComplete(100), false);
  assertEquals(w.msUntilComplete(100), 100);
  assertEquals(w.shouldComplete(200), true);
  assertEquals(w.complete(200), 5);
  // 25 rows/s over 30 ms is 0.75 rows: nothing yet, carried over.
  assertEquals(w.complete(230), 0);
  assertEquals(w.complete(430), 5);
  assertEquals(w.openedAt, 430);
});

Deno.test("a paced batch completes early once it holds batchRows rows", () => {
  const w = new BatchWindow({ batchRows: 100, batchIntervalMs: 1000, ratePerSecond: 1000 }, 0);
  assertEquals(w.shouldComplete(99), false);
  assertEquals(w.msUntilComplete(50), 50);
  assertEquals(w.shouldComplete(100), true);
  assertEquals(w.complete(150), 100);
  // The 50 rows beyond the cap are owed to the next batch.
  assertEquals(w.rowsDue(150), 50);
});
