/** The run ledger settles every crash window of a writer the way the table says. */

import { RunLedger } from "../../src/roles/run_ledger.ts";
import { BatchTally } from "../../src/roles/batch_tally.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

/** The acknowledged batches of `writer`: its sequence ranges, and whether their rows are `rows`. */
function ackedOf(ledger: RunLedger, writer: string, rows: [number, number][]) {
  const tally = ledger.acknowledged.get(writer)!;
  const expected = new BatchTally();
  for (const [seq, n] of rows) expected.add(seq, n);
  return { ranges: [...tally.seqs.ranges()], same: tally.sameRows(expected) };
}

Deno.test("RunLedger acknowledges reported commits and keeps the first row count", () => {
  const ledger = new RunLedger();
  ledger.committing("writer-0", 0, 500);
  ledger.acked("writer-0", 0, 500);
  ledger.acked("writer-0", 0, 999);
  assertEquals(ackedOf(ledger, "writer-0", [[0, 500]]), { ranges: [[0, 0]], same: true });
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
  assertEquals(ackedOf(ledger, "writer-0", [[0, 100], [1, 200]]), {
    ranges: [[0, 1]],
    same: true,
  });
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

Deno.test("RunLedger holds the same memory after 300,000 batches as after 3,000, and totals them all", () => {
  const ledger = new RunLedger();
  let retainedAt3k = -1;
  let rows = 0;
  for (let seq = 0; seq < 100_000; seq++) {
    for (const writer of ["writer-0", "writer-1", "writer-2"]) {
      const n = 1000 + (seq % 17);
      ledger.committing(writer, seq, n);
      // One attempt in 50 fails and is tried again; one writer restarts
      // every 10,000 batches, its last batch settled from the table.
      if (seq % 50 === 7) {
        ledger.failed(writer, seq);
        ledger.committing(writer, seq, n);
      }
      if (seq % 10_000 === 9_999 && writer === "writer-1") ledger.reconcile(writer, seq);
      else ledger.acked(writer, seq, n);
      rows += n;
    }
    if (seq === 999) retainedAt3k = ledger.retained;
  }
  assertEquals(retainedAt3k, 6); // one range per writer
  assertEquals(ledger.retained, retainedAt3k);
  const totals = ledger.totals();
  assertEquals(totals.batchesAcknowledged, 300_000);
  assertEquals(totals.rowsAcknowledged, rows);
  assertEquals(totals.batchesPending, 0);
  assertEquals(totals.attemptsFailed, 3 * 2000);
  assert(ackedOf(ledger, "writer-2", []).ranges.length === 1);
});

Deno.test("BatchTally tells a batch with other rows, however the rows come in pieces", () => {
  const acked = new BatchTally();
  for (let seq = 0; seq < 5000; seq++) acked.add(seq, 1000 + (seq % 7));
  const found = new BatchTally();
  for (let seq = 4999; seq >= 0; seq--) {
    const n = 1000 + (seq % 7);
    found.addRows(seq, 600);
    found.addRows(seq, n - 600);
  }
  assert(acked.sameRows(found));
  // One row moved from one batch to another: same total, other batches.
  const moved = new BatchTally();
  for (let seq = 0; seq < 5000; seq++) {
    moved.addRows(seq, 1000 + (seq % 7) + (seq === 10 ? 1 : seq === 4000 ? -1 : 0));
  }
  assertEquals(moved.rows, acked.rows);
  assert(!acked.sameRows(moved));
  assertEquals([...moved.seqs.ranges()], [[0, 4999]]);
  // A second add of a held sequence changes nothing.
  assertEquals(acked.add(3, 1), false);
  assert(acked.sameRows(found));
});
