/**
 * How the stream reports an ingest role's dropped batches: one that another
 * member committed first (a rebalance) is read again and loses nothing, so
 * it is not a failure; anything else stays one.
 */

import { assertEquals } from "../_helpers/assert.ts";
import { fenced } from "../../src/roles/ingest_role.ts";
import type { EventFields } from "../../src/roles/messages.ts";

const dropped = (detail: string): EventFields => ({
  role: "ingest",
  role_id: "ingest-0",
  event: "batch_failed",
  batch_seq: 11,
  rows: 100,
  detail,
});

Deno.test("a batch another member committed first is unacknowledged, not failed", () => {
  for (
    const detail of [
      "another consumer committed it",
      'application "g:t:3" already committed version 11 (>= 11)',
      'application "g:t:3" committed version 7 concurrently, after this transaction read it',
    ]
  ) {
    const e = fenced(dropped(detail));
    assertEquals(e.event, "batch_unacknowledged", detail);
    assertEquals(e.detail, `dropped, read again from the table's marker: ${detail}`);
    assertEquals([e.batch_seq, e.rows], [11, 100]);
  }
});

Deno.test("any other dropped batch stays a failure, and other events pass unchanged", () => {
  const gaveUp = dropped("gave up after 10 attempts");
  assertEquals(fenced(gaveUp), gaveUp);
  const committed: EventFields = {
    role: "ingest",
    role_id: "ingest-0",
    event: "batch_committed",
    detail: "another consumer committed it",
  };
  assertEquals(fenced(committed), committed);
});
