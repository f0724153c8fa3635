/**
 * Time travel by timestamp against delta-rs (`DeltaTable.load_as_version`
 * with a datetime): the same version and the same rows, on local disk and
 * S3 (commit times from the listing's LastModified), and on a Spark table
 * with in-commit timestamps. Where the engines part (a time before the
 * first commit: delta-rs gives version 0, neuralake an error naming the
 * earliest time, as Spark), the test says so.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { openTable, TimestampBeforeTableError, versionAtTime } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { cli } from "../_helpers/cli.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

for (const backend of BACKENDS) {
  Deno.test(`${backend.name}: --timestamp picks the version delta-rs picks, with its rows`, async () => {
    const { uri, table } = await backend.newTable("time-travel");
    const storageOptions = backend.storageOptions();
    for (let v = 0; v < 4; v++) {
      // Commits over 2 s apart: delta-rs may see commit times in whole
      // seconds (S3's Last-Modified header), so the times asked fall where
      // seconds and milliseconds agree.
      if (v > 0) await new Promise((r) => setTimeout(r, 2100));
      await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: BigInt(v) }])));
    }
    const times: number[] = [];
    for await (const meta of table.store.list("_delta_log/")) {
      if (meta.key.endsWith(".json")) times.push(meta.lastModified);
    }
    assertEquals(times.length, 4);
    const asks: [number, number][] = [];
    for (let v = 0; v < 4; v++) {
      asks.push([times[v]!, v], [Math.ceil(times[v]! / 1000) * 1000, v]);
    }
    asks.push([times[3]! + 3_600_000, 3]); // after the latest commit: the latest version
    for (const [ms, version] of asks) {
      const at = await versionAtTime(table, ms);
      assertEquals(at.version, version, `at ${new Date(ms).toISOString()}`);
      const theirs = await readWithDeltaRs(uri, { datetimeMs: ms, storageOptions });
      assertEquals(theirs.version, version, `delta-rs at ${new Date(ms).toISOString()}`);
      const ours = await readWithNeuralake(table, at.version);
      assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
      assertEquals(ours.rows.length, version + 1);
    }
    // Before the first commit delta-rs reads version 0; neuralake refuses, naming
    // the earliest time, as Spark does.
    const early = times[0]! - 1000;
    assertEquals((await readWithDeltaRs(uri, { datetimeMs: early, storageOptions })).version, 0);
    const error = await assertRejects(() => versionAtTime(table, early));
    assert(error instanceof TimestampBeforeTableError);
    assert(error.message.includes(new Date(times[0]!).toISOString()), error.message);
  });
}

Deno.test("scan and describe --timestamp read the table as it was then, and name the earliest time when too early", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-cli-" });
  const table = `${dir}/t`;
  await Deno.writeTextFile(`${dir}/a.ndjson`, '{"n": 1}\n');
  await Deno.writeTextFile(`${dir}/b.ndjson`, '{"n": 2}\n');
  assertEquals((await cli(["write", table, "--input", `${dir}/a.ndjson`])).code, 0);
  assertEquals((await cli(["write", table, "--input", `${dir}/b.ndjson`])).code, 0);
  const t0 = Date.UTC(2026, 0, 1, 12);
  await Deno.utime(`${table}/${commitKey(0)}`, new Date(t0), new Date(t0));
  await Deno.utime(`${table}/${commitKey(1)}`, new Date(t0 + 3_600_000), new Date(t0 + 3_600_000));

  for (
    const [flag, rows] of [
      ["2026-01-01T12:30:00Z", ['{"n":1}']],
      ["2026-01-01T13:00:00+00:00", ['{"n":1}', '{"n":2}']],
      [String(t0), ['{"n":1}']],
      ["2027-01-01", ['{"n":1}', '{"n":2}']],
    ] as const
  ) {
    const r = await cli(["scan", table, "--timestamp", flag, "--format", "ndjson"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.trim().split("\n").sort(), [...rows], flag);
  }
  const json = await cli(["scan", table, "--timestamp", "2026-01-01T12:30:00Z", "--json"]);
  const stats = JSON.parse(json.stdout).stats;
  assertEquals(
    [stats.version, stats.commit_timestamp, stats.commit_timestamp_source],
    [0, t0, "fileModificationTime"],
  );
  const described = JSON.parse(
    (await cli(["describe", table, "--timestamp", "2026-01-01T12:30:00Z", "--json"])).stdout,
  );
  assertEquals([described.version, described.commit_timestamp], [0, t0]);

  const early = await cli(["scan", table, "--timestamp", "2025-12-31T00:00:00Z"]);
  assertEquals(early.code, 1);
  assert(
    early.stderr.includes(
      "before its earliest available version, 0, committed at 2026-01-01T12:00:00.000Z",
    ),
    early.stderr,
  );
  const both = await cli(["scan", table, "--timestamp", "2026-01-01", "--version", "0"]);
  assertEquals(both.code, 2);
  assert(both.stderr.includes("--version and --timestamp cannot be used together"), both.stderr);
  const bad = await cli(["describe", table, "--timestamp", "yesterday"]);
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("--timestamp must be an ISO-8601 date"), bad.stderr);
});

Deno.test("on a Spark table with in-commit timestamps, the version is chosen by them, as delta-rs chooses by file times that agree", async () => {
  const dir = await copyFixture("spark_feature_in_commit_timestamp");
  const table = await openTable(dir);
  const ict: number[] = [];
  for (let v = 0; v <= 2; v++) {
    const text = await Deno.readTextFile(`${dir}/${commitKey(v)}`);
    ict.push(JSON.parse(text.split("\n")[0]!).commitInfo.inCommitTimestamp);
  }
  // delta-rs 1.6 times commits by their files only: give the files the
  // in-commit timestamps so that both engines see the same commit times.
  const setFileTimes = async (ms: (v: number) => number) => {
    for (let v = 0; v <= 2; v++) {
      await Deno.utime(`${dir}/${commitKey(v)}`, new Date(ms(v)), new Date(ms(v)));
    }
  };
  await setFileTimes((v) => ict[v]!);
  const asks: [number, number][] = [
    [ict[0]!, 0],
    [ict[0]! + 1, 0],
    [ict[1]! - 1, 0],
    [ict[1]!, 1],
    [ict[2]! - 1, 1],
    [ict[2]!, 2],
    [ict[2]! + 86_400_000, 2],
  ];
  for (const [ms, version] of asks) {
    const at = await versionAtTime(table, ms);
    assertEquals([at.version, at.source], [version, "inCommitTimestamp"]);
    const theirs = await readWithDeltaRs(dir, { datetimeMs: ms });
    assertEquals(theirs.version, version, `delta-rs at ${ms}`);
    assertEquals(
      canonicalRows((await readWithNeuralake(table, version)).rows),
      canonicalRows(theirs.rows),
    );
  }
  // File times that disagree (a copied log) change nothing: the protocol's
  // commit time is the in-commit timestamp.
  await setFileTimes((v) => Date.UTC(2020, 0, 1) + v);
  for (const [ms, version] of asks) assertEquals((await versionAtTime(table, ms)).version, version);
  await assertRejects(
    () => versionAtTime(table, ict[0]! - 1),
    `committed at ${new Date(ict[0]!).toISOString()}`,
  );
});
