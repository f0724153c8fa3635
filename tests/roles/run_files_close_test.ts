/**
 * A stream closes its run files (the metrics CSV, roles.log) on every path
 * out of its end: when the verification or the footprint step throws, the
 * files are still closed, their older segments' gzip finished, and the
 * step's error is the run's outcome.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { closingAfter } from "../../src/roles/orchestrator.ts";
import { RotatingFile } from "../../src/util/rotating_file.ts";

const encoder = new TextEncoder();

async function gunzip(path: string): Promise<string> {
  const file = await Deno.open(path);
  return await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).text();
}

Deno.test("closingAfter() closes the run files when the verification throws, and rethrows its error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-files-close-" });
  const file = new RotatingFile(`${dir}/streaming_metrics.csv`, {
    header: encoder.encode("n\n"),
    segmentBytes: 4096,
    truncate: true,
  });
  // Enough lines to cut segments, whose gzip runs in the background.
  for (let n = 0; n < 2_000; n++) file.writeSync(encoder.encode(`${n}\n`));
  assert(file.segments.length > 0, "the test must cut segments");
  await assertRejects(
    () =>
      closingAfter(
        () => Promise.reject(new Error("Cannot read the table back")),
        () => file.close(),
      ),
    "Cannot read the table back",
  );
  assertEquals(file.open, false);
  for (const segment of file.segments) {
    assert(segment.endsWith(".gz"), `${segment} is not compressed`);
    assert((await gunzip(segment)).startsWith("n\n"));
  }
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  assertEquals(names.filter((n) => n.includes(".tmp")), [], "no unfinished gzip is left");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("closingAfter() keeps the step's error when closing fails too", async () => {
  await assertRejects(
    () =>
      closingAfter(
        () => Promise.reject(new Error("Cannot list the table")),
        () => Promise.reject(new Error("Cannot rotate roles.log")),
      ),
    "Cannot list the table",
  );
});

Deno.test("closingAfter() closes after a step that succeeds and returns its result", async () => {
  const order: string[] = [];
  const result = await closingAfter(
    () => {
      order.push("verify");
      return Promise.resolve(42);
    },
    () => {
      order.push("close");
      return Promise.resolve();
    },
  );
  assertEquals(result, 42);
  assertEquals(order, ["verify", "close"]);
});
