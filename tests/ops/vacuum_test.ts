/**
 * Vacuum on a real local table: what a full pass, a log-only pass and a dry
 * run delete, and what every one of them keeps.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { type Action, serializeActions } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { addFor, dataFileKey } from "../../src/ops/data_files.ts";
import { type KnownCommits, openTable, snapshotOf, tableOfStore } from "../../src/ops/table.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { planVacuum, vacuum, VACUUM_RETENTION_FLOOR_MS } from "../../src/ops/vacuum.ts";
import { APPEND_HOLD_BUDGET_MS } from "../../src/ops/append.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { LocalStore, TEMP_MARKER } from "../../src/storage/local.ts";
import { compareKeys } from "../../src/storage/keys.ts";
import type { ListKeysOptions } from "../../src/storage/object_store.ts";

const HOUR = 3_600_000;
const fields = [{ name: "n", type: "long" as const, nullable: true }];

/** The data file keys of the fixture table, by what each file is. */
type FixtureKeys = Record<
  "live" | "oldRemoved" | "youngRemoved" | "oldOrphan" | "youngOrphan" | "hidden",
  string
>;

/**
 * A table with one live file, a file removed long ago, a file removed just
 * now, an old orphan (never committed), a young orphan, and a file in a
 * hidden directory. Every file on disk is a day old except the young ones.
 */
async function fixture(): Promise<{ dir: string; keys: FixtureKeys }> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-vacuum-" });
  const store = new LocalStore(dir);
  const file = encodeParquet({ fields, columns: [{ values: new BigInt64Array([1n]) }], length: 1 });
  const now = Date.now();
  const dayAgo = new Date(now - 24 * HOUR);
  const keys = {
    live: dataFileKey("", 0),
    oldRemoved: dataFileKey("", 1),
    youngRemoved: dataFileKey("", 2),
    oldOrphan: dataFileKey("", 3),
    youngOrphan: dataFileKey("", 4),
    hidden: "_staging/leftover.parquet",
  };
  for (const key of Object.values(keys)) await store.put(key, file.bytes);
  for (const key of [keys.live, keys.oldRemoved, keys.youngRemoved, keys.oldOrphan, keys.hidden]) {
    await Deno.utime(`${dir}/${key}`, dayAgo, dayAgo);
  }
  const add = (key: string) => addFor(key, file, {}, fields, { modificationTime: now - 24 * HOUR });
  const log: Action[][] = [
    [
      ...createTableActions({ schema: schemaFromFields(fields) }),
      { add: add(keys.live) },
      { add: add(keys.oldRemoved) },
      { add: add(keys.youngRemoved) },
    ],
    [
      {
        remove: {
          path: add(keys.oldRemoved).path,
          deletionTimestamp: now - 24 * HOUR,
          dataChange: true,
          size: file.bytes.length,
        },
      },
      {
        remove: {
          path: add(keys.youngRemoved).path,
          deletionTimestamp: now,
          dataChange: true,
          size: file.bytes.length,
        },
      },
    ],
  ];
  for (const [version, actions] of log.entries()) {
    await store.put(commitKey(version), new TextEncoder().encode(serializeActions(actions)));
  }
  return { dir, keys };
}

/** Runs `test` on a fresh fixture and removes it afterwards. */
async function withFixture(
  test: (dir: string, keys: FixtureKeys) => Promise<void>,
): Promise<void> {
  const { dir, keys } = await fixture();
  try {
    await test(dir, keys);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A local store that records the keys it was asked to describe one by one. */
class HeadCountingStore extends LocalStore {
  heads: string[] = [];
  override async head(key: string) {
    this.heads.push(key);
    return await super.head(key);
  }
}

/** A local store that records the keys it was asked to read. */
class GetCountingStore extends LocalStore {
  gets: string[] = [];
  override async get(key: string, range?: { offset: number; length: number }) {
    this.gets.push(key);
    return await super.get(key, range);
  }
}

/** Asserts that every key is still on disk. */
async function assertKept(dir: string, keys: string[]): Promise<void> {
  for (const key of keys) assert(await exists(`${dir}/${key}`), `${key} was deleted`);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("a full vacuum deletes old removed files and old orphans, and keeps the rest", async () => {
  await withFixture(async (dir, keys) => {
    const table = await openTable(dir);
    const result = await vacuum(table.store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
    });
    assertEquals(
      result.plan.delete.map((m) => m.key).sort(),
      [keys.oldRemoved, keys.oldOrphan].sort(),
    );
    assertEquals(result.filesDeleted, 2);
    assertEquals(result.plan.kept, { active: 1, youngTombstone: 1, youngFile: 1, hidden: 1 });
    assert(
      !(await exists(`${dir}/${keys.oldRemoved}`)) && !(await exists(`${dir}/${keys.oldOrphan}`)),
    );
    await assertKept(dir, [keys.live, keys.youngRemoved, keys.youngOrphan, keys.hidden]);
    assert(await exists(`${dir}/${commitKey(0)}`) && await exists(`${dir}/${commitKey(1)}`));
    assertEquals((await snapshotOf(await openTable(dir))).files.size, 1);
  });
});

Deno.test("a full vacuum on local disk takes a removed file's age and size from its tombstone, an orphan's from the disk", async () => {
  await withFixture(async (dir, keys) => {
    // Touched after its removal: its tombstone, past retention, decides. The
    // young orphan (a writer's upload) is still kept by its own age.
    await Deno.utime(`${dir}/${keys.oldRemoved}`, new Date(), new Date());
    const size = (await Deno.stat(`${dir}/${keys.oldRemoved}`)).size;
    const table = await openTable(dir);
    const store = new HeadCountingStore(dir);
    const result = await vacuum(store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
    });
    assertEquals(
      result.plan.delete.map((m) => m.key).sort(),
      [keys.oldRemoved, keys.oldOrphan].sort(),
    );
    assertEquals(result.plan.kept, { active: 1, youngTombstone: 1, youngFile: 1, hidden: 1 });
    assertEquals(result.bytesDeleted, 2 * size);
    // Only the files the log never named were looked at.
    assertEquals(store.heads.sort(), [keys.oldOrphan, keys.youngOrphan].sort());
    await assertKept(dir, [keys.live, keys.youngRemoved, keys.youngOrphan, keys.hidden]);
  });
});

Deno.test("a log-only vacuum deletes only old removed files and leaves orphans", async () => {
  await withFixture(async (dir, keys) => {
    const table = await openTable(dir);
    const result = await vacuum(table.store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
      mode: "log-only",
    });
    assertEquals(result.plan.delete.map((m) => m.key), [keys.oldRemoved]);
    assertEquals(result.filesDeleted, 1);
    assertEquals(result.plan.kept.youngTombstone, 1);
    assert(!(await exists(`${dir}/${keys.oldRemoved}`)));
    await assertKept(dir, [
      keys.live,
      keys.youngRemoved,
      keys.oldOrphan,
      keys.youngOrphan,
      keys.hidden,
    ]);
  });
});

Deno.test("vacuum refuses a short retention unless allowed, and a dry run deletes nothing", async () => {
  await withFixture(async (dir, keys) => {
    const table = await openTable(dir);
    let refused: Error | undefined;
    await vacuum(table.store, () => snapshotOf(table), { retentionMs: HOUR }).catch((e) =>
      refused = e
    );
    assert(
      refused instanceof RangeError && refused.message.includes("--allow-short-retention"),
      String(refused),
    );
    const dry = await vacuum(table.store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
      dryRun: true,
    });
    assertEquals(dry.plan.delete.length, 2);
    assertEquals(dry.filesDeleted, 0);
    await assertKept(dir, Object.values(keys));
  });
});

Deno.test("a full vacuum counts the bytes of the files it deleted, not of those whose delete failed", async () => {
  await withFixture(async (dir, keys) => {
    const size = (await Deno.stat(`${dir}/${keys.oldOrphan}`)).size;
    // A store that fails to delete the old orphan, and deletes the rest.
    class RefusingStore extends LocalStore {
      override async delete(keys_: string[]) {
        const outcome = await super.delete(keys_.filter((key) => key !== keys.oldOrphan));
        outcome.failed.push({ key: keys.oldOrphan, reason: "refused" });
        return outcome;
      }
    }
    const store = new RefusingStore(dir);
    const result = await vacuum(store, () => snapshotOf(tableOfStore(store)), {
      retentionMs: HOUR,
      allowShortRetention: true,
    });
    assertEquals(result.plan.delete.length, 2);
    assertEquals(result.filesDeleted, 1);
    assertEquals(result.bytesDeleted, size);
    assertEquals(result.failed, [{ key: keys.oldOrphan, reason: "refused" }]);
    assert(await exists(`${dir}/${keys.oldOrphan}`));
  });
});

/** A local store that records the options of each key listing. */
class ListRecordingStore extends LocalStore {
  listings: (ListKeysOptions | undefined)[] = [];
  override async listKeys(prefix: string, options?: ListKeysOptions) {
    this.listings.push(options);
    return await super.listKeys(prefix, options);
  }
}

Deno.test("a full vacuum lists keys in no order, and a dry run still shows what it would delete in key order", async () => {
  await withFixture(async (dir, keys) => {
    const dayAgo = new Date(Date.now() - 24 * HOUR);
    const orphans = Array.from({ length: 40 }, (_, i) => dataFileKey("", 100 + i));
    for (const key of orphans) {
      await Deno.writeTextFile(`${dir}/${key}`, "orphan");
      await Deno.utime(`${dir}/${key}`, dayAgo, dayAgo);
    }
    const store = new ListRecordingStore(dir);
    const table = tableOfStore(store);
    const expected = [keys.oldRemoved, keys.oldOrphan, ...orphans].sort(compareKeys);
    const dry = await vacuum(store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
      dryRun: true,
    });
    assertEquals(store.listings, [{ ordered: false }]);
    assertEquals(dry.plan.delete.map((m) => m.key), expected);
    const done = await vacuum(store, () => snapshotOf(table), {
      retentionMs: HOUR,
      allowShortRetention: true,
    });
    assertEquals(done.plan.delete.map((m) => m.key).sort(compareKeys), expected);
    assertEquals(done.filesDeleted, expected.length);
    for (const key of expected) assert(!await exists(`${dir}/${key}`), `${key} was kept`);
    await assertKept(dir, [keys.live, keys.youngRemoved, keys.youngOrphan, keys.hidden]);
  });
});

Deno.test("neuralake vacuum --log-only --json reports the mode and what it deleted", async () => {
  await withFixture(async (dir, keys) => {
    const r = await cli([
      "vacuum",
      dir,
      "--retention",
      "1h",
      "--allow-short-retention",
      "--log-only",
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertEquals(out.mode, "log-only");
    assertEquals(out.files_deleted, 1);
    assert(!(await exists(`${dir}/${keys.oldRemoved}`)));
    assert(await exists(`${dir}/${keys.oldOrphan}`));
    const full = JSON.parse(
      (await cli(["vacuum", dir, "--retention", "1h", "--allow-short-retention", "--json"])).stdout,
    );
    assertEquals(full.mode, "full");
    assertEquals(full.files_deleted, 1);
    assert(!(await exists(`${dir}/${keys.oldOrphan}`)));
  });
});

Deno.test("neuralake vacuum --retention 0 --allow-short-retention keeps a file a writer uploaded just now", async () => {
  await withFixture(async (dir, keys) => {
    const r = await cli(["vacuum", dir, "--retention", "0s", "--allow-short-retention", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // The young orphan stands for a file uploaded but not committed yet.
    await assertKept(dir, [keys.live, keys.youngOrphan, keys.hidden]);
    assertEquals(out.retention_ms, VACUUM_RETENTION_FLOOR_MS);
    assertEquals(out.retention_raised_to_floor, true);
    assertEquals(out.kept.young_file, 1);
    // Files past the floor still go: the retention was honoured down to it.
    assert(!(await exists(`${dir}/${keys.oldOrphan}`)));
  });
});

Deno.test("the vacuum floor exceeds the longest time an append holds an uncommitted file", () => {
  assert(VACUUM_RETENTION_FLOOR_MS > APPEND_HOLD_BUDGET_MS);
  const plan = planVacuum({
    listing: [
      { key: "held.parquet", size: 1, lastModified: 1_000_000 - APPEND_HOLD_BUDGET_MS },
      { key: "old.parquet", size: 1, lastModified: 1_000_000 - VACUUM_RETENTION_FLOOR_MS - 1 },
    ],
    files: new Map(),
    tombstones: new Map(),
    partitionColumns: [],
    version: 1,
    nowMs: 1_000_000,
    retentionMs: 0,
  });
  assertEquals(plan.delete.map((m) => m.key), ["old.parquet"]);
  assertEquals(plan.retentionMs, VACUUM_RETENTION_FLOOR_MS);
});

Deno.test("a full vacuum removes stale temporary files a killed checkpoint left in the log", async () => {
  await withFixture(async (dir) => {
    const stale = `${dir}/_delta_log/${TEMP_MARKER}killed-checkpoint`;
    const fresh = `${dir}/_delta_log/${TEMP_MARKER}commit-in-flight`;
    await Deno.writeTextFile(stale, "partial checkpoint");
    await Deno.writeTextFile(fresh, "partial commit");
    const longAgo = new Date(Date.now() - 8 * 24 * HOUR);
    await Deno.utime(stale, longAgo, longAgo);
    const table = await openTable(dir);
    const result = await vacuum(table.store, () => snapshotOf(table), {});
    assertEquals(result.tempFilesDeleted, 1);
    assert(!(await exists(stale)));
    assert(await exists(fresh));
    assertEquals((await snapshotOf(await openTable(dir))).files.size, 1);
  });
});

Deno.test("a vacuum given the commits this process made reads none of them, and decides the same", async () => {
  await withFixture(async (dir, keys) => {
    // What a CommitFeed holds: the exact bytes of the commits this process put.
    const texts = new Map<number, string>();
    for (const version of [0, 1]) {
      texts.set(version, await Deno.readTextFile(`${dir}/${commitKey(version)}`));
    }
    const known: KnownCommits = {
      get: (version) => {
        const text = texts.get(version);
        return text === undefined ? undefined : parseCommit(text, commitKey(version));
      },
      add: () => {},
    };
    const store = new GetCountingStore(dir);
    const table = tableOfStore(store);
    const options = { retentionMs: HOUR, allowShortRetention: true, dryRun: true };
    const read = await vacuum(store, () => snapshotOf(table), options);
    const commitReads = () => store.gets.filter((key) => /^_delta_log\/\d{20}\.json$/.test(key));
    assertEquals(commitReads(), [commitKey(0), commitKey(1)]);
    store.gets = [];
    const fed = await vacuum(store, () => snapshotOf(table, { known }), { ...options, known });
    assertEquals(commitReads(), []);
    // The same plan, but for the cutoff, which moves with the clock.
    assertEquals({ ...fed.plan, cutoffMs: 0 }, { ...read.plan, cutoffMs: 0 });
    assertEquals(
      fed.plan.delete.map((m) => m.key).sort(),
      [keys.oldRemoved, keys.oldOrphan].sort(),
    );

    // The last look before deleting follows the log through them too: only
    // the version after the head is asked for.
    store.gets = [];
    const deleted = await vacuum(store, () => snapshotOf(table, { known }), {
      ...options,
      dryRun: false,
      known,
    });
    assertEquals(deleted.filesDeleted, 2);
    assertEquals(commitReads(), [commitKey(2)]);
  });
});

Deno.test("a full vacuum keeps a file committed after its plan, before its deletes", async () => {
  await withFixture(async (dir, keys) => {
    const table = await openTable(dir);
    // The bytes every fixture file holds.
    const file = encodeParquet({
      fields,
      columns: [{ values: new BigInt64Array([1n]) }],
      length: 1,
    });
    const result = await vacuum(table.store, async () => {
      const state = await snapshotOf(table);
      // A writer commits the old orphan once the snapshot is loaded: the
      // plan still deletes it, the last look must take it back.
      const add = addFor(keys.oldOrphan, file, {}, fields);
      await table.store.put(commitKey(2), new TextEncoder().encode(serializeActions([{ add }])));
      return state;
    }, { retentionMs: HOUR, allowShortRetention: true });
    assertEquals(result.plan.delete.map((m) => m.key), [keys.oldRemoved]);
    assertEquals(result.filesDeleted, 1);
    await assertKept(dir, [keys.oldOrphan, keys.live]);
    assertEquals((await snapshotOf(await openTable(dir))).files.size, 2);
  });
});

Deno.test("a full vacuum counts a file gone between its listing and its delete as deleted, not failed", async () => {
  await withFixture(async (dir, keys) => {
    const table = await openTable(dir);
    const result = await vacuum(table.store, async () => {
      // Listed already; a concurrent vacuum removes it now. Its tombstone
      // describes it, so nothing looks at the disk before the delete.
      await Deno.remove(`${dir}/${keys.oldRemoved}`);
      return await snapshotOf(table);
    }, { retentionMs: HOUR, allowShortRetention: true });
    assertEquals(
      result.plan.delete.map((m) => m.key).sort(),
      [keys.oldRemoved, keys.oldOrphan].sort(),
    );
    assertEquals(result.failed, []);
    assertEquals(result.filesDeleted, 2);
    await assertKept(dir, [keys.live, keys.youngRemoved, keys.youngOrphan, keys.hidden]);
  });
});

Deno.test("neuralake vacuum keeps a table's declared deletedFileRetentionDuration unless --allow-short-retention is given", async () => {
  await withFixture(async (dir, keys) => {
    // Another engine declares 2 days of deleted-file retention: every file
    // removed or written a day ago is within it.
    const metadata = (await snapshotOf(await openTable(dir))).metadata;
    await new LocalStore(dir).put(
      commitKey(2),
      new TextEncoder().encode(serializeActions([{
        metaData: {
          ...metadata,
          configuration: { "delta.deletedFileRetentionDuration": "interval 2 days" },
        },
      }])),
    );
    const byDefault = await cli(["vacuum", dir, "--json"]);
    assertEquals(byDefault.code, 0, byDefault.stderr);
    assertEquals(JSON.parse(byDefault.stdout).retention_ms, 48 * HOUR);
    assertEquals(JSON.parse(byDefault.stdout).files_deleted, 0);
    const shorter = await cli(["vacuum", dir, "--retention", "1h", "--json"]);
    assert(shorter.code !== 0, shorter.stdout);
    assert(
      shorter.stderr.includes("shorter than the table's 2 days") &&
        shorter.stderr.includes("--allow-short-retention"),
      shorter.stderr,
    );
    await assertKept(dir, Object.values(keys));
    const longer = await cli(["vacuum", dir, "--retention", "3d", "--json"]);
    assertEquals(JSON.parse(longer.stdout).retention_ms, 72 * HOUR);
    await assertKept(dir, Object.values(keys));
    const allowed = await cli([
      "vacuum",
      dir,
      "--retention",
      "1h",
      "--allow-short-retention",
      "--json",
    ]);
    assertEquals(allowed.code, 0, allowed.stderr);
    assertEquals(JSON.parse(allowed.stdout).files_deleted, 2);
    assert(!(await exists(`${dir}/${keys.oldRemoved}`)));
    assert(!(await exists(`${dir}/${keys.oldOrphan}`)));
    await assertKept(dir, [keys.live, keys.youngRemoved, keys.youngOrphan, keys.hidden]);
  });
});
