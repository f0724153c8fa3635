/**
 * A child's log reaches its file as it is written, not 64 KiB at a time.
 */

import { assertEquals, assertRejects } from "../_helpers/assert.ts";
import { drainToFile } from "../../src/util/drain_to_file.ts";

const encoder = new TextEncoder();

Deno.test("drainToFile() writes each chunk before it reads the next", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/out.log`;
  const lines = ["first line\n", "second line\n", "third line\n"];
  // What the file held each time the drain asked for another chunk.
  const seen: string[] = [];
  let next = 0;
  const readable = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.push(next === 0 ? "" : Deno.readTextFileSync(path));
      if (next < lines.length) controller.enqueue(encoder.encode(lines[next++]!));
      else controller.close();
    },
  }, { highWaterMark: 0 });
  await drainToFile(readable, path);
  assertEquals(seen, [
    "",
    "first line\n",
    "first line\nsecond line\n",
    "first line\nsecond line\nthird line\n",
  ]);
  assertEquals(await Deno.readTextFile(path), lines.join(""));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("drainToFile() shows a running child's stderr line while the child still runs", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/child.log`;
  // The child writes one short line, then waits until its stdin closes.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.stderr.writeSync(new TextEncoder().encode("progress: 1 s\\n"));
       for await (const _ of Deno.stdin.readable) { /* wait for the close */ }`,
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const draining = drainToFile(child.stderr, path);
  let text = "";
  try {
    // Poll until the line is in the file; a drain that holds it would leave
    // the file empty for as long as the child runs.
    for (let i = 0; i < 300 && !text.includes("progress: 1 s"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await Deno.readTextFile(path).catch(() => "");
    }
  } finally {
    await child.stdin.close();
    await child.status;
    await draining;
  }
  assertEquals(text, "progress: 1 s\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("drainToFile() appends to an existing file, or replaces it when asked", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/out.log`;
  await Deno.writeTextFile(path, "before\n");
  await drainToFile(ReadableStream.from([encoder.encode("after\n")]), path);
  assertEquals(await Deno.readTextFile(path), "before\nafter\n");
  await drainToFile(ReadableStream.from([encoder.encode("only\n")]), path, { append: false });
  assertEquals(await Deno.readTextFile(path), "only\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("drainToFile() cancels the stream when the file cannot be opened", async () => {
  let cancelled = false;
  const readable = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
  });
  await assertRejects(
    () => drainToFile(readable, "/nonexistent-dir/for/sure/out.log"),
    "No such file",
  );
  assertEquals(cancelled, true);
});
