/**
 * A child's log reaches its file as it is written, not 64 KiB at a time.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { drainToFile, drainToSink } from "../../src/util/drain_to_file.ts";
import { RotatingFile } from "../../src/util/rotating_file.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

Deno.test("drainToSink() writes the stderr of several children into one capped, rotating roles.log", async () => {
  const dir = await Deno.makeTempDir();
  const log = new RotatingFile(`${dir}/roles.log`, { segmentBytes: 4096, maxBytes: 16 * 1024 });
  // Three children, as three roles, each writing 400 numbered lines of about 60 bytes.
  const children = [0, 1, 2].map((id) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `for (let i = 0; i < 400; i++) console.error("role-${id} line " + String(i).padStart(4, "0") + " " + "x".repeat(40));`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn()
  );
  await Promise.all(children.map((c) => drainToSink(c.stderr, log)));
  await Promise.all(children.map((c) => c.status));
  await log.close();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert(names.some((n) => /^roles\.\d{6}\.log\.gz$/.test(n)), names.join(", "));
  let kept = 0;
  for (const name of names) kept += (await Deno.stat(`${dir}/${name}`)).size;
  // 72 KB written, 16 KiB kept (a chunk may cross the cap at a cut).
  assert(kept <= 16 * 1024 + 4096, `${kept} bytes kept`);
  // What is kept, oldest first, holds each role's lines in order and none
  // missing after its first kept one: only the oldest were deleted.
  let text = "";
  for (const name of names.filter((n) => n.endsWith(".gz"))) {
    const file = await Deno.open(`${dir}/${name}`);
    text += await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).text();
  }
  text += await Deno.readTextFile(`${dir}/roles.log`);
  const seen = new Map<string, number[]>();
  for (const match of text.matchAll(/(role-\d) line (\d{4}) x{40}\n/g)) {
    const lines = seen.get(match[1]!) ?? [];
    lines.push(Number(match[2]));
    seen.set(match[1]!, lines);
  }
  assert(seen.size > 0, "no line kept");
  for (const [role, lines] of seen) {
    assertEquals(lines, lines.map((_, i) => lines[0]! + i), `${role}'s lines are not a run`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("drainToSink() writes whole lines, so that streams sharing a sink never splice a line", async () => {
  const writes: string[] = [];
  const sink = { writeSync: (bytes: Uint8Array) => void writes.push(decoder.decode(bytes)) };
  // Stream a's second line comes in two chunks, and stream b's line between them.
  let bWrote!: () => void;
  const bDone = new Promise<void>((resolve) => (bWrote = resolve));
  let aSplit!: () => void;
  const aHalf = new Promise<void>((resolve) => (aSplit = resolve));
  const a = ReadableStream.from((async function* () {
    yield encoder.encode("a one\na tw");
    aSplit();
    await bDone;
    yield encoder.encode("o\na thr");
    yield encoder.encode("ee");
  })());
  const b = ReadableStream.from((async function* () {
    await aHalf;
    yield encoder.encode("b one\n");
    bWrote();
  })());
  await Promise.all([drainToSink(a, sink), drainToSink(b, sink)]);
  assertEquals(writes.join("").split("\n"), ["a one", "b one", "a two", "a three"]);
});
