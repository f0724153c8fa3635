/**
 * `neuralake optimize` as a nightly cron job runs it: a shell script calls
 * the command line twice; the first run compacts, the second is a no-op, and
 * delta-rs reads the same rows before and after. Also `--where` on
 * partition columns, its refusal of other columns, `--dry-run` and `--help`.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { cli } from "../_helpers/cli.ts";
import { canonicalRows, readWithDeltaRs } from "../_helpers/delta_rs.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const FIELDS: Field[] = [
  { name: "session", type: "string", nullable: true },
  { name: "n", type: "long", nullable: true },
];

/** Two sessions (partitions), each written as four one-row appends. */
async function smallFilesTable(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-optimize-" });
  const table = await openTable(dir);
  let n = 0n;
  for (let i = 0; i < 4; i++) {
    for (const session of ["s1", "s2"]) {
      await writeTable(table, sourceOf(batchOf(FIELDS, [{ session, n: n++ }])), {
        partitionBy: ["session"],
      });
    }
  }
  return dir;
}

Deno.test("a cron-style script runs optimize twice: it compacts, then does nothing", async () => {
  const dir = await smallFilesTable();
  const before = await readWithDeltaRs(dir);
  // What a crontab line would run; `set -e` fails the job on a non-zero exit.
  const script = `set -e
for run in 1 2; do
  "${Deno.execPath()}" run -A --quiet --config "${CONFIG}" "${MAIN}" optimize "$TABLE" --json > "$OUT/run$run.json"
done`;
  const out = await Deno.makeTempDir();
  const job = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { TABLE: dir, OUT: out },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(job.code, 0, new TextDecoder().decode(job.stderr));
  const first = JSON.parse(await Deno.readTextFile(`${out}/run1.json`));
  const second = JSON.parse(await Deno.readTextFile(`${out}/run2.json`));
  assertEquals(
    [first.files_before, first.files_after, first.bins_committed, first.files_removed],
    [8, 2, 2, 8],
  );
  assertEquals(first.version_after, first.version_before + 2);
  assert(first.bytes_before > 0 && first.bytes_after > 0 && first.elapsed_ms >= 0);
  assertEquals(
    [second.files_before, second.files_after, second.bins_planned, second.version_after],
    [2, 2, 0, first.version_after],
  );
  const after = await readWithDeltaRs(dir);
  assertEquals(after.version, first.version_after);
  assertEquals(canonicalRows(after.rows), canonicalRows(before.rows));
  assertEquals(after.rows.length, 8);
});

Deno.test("optimize --where compacts only the matching partitions", async () => {
  const dir = await smallFilesTable();
  const result = await cli(["optimize", dir, "--where", "session = 's2'", "--json"]);
  assertEquals(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assertEquals([json.files_in_scope, json.bins_committed, json.files_after], [4, 1, 5]);
  assertEquals(json.bins[0].partition, { session: "s2" });
  const snapshot = await snapshotOf(await openTable(dir));
  const s1 = [...snapshot.files.values()].filter((f) => f.partitionValues.session === "s1");
  assertEquals(s1.length, 4);
});

Deno.test("optimize --where refuses a column that is not a partition column, by name", async () => {
  const dir = await smallFilesTable();
  const result = await cli(["optimize", dir, "--where", "n > 3"]);
  assertEquals(result.code, 2);
  assert(result.stderr.includes(`"n" is not one (partition columns: session)`), result.stderr);
  assertEquals((await snapshotOf(await openTable(dir))).version, 7, "nothing committed");
});

Deno.test("optimize --dry-run plans without committing", async () => {
  const dir = await smallFilesTable();
  const result = await cli(["optimize", dir, "--dry-run", "--json"]);
  assertEquals(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assertEquals([json.dry_run, json.bins_planned, json.bins_committed], [true, 2, 0]);
  assertEquals([json.files_after, json.version_after], [8, 7]);
  assertEquals((await snapshotOf(await openTable(dir))).files.size, 8);
});

Deno.test("optimize --help documents every option, and a bad size is a usage error", async () => {
  const help = await cli(["optimize", "--help"]);
  assertEquals(help.code, 0);
  for (const flag of ["--target-size", "--where", "--dry-run", "--json", "--min-files"]) {
    assert(help.stdout.includes(flag), `help lacks ${flag}`);
  }
  const bad = await cli(["optimize", "/tmp/x", "--target-size", "lots"]);
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("--target-size"), bad.stderr);
});

Deno.test("an interrupted optimize keeps the bins it committed and starts no other", async () => {
  const dir = await smallFilesTable();
  try {
    const stop = new AbortController();
    const result = await optimizeTable(await openTable(dir), {
      minFiles: 2,
      targetFileSize: 128 << 20,
      signal: stop.signal,
      onBin: () => stop.abort(),
    });
    assertEquals([result.bins.length, result.committed, result.interrupted], [2, 1, true]);
    const after = await snapshotOf(await openTable(dir));
    assertEquals(after.files.size, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
