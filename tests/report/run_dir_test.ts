/** Run directories, the `latest` pointer, and the files written into a run directory. */

import { assert, assertEquals, assertMatch, assertRejects } from "../_helpers/assert.ts";
import {
  createRunDir,
  pointLatest,
  readLatest,
  RUN_FILES,
  runDirName,
  writeRunOutputs,
} from "../../src/report/run_dir.ts";
import { syntheticResults } from "../metrics/synthetic_run.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runDirName() is streaming- and the UTC time to the second", () => {
  assertEquals(runDirName(new Date("2026-11-27T10:55:04.999Z")), "streaming-20261127T105504Z");
  assertEquals(runDirName(new Date(Date.UTC(2027, 0, 2, 3, 4, 5))), "streaming-20270102T030405Z");
});

Deno.test("createRunDir() makes latest a relative symlink to the newest of two runs", async () => {
  await withTempDir(async (root) => {
    const out = `${root}/out`;
    const first = await createRunDir(out, new Date("2026-11-27T10:55:04Z"));
    assertEquals(first.name, "streaming-20261127T105504Z");
    assertEquals(first.path, `${out}/streaming-20261127T105504Z`);
    assertEquals(first.metricsCsv, `${first.path}/streaming_metrics.csv`);
    assert((await Deno.stat(first.path)).isDirectory);
    assertEquals(await Deno.readLink(`${out}/latest`), first.name);

    const second = await createRunDir(out, new Date("2026-11-27T11:00:00Z"));
    assertEquals(first.latest, "symlink");
    assertEquals(await Deno.readLink(`${out}/latest`), "streaming-20261127T110000Z");
    assertEquals(await readLatest(out), second.name);
    // The link resolves to the second run's directory.
    await Deno.writeTextFile(`${second.path}/probe`, "x");
    assertEquals(await Deno.readTextFile(`${out}/latest/probe`), "x");
    // No temporary links are left behind.
    const names = [];
    for await (const entry of Deno.readDir(out)) names.push(entry.name);
    assertEquals(names.sort(), ["latest", first.name, second.name].sort());
  });
});

Deno.test("createRunDir() never reuses a directory of a run started in the same second", async () => {
  await withTempDir(async (out) => {
    const when = new Date("2026-11-27T10:55:04Z");
    const a = await createRunDir(out, when);
    const b = await createRunDir(out, when);
    const c = await createRunDir(out, when);
    assertEquals([a.name, b.name, c.name], [
      "streaming-20261127T105504Z",
      "streaming-20261127T105504Z-2",
      "streaming-20261127T105504Z-3",
    ]);
    assertEquals(await readLatest(out), c.name);
  });
});

Deno.test("pointLatest() refuses to replace a real directory named latest", async () => {
  await withTempDir(async (out) => {
    await Deno.mkdir(`${out}/latest/inside`, { recursive: true });
    await assertRejects(() => pointLatest(out, "streaming-x"), /latest/);
    assert((await Deno.stat(`${out}/latest/inside`)).isDirectory);
  });
});

Deno.test("readLatest() falls back to latest.txt and reports nothing when neither exists", async () => {
  await withTempDir(async (out) => {
    assertEquals(await readLatest(out), undefined);
    await Deno.writeTextFile(`${out}/latest.txt`, "streaming-20261127T105504Z\n");
    assertEquals(await readLatest(out), "streaming-20261127T105504Z");
    // A symlink, once made, replaces the fallback file.
    await Deno.mkdir(`${out}/streaming-b`);
    await pointLatest(out, "streaming-b");
    assertEquals(await readLatest(out), "streaming-b");
    assert(
      (await assertRejects(() => Deno.stat(`${out}/latest.txt`))) instanceof Deno.errors.NotFound,
    );
  });
});

Deno.test("writeRunOutputs() writes the results, summary and report", async () => {
  await withTempDir(async (out) => {
    const dir = await createRunDir(out, new Date("2026-11-27T10:55:04Z"));
    const results = syntheticResults();
    await writeRunOutputs(dir, results);
    const json = JSON.parse(await Deno.readTextFile(dir.resultsJson));
    assertEquals(json, JSON.parse(JSON.stringify(results)));
    assertEquals(json.totals.rows_acknowledged, 3500);
    assertMatch(await Deno.readTextFile(dir.summaryMd), /\*\*Verification: PASSED\*\*/);
    assertMatch(await Deno.readTextFile(`${out}/latest/${RUN_FILES.report}`), /^<!DOCTYPE html>/);
    const names = [];
    for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
    assertEquals(names.sort(), [RUN_FILES.report, RUN_FILES.results, RUN_FILES.summary].sort());
  });
});

Deno.test("writeRunOutputs() writes bigints in the configuration as JSON numbers or strings", async () => {
  await withTempDir(async (out) => {
    const results = syntheticResults();
    results.config = { small: 5n, huge: 2n ** 70n };
    await writeRunOutputs(out, results);
    const json = JSON.parse(await Deno.readTextFile(`${out}/${RUN_FILES.results}`));
    assertEquals(json.config, { small: 5, huge: "1180591620717411303424" });
  });
});
