/**
 * Time travel by timestamp against Spark (`timestampAsOf`), which times
 * commits of a table with in-commit timestamps by them, as neuralake does
 * (delta-rs 1.6 uses file times): on a copy of Spark's in-commit-timestamp
 * table whose files all carry a time from 2020, the versions and rows agree,
 * and both refuse a time before the first commit. After the latest commit
 * Spark refuses by default, where neuralake (as delta-rs) reads the latest.
 */

import { commitKey } from "../../src/delta/log_path.ts";
import { openTable, versionAtTime } from "../../src/ops/table.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { spark } from "../_helpers/spark.ts";

Deno.test("Spark's timestampAsOf and neuralake pick the same version by in-commit timestamps, whatever the files' times", async () => {
  const dir = await copyFixture("spark_feature_in_commit_timestamp");
  const ict: number[] = [];
  for (let v = 0; v <= 2; v++) {
    const text = await Deno.readTextFile(`${dir}/${commitKey(v)}`);
    ict.push(JSON.parse(text.split("\n")[0]!).commitInfo.inCommitTimestamp);
    const old = new Date(Date.UTC(2020, 0, 1) + v);
    await Deno.utime(`${dir}/${commitKey(v)}`, old, old);
  }
  const table = await openTable(dir);
  const asks = [ict[0]!, ict[1]! - 1, ict[1]!, ict[2]! - 1, ict[2]!];
  // In UTC, the session's time zone below.
  const sparkTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  const answer = await spark({
    conf: { "spark.sql.session.timeZone": "UTC" },
    reads: [...asks, ict[0]! - 1, ict[2]! + 86_400_000].map((ms) => ({
      uri: dir,
      timestamp: sparkTime(ms),
    })),
  });
  for (let i = 0; i < asks.length; i++) {
    const theirs = answer.reads[i]!;
    assert(theirs.ok, JSON.stringify(theirs));
    const at = await versionAtTime(table, asks[i]!);
    assertEquals(at.source, "inCommitTimestamp");
    const ours = await readWithNeuralake(table, at.version);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows), `at ${asks[i]}`);
  }
  // Versions 0, 1 and 2 hold 0, 1 and 2 rows here, so the rows name the version.
  assertEquals(
    (await Promise.all(asks.map((ms) => versionAtTime(table, ms)))).map((a) => a.version),
    [0, 0, 1, 1, 2],
  );
  const early = answer.reads[asks.length]!;
  assert(!early.ok, "Spark refuses a time before the first commit");
  await assertRejects(
    () => versionAtTime(table, ict[0]! - 1),
    "before its earliest available version, 0",
  );
  const late = answer.reads[asks.length + 1]!;
  assert(!late.ok, "Spark refuses a time after the latest commit by default");
  assertEquals((await versionAtTime(table, ict[2]! + 86_400_000)).version, 2);
});
