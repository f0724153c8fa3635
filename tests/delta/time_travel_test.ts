/**
 * Time travel by timestamp on hand-made logs: commit file times (made
 * strictly increasing as Spark makes them), in-commit timestamps from their
 * enablement version on, and the error for a time before the table.
 */

import type { Action } from "../../src/delta/actions.ts";
import { writeCheckpoint } from "../../src/delta/checkpoint.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { loadSnapshot } from "../../src/delta/snapshot.ts";
import { TimestampBeforeTableError, versionAtTimestamp } from "../../src/delta/time_travel.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { addAction, createActions, jsonCheckpointCodec, writeCommit } from "../_helpers/log.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

async function setFileTime(dir: string, version: number, ms: number): Promise<void> {
  const when = new Date(ms);
  await Deno.utime(`${dir}/${commitKey(version)}`, when, when);
}

async function versionAt(store: LocalStore, ms: number) {
  const latest = await loadSnapshot(store, jsonCheckpointCodec);
  return await versionAtTimestamp(store, latest, ms);
}

Deno.test("versionAtTimestamp() picks the latest commit at or before the time by file times", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-" });
  const store = new LocalStore(dir);
  await writeCommit(store, 0, createActions());
  for (let v = 1; v <= 3; v++) await writeCommit(store, v, [addAction(`f${v}.parquet`)]);
  for (let v = 0; v <= 3; v++) await setFileTime(dir, v, T0 + v * MINUTE);
  const cases: [number, number][] = [
    [T0, 0],
    [T0 + MINUTE - 1, 0],
    [T0 + MINUTE, 1],
    [T0 + 2.5 * MINUTE, 2],
    [T0 + 3 * MINUTE, 3],
    // After the latest commit: the latest version.
    [T0 + 1000 * MINUTE, 3],
  ];
  for (const [ms, version] of cases) {
    const at = await versionAt(store, ms);
    assertEquals(
      [at.version, at.source],
      [version, "fileModificationTime"],
      new Date(ms).toISOString(),
    );
    assertEquals(at.commitTimestamp, T0 + version * MINUTE);
  }
  const error = await assertRejects(
    () => versionAt(store, T0 - 1),
    `before its earliest available version, 0, committed at ${new Date(T0).toISOString()}`,
  );
  assert(error instanceof TimestampBeforeTableError);
  assertEquals([error.earliestVersion, error.earliestTimestamp], [0, T0]);
});

Deno.test("versionAtTimestamp() counts a commit file older than its predecessor as 1 ms after it, as Spark does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-" });
  const store = new LocalStore(dir);
  await writeCommit(store, 0, createActions());
  await writeCommit(store, 1, [addAction("a.parquet")]);
  await writeCommit(store, 2, [addAction("b.parquet")]);
  await setFileTime(dir, 0, T0);
  await setFileTime(dir, 1, T0 - MINUTE); // a clock that stepped back
  await setFileTime(dir, 2, T0 + MINUTE);
  assertEquals((await versionAt(store, T0)).version, 0);
  const at = await versionAt(store, T0 + 1);
  assertEquals([at.version, at.commitTimestamp], [1, T0 + 1]);
  assertEquals((await versionAt(store, T0 + MINUTE)).version, 2);
});

Deno.test("versionAtTimestamp() uses in-commit timestamps from their enablement version on, and file times before it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-" });
  const store = new LocalStore(dir);
  const ict = T0 + 10 * MINUTE;
  await writeCommit(store, 0, createActions());
  await writeCommit(store, 1, [addAction("a.parquet")]);
  const enable: Action[] = [
    { commitInfo: { timestamp: ict, inCommitTimestamp: ict, operation: "SET TBLPROPERTIES" } },
    {
      protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ["inCommitTimestamp"] },
    },
    createActions({
      "delta.enableInCommitTimestamps": "true",
      "delta.inCommitTimestampEnablementVersion": "2",
      "delta.inCommitTimestampEnablementTimestamp": String(ict),
    })[1]!,
  ];
  await writeCommit(store, 2, enable);
  await writeCommit(store, 3, [
    { commitInfo: { timestamp: 0, inCommitTimestamp: ict + 1000 } },
    addAction("b.parquet"),
  ]);
  await setFileTime(dir, 0, T0);
  await setFileTime(dir, 1, T0 + MINUTE);
  // Files of the in-commit range whose times say otherwise: they do not count.
  await setFileTime(dir, 2, T0 + 100 * MINUTE);
  await setFileTime(dir, 3, T0 + 2 * MINUTE);
  const cases: [number, number, string][] = [
    [T0 + 30_000, 0, "fileModificationTime"],
    [T0 + 90_000, 1, "fileModificationTime"],
    [ict - 1, 1, "fileModificationTime"],
    [ict, 2, "inCommitTimestamp"],
    [ict + 999, 2, "inCommitTimestamp"],
    [ict + 1000, 3, "inCommitTimestamp"],
    [ict + 1000 * MINUTE, 3, "inCommitTimestamp"],
  ];
  for (const [ms, version, source] of cases) {
    const at = await versionAt(store, ms);
    assertEquals([at.version, at.source], [version, source], new Date(ms).toISOString());
  }
});

Deno.test("versionAtTimestamp() names a commit of the in-commit range that lacks its timestamp", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-" });
  const store = new LocalStore(dir);
  await writeCommit(store, 0, createActions({ "delta.enableInCommitTimestamps": "true" }));
  await assertRejects(
    () => versionAt(store, T0),
    "00000000000000000000.json has no commitInfo.inCommitTimestamp",
  );
});

Deno.test("versionAtTimestamp() starts at the oldest checkpoint once the commits before it are cleaned up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-time-travel-" });
  const store = new LocalStore(dir);
  await writeCommit(store, 0, createActions());
  for (let v = 1; v <= 3; v++) await writeCommit(store, v, [addAction(`f${v}.parquet`)]);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 2 }),
  );
  await Deno.remove(`${dir}/${commitKey(0)}`);
  await Deno.remove(`${dir}/${commitKey(1)}`);
  for (let v = 2; v <= 3; v++) await setFileTime(dir, v, T0 + v * MINUTE);
  assertEquals((await versionAt(store, T0 + 2 * MINUTE)).version, 2);
  assertEquals((await versionAt(store, T0 + 3 * MINUTE)).version, 3);
  await assertRejects(
    () => versionAt(store, T0 + 2 * MINUTE - 1),
    `before its earliest available version, 2, committed at ${
      new Date(T0 + 2 * MINUTE).toISOString()
    }`,
  );
});
