/**
 * A writer's announced batches live in shared memory, so they are still
 * there after its worker is terminated, when the worker's own posts may be
 * lost: every one of the latest `ANNOUNCED_KEPT`, not only the last, since a
 * busy host may have more than one post of the writer undelivered.
 */

import {
  announce,
  ANNOUNCED_KEPT,
  lastAnnounced,
  newAnnouncedSlot,
  recentAnnounced,
} from "../../src/roles/announced_slot.ts";
import { RunLedger } from "../../src/roles/run_ledger.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("an announced slot reads as nothing until written, then as the last batch", () => {
  const slot = newAnnouncedSlot();
  assertEquals(lastAnnounced(slot), undefined);
  assertEquals(recentAnnounced(slot), []);
  announce(slot, 0, 500);
  announce(slot, 1, 700);
  assertEquals(lastAnnounced(slot), { seq: 1, rows: 700 });
});

Deno.test("an announced slot keeps the latest batches, oldest first, and a batch retried once", () => {
  const slot = newAnnouncedSlot();
  for (let seq = 0; seq < ANNOUNCED_KEPT + 10; seq++) announce(slot, seq, 100 + seq);
  announce(slot, ANNOUNCED_KEPT + 9, 100 + ANNOUNCED_KEPT + 9);
  const kept = recentAnnounced(slot);
  assertEquals(kept.length, ANNOUNCED_KEPT);
  assertEquals(kept[0], { seq: 10, rows: 110 });
  assertEquals(kept.at(-1), { seq: ANNOUNCED_KEPT + 9, rows: 100 + ANNOUNCED_KEPT + 9 });
});

Deno.test("batches a worker announced whose posts were lost are all read after it is terminated, and the run settles each", async () => {
  const slot = newAnnouncedSlot();
  const module = new URL("../../src/roles/announced_slot.ts", import.meta.url).href;
  // As a writer whose host was busy: three batches announced (and committed)
  // whose committing posts the host never received before the kill.
  const source = `import { announce } from ${JSON.stringify(module)};
self.onmessage = (e) => {
  for (const seq of [436, 437, 438]) announce(e.data, seq, 20000 + seq);
  self.postMessage("announced");
  // As a writer between its commit and its next turn: terminated, not stopped.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};`;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const heard = new Promise((resolve) => (worker.onmessage = resolve));
    worker.postMessage(slot);
    await heard;
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
  assertEquals(lastAnnounced(slot), { seq: 438, rows: 20438 });
  // The run heard of batch 435 only; as the host reports the slot after a kill.
  const ledger = new RunLedger();
  ledger.committing("writer-2", 435, 20435);
  for (const batch of recentAnnounced(slot)) ledger.announced("writer-2", batch.seq, batch.rows);
  assertEquals(
    ledger.reconcile("writer-2", 438).map((s) => [s.seq, s.rows, s.outcome]),
    [
      [435, 20435, "acknowledged"],
      [436, 20436, "acknowledged"],
      [437, 20437, "acknowledged"],
      [438, 20438, "acknowledged"],
    ],
  );
});
