import {
  chooseVacuumRetention,
  isHidden,
  planVacuum,
  vacuumRetention,
} from "../../src/ops/vacuum.ts";
import { planLogCleanup } from "../../src/ops/log_cleanup.ts";
import { planCompaction } from "../../src/ops/compaction_plan.ts";
import type { Add, Remove } from "../../src/delta/actions.ts";
import type { ObjectMeta } from "../../src/storage/object_store.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

const DAY = 86_400_000;
const HOUR_MS = 3_600_000;
const NOW = 100 * DAY;

function meta(key: string, ageMs: number, size = 10): ObjectMeta {
  return { key, size, lastModified: NOW - ageMs };
}

Deno.test("planVacuum() deletes only unreferenced files past retention", () => {
  const tombstones = new Map<string, Remove>([
    ["old-removed.parquet", {
      path: "old-removed.parquet",
      deletionTimestamp: NOW - 8 * DAY,
      dataChange: true,
    }],
    ["new-removed.parquet", {
      path: "new-removed.parquet",
      deletionTimestamp: NOW - DAY,
      dataChange: true,
    }],
  ]);
  const plan = planVacuum({
    listing: [
      meta("active.parquet", 30 * DAY),
      meta("old-removed.parquet", 30 * DAY),
      meta("new-removed.parquet", 30 * DAY),
      meta("orphan-old.parquet", 8 * DAY),
      meta("orphan-uncommitted.parquet", 60_000),
      meta("_change_data/cdc.parquet", 30 * DAY),
      meta(".hidden/x.parquet", 30 * DAY),
    ],
    files: new Map([["active.parquet", {}]]),
    tombstones,
    partitionColumns: [],
    version: 5,
    nowMs: NOW,
    retentionMs: 7 * DAY,
  });
  // Change data is referenced by no snapshot: past retention it goes, as in Delta's VACUUM.
  assertEquals(plan.delete.map((m) => m.key), [
    "old-removed.parquet",
    "orphan-old.parquet",
    "_change_data/cdc.parquet",
  ]);
  assertEquals(plan.kept, { active: 1, youngTombstone: 1, youngFile: 1, hidden: 1 });
  assertEquals(plan.bytes, 30);
});

Deno.test("isHidden() protects the log and hidden directories but not partitions", () => {
  assertEquals(isHidden("_delta_log/00000000000000000000.json", []), true);
  assertEquals(isHidden("_tmp/part.parquet", []), true);
  assertEquals(isHidden("_p=1/part.parquet", ["_p"]), false);
  assertEquals(isHidden("region=M1/.part.parquet.crc", ["region"]), true);
  assertEquals(isHidden("region=M1/part.parquet", ["region"]), false);
  // Delta's rule: change data and index files are vacuumed like data files.
  assertEquals(isHidden("_change_data/cdc-00000.c000.snappy.parquet", []), false);
  assertEquals(isHidden("_delta_index/bloom.bin", []), false);
  assertEquals(isHidden("_change_data/.cdc-00000.parquet.crc", []), true);
  // A UniForm table's Iceberg metadata, hidden only when the table writes it.
  assertEquals(isHidden("metadata/v1.metadata.json", [], true), true);
  assertEquals(isHidden("metadata/v1.metadata.json", []), false);
  assertEquals(isHidden("region=M1/part.parquet", ["region"], true), false);
  assertEquals(isHidden(".part.parquet.crc", []), true);
  assertEquals(isHidden("a=1/_b/part.parquet", ["a"]), true);
  assertEquals(isHidden("a=_1/b.c_d.parquet", ["a"]), false);
});

Deno.test("vacuumRetention() refuses a short retention unless allowed", () => {
  assertThrows(() => vacuumRetention({}, { retentionMs: DAY }), "--allow-short-retention");
  assertEquals(vacuumRetention({}, { retentionMs: DAY, allowShortRetention: true }), DAY);
  assertEquals(
    vacuumRetention({ "delta.deletedFileRetentionDuration": "interval 1 days" }, {
      retentionMs: DAY,
    }),
    DAY,
  );
  assertEquals(vacuumRetention({}, {}), 7 * DAY);
});

function logMeta(name: string, ageDays: number): ObjectMeta {
  return meta(`_delta_log/${name}`, ageDays * DAY);
}
const pad = (v: number) => String(v).padStart(20, "0");

Deno.test("planLogCleanup() deletes below the newest checkpoint older than retention", () => {
  const listing = [
    logMeta(`${pad(0)}.json`, 60),
    logMeta(`${pad(1)}.json`, 50),
    logMeta(`${pad(2)}.json`, 40),
    logMeta(`${pad(2)}.checkpoint.parquet`, 40),
    logMeta(`${pad(3)}.json`, 35),
    logMeta(`${pad(4)}.json`, 10),
    logMeta(`${pad(4)}.checkpoint.parquet`, 10),
    logMeta(`${pad(5)}.json`, 1),
    logMeta("_last_checkpoint", 10),
  ];
  const plan = planLogCleanup(listing, NOW - 30 * DAY);
  assertEquals(plan.keepFromVersion, 2);
  assertEquals(plan.delete.map((m) => m.key), [
    `_delta_log/${pad(0)}.json`,
    `_delta_log/${pad(1)}.json`,
  ]);
});

Deno.test("planLogCleanup() takes no checkpoint as complete from the parts of two unfinished multi-part checkpoints", () => {
  // Two writers each died while writing version 2's checkpoint, in 2 and in 3
  // parts: three parts are there, but neither checkpoint is whole, and the
  // commits before version 2 are all the table has.
  const part = (p: number, n: number) =>
    `${pad(2)}.checkpoint.${String(p).padStart(10, "0")}.${String(n).padStart(10, "0")}.parquet`;
  const listing = [
    logMeta(`${pad(0)}.json`, 60),
    logMeta(`${pad(1)}.json`, 50),
    logMeta(`${pad(2)}.json`, 40),
    logMeta(part(1, 2), 40),
    logMeta(part(1, 3), 40),
    logMeta(part(2, 3), 40),
    logMeta(`${pad(3)}.json`, 35),
  ];
  const plan = planLogCleanup(listing, NOW - 30 * DAY);
  assertEquals(plan.keepFromVersion, undefined);
  assertEquals(plan.delete, []);
  // The missing part completes one of them: then the log below it may go.
  const whole = planLogCleanup([...listing, logMeta(part(3, 3), 40)], NOW - 30 * DAY);
  assertEquals(whole.keepFromVersion, 2);
  assertEquals(whole.delete.map((m) => m.key), [
    `_delta_log/${pad(0)}.json`,
    `_delta_log/${pad(1)}.json`,
  ]);
});

Deno.test("planLogCleanup() deletes nothing without an old enough checkpoint", () => {
  const listing = [logMeta(`${pad(0)}.json`, 60), logMeta(`${pad(1)}.checkpoint.parquet`, 5)];
  assertEquals(planLogCleanup(listing, NOW - 30 * DAY).delete, []);
});

function add(path: string, size: number, partition = "a", time = 0): Add {
  return {
    path,
    size,
    partitionValues: { p: partition },
    modificationTime: time,
    dataChange: true,
  };
}

Deno.test("planCompaction() packs small files of a partition into bins up to the target", () => {
  const files = [
    add("1", 40, "a", 1),
    add("2", 40, "a", 2),
    add("3", 40, "a", 3),
    add("4", 40, "a", 4),
    add("5", 40, "a", 5),
    add("big", 500, "a", 0),
    add("b1", 10, "b", 1),
  ];
  const bins = planCompaction(files, { targetFileSize: 100, minFiles: 2 });
  assertEquals(bins.map((b) => b.files.map((f) => f.path)), [["1", "2"], ["3", "4"]]);
  assertEquals(bins[0]!.bytes, 80);
});

Deno.test("planCompaction() waits for enough small files in a partition", () => {
  const files = [add("1", 10), add("2", 10), add("3", 10)];
  assertEquals(planCompaction(files, { targetFileSize: 100, minFiles: 4 }), []);
  assertEquals(planCompaction(files, { targetFileSize: 100, minFiles: 3 }).length, 1);
});

Deno.test("chooseVacuumRetention() raises a short retention to the table's, Delta's week where undeclared, with atLeastTableRetention", () => {
  const raise = { retentionMs: HOUR_MS, atLeastTableRetention: true };
  assertEquals(chooseVacuumRetention({}, raise), {
    ms: 7 * DAY,
    tableMs: 7 * DAY,
    declared: false,
    source: "table",
  });
  const twoDays = { "delta.deletedFileRetentionDuration": "interval 2 days" };
  assertEquals(chooseVacuumRetention(twoDays, raise).ms, 2 * DAY);
  // A longer one asked for stands; a shorter one stands only when allowed.
  assertEquals(chooseVacuumRetention(twoDays, { ...raise, retentionMs: 3 * DAY }).ms, 3 * DAY);
  assertEquals(
    chooseVacuumRetention(twoDays, { ...raise, allowShortRetention: true }).source,
    "asked",
  );
  assertEquals(chooseVacuumRetention(twoDays, { ...raise, allowShortRetention: true }).ms, HOUR_MS);
  // Without either, the CLI's rule: refused, naming Delta's default where the table declares none.
  assertThrows(() => chooseVacuumRetention({}, { retentionMs: HOUR_MS }), "Delta's default");
});
