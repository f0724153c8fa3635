/** The run ledger settles every crash window of a writer the way the table says. */

import { RunLedger } from "../../src/roles/run_ledger.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("RunLedger acknowledges reported commits and keeps the first row count", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-0", 0, 500);
  ledger.acked("writer-0", 0, 500);
  ledger.acked("writer-0", 0, 999);
  assertEquals(ledger.acknowledged.get("writer-0"), new Map([[0, 500]]));
  assertEquals(ledger.totals(), {
    batchesAcknowledged: 1,
    rowsAcknowledged: 500,
    batchesPending: 0,
    attemptsFailed: 0,
    batchesUnacknowledged: 0,
  });
});

Deno.test("RunLedger.reconcile() acknowledges in-flight batches the table holds, and only those", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-0", 0, 100);
  ledger.acked("writer-0", 0, 100);
  // Killed after committing batch 1 and before reporting it; batch 2 never landed.
  ledger.committing("writer-0", 1, 200);
  ledger.committing("writer-0", 2, 300);
  const settled = ledger.reconcile("writer-0", 1);
  assertEquals(settled, [
    { writer: "writer-0", seq: 1, rows: 200, outcome: "acknowledged" },
    { writer: "writer-0", seq: 2, rows: 300, outcome: "unacknowledged" },
  ]);
  assertEquals(ledger.acknowledged.get("writer-0"), new Map([[0, 100], [1, 200]]));
  assertEquals(ledger.totals().batchesPending, 0);
  assertEquals(ledger.totals().batchesUnacknowledged, 1);
  // Settling again finds nothing in flight.
  assertEquals(ledger.reconcile("writer-0", 5), []);
});

Deno.test("RunLedger.reconcile() with no commit in the table leaves nothing acknowledged", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-1", 0, 10);
  assertEquals(ledger.reconcile("writer-1", -1).map((s) => s.outcome), ["unacknowledged"]);
  assertEquals(ledger.totals().rowsAcknowledged, 0);
  assertEquals(ledger.reconcile("writer-2", 3), [], "a writer without batches");
});

Deno.test("RunLedger counts failed attempts and drops them from the in-flight set", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-0", 4, 10);
  ledger.failed("writer-0", 4);
  assertEquals(ledger.totals().attemptsFailed, 1);
  assertEquals(ledger.totals().batchesPending, 0);
  // The retry of the same sequence commits.
  ledger.committing("writer-0", 4, 12);
  ledger.acked("writer-0", 4, 12);
  assertEquals(ledger.totals().rowsAcknowledged, 12);
  assertEquals(ledger.writers(), ["writer-0"]);
});

Deno.test("RunLedger.announced() puts a batch whose committing report was lost in flight, and nothing the ledger heard of", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-2", 437, 20_000);
  // Killed just after committing 438: its post was lost with the worker, the
  // shared slot still says 438.
  ledger.announced("writer-2", 438, 20_000);
  // Known batches (or older ones) change nothing.
  ledger.announced("writer-2", 437, 1);
  ledger.announced("writer-2", 12, 1);
  assertEquals(ledger.reconcile("writer-2", 438), [
    { writer: "writer-2", seq: 437, rows: 20_000, outcome: "acknowledged" },
    { writer: "writer-2", seq: 438, rows: 20_000, outcome: "acknowledged" },
  ]);
  assertEquals(ledger.totals().rowsAcknowledged, 40_000);
  // A batch announced and never committed is settled as not committed.
  ledger.announced("writer-2", 439, 20_000);
  assertEquals(ledger.reconcile("writer-2", 438), [
    { writer: "writer-2", seq: 439, rows: 20_000, outcome: "unacknowledged" },
  ]);
});
