/**
 * A writer's announced batch lives in shared memory, so it is still there
 * after its worker is terminated, when the worker's own posts may be lost.
 */

import { announce, lastAnnounced, newAnnouncedSlot } from "../../src/roles/announced_slot.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("an announced slot reads as nothing until written, then as the last batch", () => {
  const slot = newAnnouncedSlot();
  assertEquals(lastAnnounced(slot), undefined);
  announce(slot, 0, 500);
  announce(slot, 1, 700);
  assertEquals(lastAnnounced(slot), { seq: 1, rows: 700 });
});

Deno.test("a batch a worker announced is read after the worker is terminated", async () => {
  const slot = newAnnouncedSlot();
  const module = new URL("../../src/roles/announced_slot.ts", import.meta.url).href;
  const source = `import { announce } from ${JSON.stringify(module)};
self.onmessage = (e) => {
  announce(e.data, 438, 20000);
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
  assertEquals(lastAnnounced(slot), { seq: 438, rows: 20000 });
});
