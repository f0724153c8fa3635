/**
 * Progress lines of long commands (`verify`, `vacuum`, `scan --output`): a
 * throttled line on stderr, on a terminal only and never with --json, erased
 * before the result prints. `vacuum` and `scan` are run in this process with
 * a recording progress line, since a child's stderr is never a terminal.
 */

import { ProgressLine, progressLine } from "../../src/cli/progress.ts";
import { parseVacuumArgs, runVacuum } from "../../src/cli/vacuum.ts";
import { parseScanArgs, runScan, scanShowsProgress } from "../../src/cli/scan.ts";
import { vacuum, type VacuumProgress } from "../../src/ops/vacuum.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";

const ERASE = "\r\x1b[2K";

/** A progress line that records what it writes, on a clock the test moves. */
function recording(intervalMs = 200) {
  const out: string[] = [];
  const clock = { now: 1_000 };
  const line = new ProgressLine(true, (text) => out.push(text), () => clock.now, intervalMs);
  return { line, out, clock };
}

Deno.test("a progress line shows its first update, then at most one per interval unless forced", () => {
  const { line, out, clock } = recording();
  line.update("a");
  clock.now += 100;
  line.update("b");
  line.update("c", true);
  clock.now += 150;
  line.update("d");
  clock.now += 50;
  line.update("e");
  line.clear();
  line.clear();
  assertEquals(out, [`${ERASE}a`, `${ERASE}c`, `${ERASE}e`, ERASE]);
});

Deno.test("a disabled progress line writes nothing, and --json disables it", () => {
  const out: string[] = [];
  const line = new ProgressLine(false, (text) => out.push(text));
  line.update("a", true);
  line.clear();
  assertEquals(out, []);
  assertEquals(progressLine(true).enabled, false);
});

/** A table of 3 rows with `orphans` unreferenced data files a month old. */
async function tableWithOrphans(dir: string, orphans: number): Promise<void> {
  await Deno.writeTextFile(`${dir}/rows.csv`, "n\n1\n2\n3\n");
  const w = await cli(["write", `${dir}/t`, "--input", `${dir}/rows.csv`]);
  assertEquals(w.code, 0, w.stderr);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000);
  for (let i = 0; i < orphans; i++) {
    const path = `${dir}/t/part-0000${i}-orphan.c000.snappy.parquet`;
    await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
    await Deno.utime(path, monthAgo, monthAgo);
  }
}

Deno.test("vacuum shows the listing and the deletions on its progress line, then erases it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-progress-" });
  try {
    await tableWithOrphans(dir, 3);
    const { line, out } = recording(0);
    assertEquals(await runVacuum(parseVacuumArgs([`${dir}/t`]), line), 0);
    assertEquals(out, [
      `${ERASE}vacuum: listed 4 files, reading the log`,
      `${ERASE}vacuum: deleted 0 of 3 files`,
      `${ERASE}vacuum: deleted 3 of 3 files`,
      ERASE,
    ]);
    const left = [...Deno.readDirSync(`${dir}/t`)].filter((e) => e.name.includes("orphan"));
    assertEquals(left, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vacuum reports its progress only when asked, and with it deletes the same files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-progress-" });
  try {
    await tableWithOrphans(dir, 2);
    const table = await openTable(`${dir}/t`);
    const seen: VacuumProgress[] = [];
    const dry = await vacuum(table.store, () => snapshotOf(table), {
      dryRun: true,
      onProgress: (p) => seen.push(p),
    });
    assertEquals(seen, [{ phase: "listed", files: 3 }], "a dry run deletes nothing");
    assertEquals(dry.plan.delete.length, 2);
    seen.length = 0;
    const done = await vacuum(table.store, () => snapshotOf(table), {
      onProgress: (p) => seen.push(p),
    });
    assertEquals(done.filesDeleted, 2);
    assertEquals(seen.at(-1), { phase: "deleting", done: 2, total: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan --output shows the rows written on its progress line, then erases it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-progress-" });
  try {
    await tableWithOrphans(dir, 0);
    const { line, out } = recording(0);
    const args = parseScanArgs([`${dir}/t`, "--output", `${dir}/out.ndjson`], false);
    assertEquals(await runScan(args, line), 0);
    assertEquals(out, [`${ERASE}scan: wrote 3 rows, read 1 of 1 files`, ERASE]);
    const rows = (await Deno.readTextFile(`${dir}/out.ndjson`)).trimEnd().split("\n");
    assertEquals(rows.map((r) => JSON.parse(r).n), [1, 2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vacuum and scan --output print no progress where stderr is not a terminal", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-progress-" });
  try {
    await tableWithOrphans(dir, 1);
    const v = await cli(["vacuum", `${dir}/t`]);
    assertEquals(v.code, 0, v.stderr);
    const s = await cli(["scan", `${dir}/t`, "--output", `${dir}/out.csv`, "--format", "csv"]);
    assertEquals(s.code, 0, s.stderr);
    for (const r of [v, s]) assert(!r.stderr.includes("\x1b[2K"), r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan shows progress on a terminal's stderr while its rows go to a file or a redirected stdout, never over them nor with --json", () => {
  const shows = (argv: string[], stdout: boolean, stderr: boolean) =>
    scanShowsProgress(parseScanArgs(["t", ...argv], stdout), { stdout, stderr });
  // stdout redirected to a file, stderr on the terminal.
  assertEquals(shows([], false, true), true);
  assertEquals(shows(["--format", "csv"], false, true), true);
  // The rows on the terminal: the line would be drawn over them.
  assertEquals(shows([], true, true), false);
  // --output, whatever stdout is.
  assertEquals(shows(["--output", "rows.ndjson"], true, true), true);
  assertEquals(shows(["--output", "rows.ndjson"], false, true), true);
  // Never with --json, nor where stderr is not a terminal.
  assertEquals(shows(["--json"], false, true), false);
  assertEquals(shows(["--json", "--output", "rows.ndjson"], true, true), false);
  assertEquals(shows([], false, false), false);
  assertEquals(shows(["--output", "rows.ndjson"], true, false), false);
});
