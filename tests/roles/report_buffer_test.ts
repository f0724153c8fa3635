import { ReportBuffer } from "../../src/roles/report_buffer.ts";
import type { Report } from "../../src/roles/messages.ts";
import { assertEquals } from "../_helpers/assert.ts";

const acked = (seq: number): Report => ({
  type: "acked",
  id: "writer-0",
  seq,
  rows: 10,
  version: seq,
});
const committing = (seq: number): Report => ({ type: "committing", id: "writer-0", seq, rows: 10 });
const event = (seq: number): Report => ({
  type: "event",
  at: 0,
  event: { role: "writer", role_id: "writer-0", event: "batch_committed", batch_seq: seq },
});

function buffered(maxDelayMs = 60_000) {
  const posts: Report[][] = [];
  const buffer = new ReportBuffer((reports) => posts.push(reports), { maxDelayMs });
  return { posts, buffer };
}

Deno.test("ReportBuffer holds acknowledgements and events until the next committing, in order", () => {
  const { posts, buffer } = buffered();
  buffer.send(committing(0));
  buffer.send(acked(0));
  buffer.send(event(0));
  assertEquals(posts, [[committing(0)]]);
  assertEquals(buffer.held, 2);
  buffer.send(committing(1));
  assertEquals(posts, [[committing(0)], [acked(0), event(0), committing(1)]]);
  assertEquals(buffer.held, 0);
});

Deno.test("ReportBuffer posts at once every report a role may not go on without", () => {
  const urgent: Report[] = [
    { type: "ready", id: "compactor-0" },
    { type: "recovered", id: "writer-0", lastSeq: 3, version: 9 },
    committing(4),
    { type: "dying", id: "writer-0", phase: "after-commit", seq: 4 },
    { type: "stopped", id: "writer-0" },
    { type: "idle", id: "ingest-0" },
    { type: "halt", id: "ingest-0", check: "kafka_messages_fit", message: "no" },
    { type: "fatal", id: "writer-0", message: "failed" },
  ];
  for (const report of urgent) {
    const { posts, buffer } = buffered();
    buffer.send(acked(1));
    buffer.send(report);
    assertEquals(posts, [[acked(1), report]], report.type);
  }
});

Deno.test("ReportBuffer posts held reports after at most its delay, once", async () => {
  const { posts, buffer } = buffered(20);
  buffer.send(acked(0));
  buffer.send(event(0));
  assertEquals(posts.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assertEquals(posts, [[acked(0), event(0)]]);
  buffer.send(acked(1));
  buffer.flush();
  buffer.flush();
  assertEquals(posts, [[acked(0), event(0)], [acked(1)]]);
  // The flush cleared the timer: nothing more is posted, and no timer leaks.
  await new Promise((resolve) => setTimeout(resolve, 40));
  assertEquals(posts.length, 2);
});
