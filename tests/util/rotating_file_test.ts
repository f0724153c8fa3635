/**
 * A capped log of a run of days keeps its newest lines within its cap, in
 * whole gzipped segments that each start with the header.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { RotatingFile, segmentBytesFor } from "../../src/util/rotating_file.ts";
import { MetricsRecorder } from "../../src/metrics/recorder.ts";
import { EVENT_COLUMNS } from "../../src/metrics/events.ts";

const encoder = new TextEncoder();

async function gunzip(path: string): Promise<string> {
  const file = await Deno.open(path);
  return await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).text();
}

async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    total += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return total;
}

Deno.test("RotatingFile keeps the newest lines within its cap, each segment gzipped with the header", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rotating-" });
  const path = `${dir}/events.csv`;
  const log = new RotatingFile(path, {
    header: encoder.encode("n,text\n"),
    segmentBytes: 64 * 1024,
    maxBytes: 256 * 1024,
    truncate: true,
  });
  // 20,000 lines of 100 B: 2 MB written, eight times the cap. Random text
  // compresses poorly, so the cap, not the compression, bounds what stays.
  const random = () => crypto.getRandomValues(new Uint8Array(45));
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  for (let n = 0; n < 20_000; n++) {
    log.writeSync(encoder.encode(`${String(n).padStart(8, "0")},${hex(random())}\n`));
    if (n % 100 === 0) {
      await log.settled();
      // Within the cap all along, not only at the end (a line may cross it at a cut).
      const now = await bytesIn(dir);
      assert(now <= 256 * 1024 + 100, `${now} bytes kept after ${n} lines`);
    }
  }
  await log.close();
  const kept = await bytesIn(dir);
  assert(kept <= 256 * 1024, `${kept} bytes kept, over the cap`);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert(names.length >= 3, names.join(", "));
  assertEquals(names.at(-1), "events.csv");
  assert(names.slice(0, -1).every((n) => /^events\.\d{6}\.csv\.gz$/.test(n)), names.join(", "));
  assert(!names.includes("events.000001.csv.gz"), "the oldest segment was not deleted");
  // Concatenated oldest first, the segments and the file are the newest lines, whole and in order.
  const lines: number[] = [];
  for (const name of names) {
    const text = name.endsWith(".gz")
      ? await gunzip(`${dir}/${name}`)
      : await Deno.readTextFile(`${dir}/${name}`);
    const [header, ...rows] = text.trimEnd().split("\n");
    assertEquals(header, "n,text");
    for (const row of rows) {
      assertEquals(row.length, 8 + 1 + 90);
      lines.push(Number(row.slice(0, 8)));
    }
  }
  assertEquals(lines.at(-1), 19_999);
  assertEquals(lines, Array.from({ length: lines.length }, (_, i) => lines[0]! + i));
  assertEquals(log.segments.map((p) => p.slice(dir.length + 1)), names.slice(0, -1));
});

Deno.test("RotatingFile keeps within its cap when a segment cannot be compressed, and close() says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rotating-" });
  // The first segment's temporary .gz cannot be opened for writing: a
  // non-empty directory holds its name.
  const blocked = `${dir}/events.000001.csv.gz.tmp`;
  await Deno.mkdir(blocked);
  await Deno.writeTextFile(`${blocked}/keep`, "x");
  const log = new RotatingFile(`${dir}/events.csv`, {
    segmentBytes: 16 * 1024,
    maxBytes: 64 * 1024,
    truncate: true,
  });
  const random = () => crypto.getRandomValues(new Uint8Array(45));
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  for (let n = 0; n < 5_000; n++) {
    log.writeSync(encoder.encode(`${String(n).padStart(8, "0")},${hex(random())}\n`));
  }
  await assertRejects(() => log.close());
  let kept = 0;
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    names.push(entry.name);
    kept += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  // 500 KB written: the plain segment that could not be compressed went in
  // its turn, and the segments after it too.
  assert(kept <= 64 * 1024, `${kept} bytes kept, over the cap: ${names.sort().join(", ")}`);
  assert(!names.includes("events.000001.csv"), names.join(", "));
  assertEquals(Deno.readDirSync(blocked).toArray().map((e) => e.name), ["keep"]);
});

Deno.test("RotatingFile goes on writing when a segment cannot be cut, and cuts it at the next write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rotating-" });
  // The first segment's name is taken by a non-empty directory: the rename fails.
  await Deno.mkdir(`${dir}/roles.000001.log`);
  await Deno.writeTextFile(`${dir}/roles.000001.log/keep`, "x");
  const log = new RotatingFile(`${dir}/roles.log`, { segmentBytes: 1000 });
  for (let i = 0; i < 100; i++) log.writeSync(encoder.encode(`line ${i} ${"x".repeat(90)}\n`));
  await assertRejects(() => log.close());
  const names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  assertEquals(names[0], "roles.000002.log.gz");
  let text = "";
  for (const name of names.slice(0, -1)) text += await gunzip(`${dir}/${name}`);
  text += await Deno.readTextFile(`${dir}/roles.log`);
  const lines = text.trimEnd().split("\n").map((l) => Number(l.split(" ")[1]));
  assertEquals(lines, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("RotatingFile without a cap keeps every segment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rotating-" });
  const log = new RotatingFile(`${dir}/roles.log`, { segmentBytes: 1000 });
  // Lines of 98 and 99 bytes: a segment is cut after the line that reaches
  // 1,000 bytes, so every 11 lines; 100 lines make 9 segments and a file.
  for (let i = 0; i < 100; i++) log.writeSync(encoder.encode(`line ${i} ${"x".repeat(90)}\n`));
  await log.close();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(names.length, 10);
  assertEquals(names[0], "roles.000001.log.gz");
  let text = "";
  for (const name of names.slice(0, -1)) text += await gunzip(`${dir}/${name}`);
  text += await Deno.readTextFile(`${dir}/roles.log`);
  assertEquals(text.split("\n").length - 1, 100);
  assert(text.startsWith("line 0 "), text.slice(0, 20));
});

Deno.test("segmentBytesFor() cuts a quarter of a small cap (4 KiB at least) and 64 MiB of a large one", () => {
  assertEquals(segmentBytesFor(0), 64 * 1024 * 1024);
  assertEquals(segmentBytesFor(1024 * 1024 * 1024), 64 * 1024 * 1024);
  assertEquals(segmentBytesFor(4 * 1024 * 1024), 1024 * 1024);
  assertEquals(segmentBytesFor(1000), 4 * 1024);
});

Deno.test("a capped metrics recorder keeps every event's tally while its CSV stays within the cap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rotating-recorder-" });
  const recorder = new MetricsRecorder(`${dir}/streaming_metrics.csv`, {
    startMs: 0,
    now: () => 0,
    maxBytes: 200 * 1024,
    segmentBytes: 50 * 1024,
  });
  for (let seq = 0; seq < 20_000; seq++) {
    recorder.record({
      t_ms: seq,
      time: new Date(seq).toISOString(),
      role: "writer",
      role_id: "writer-0",
      event: "batch_committed",
      rows: 100,
      batch_seq: seq,
      commit_ms: 5 + (seq % 7),
    });
  }
  await recorder.close();
  assert((await bytesIn(dir)) <= 200 * 1024, "the CSV passed its cap");
  assert(recorder.segments.length >= 2, `${recorder.segments.length} segments`);
  // The report's figures come from the tally, which saw all 20,000 commits.
  assertEquals(recorder.writers.get("writer-0")?.rows, 2_000_000);
  const current = await Deno.readTextFile(`${dir}/streaming_metrics.csv`);
  assertEquals(current.split("\n")[0], EVENT_COLUMNS.join(","));
  assert(
    current.trimEnd().split("\n").at(-1)!.includes(",19999,"),
    "the newest event is in the CSV",
  );
});
