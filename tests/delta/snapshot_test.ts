import { writeCheckpoint } from "../../src/delta/checkpoint.ts";
import {
  checkpointKey,
  commitKey,
  LAST_CHECKPOINT_KEY,
  multipartCheckpointKey,
} from "../../src/delta/log_path.ts";
import { TableNotFoundError, VersionUnavailableError } from "../../src/delta/log_segment.ts";
import { followLog, loadSnapshot } from "../../src/delta/snapshot.ts";
import { serializeActions } from "../../src/delta/actions.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import {
  addAction,
  createActions,
  jsonCheckpointCodec,
  removeAction,
  writeCommit,
} from "../_helpers/log.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";

async function tableWithCommits(n: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  await writeCommit(store, 0, createActions());
  for (let v = 1; v <= n; v++) await writeCommit(store, v, [addAction(`f${v}.parquet`)]);
  return store;
}

Deno.test("loadSnapshot() replays every commit of a table without checkpoints", async () => {
  const store = await tableWithCommits(5);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.version, 5);
  assertEquals(snapshot.files.size, 5);
  assertEquals(snapshot.segment.checkpoint, undefined);
});

Deno.test("loadSnapshot() starts from the checkpoint that _last_checkpoint names", async () => {
  const store = await tableWithCommits(5);
  const at3 = await loadSnapshot(store, jsonCheckpointCodec, { version: 3 });
  await writeCheckpoint(store, jsonCheckpointCodec, at3);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.segment.checkpoint?.version, 3);
  assertEquals(snapshot.segment.commits.map((c) => c.version), [4, 5]);
  assertEquals(snapshot.files.size, 5);
});

Deno.test("loadSnapshot() finds the newest checkpoint when _last_checkpoint is missing or stale", async () => {
  const store = await tableWithCommits(6);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 2 }),
  );
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 4 }),
  );
  // Stale hint: points at 2 although 4 exists.
  await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":2,"size":4}'));
  assertEquals((await loadSnapshot(store, jsonCheckpointCodec)).segment.checkpoint?.version, 4);
  await store.delete([LAST_CHECKPOINT_KEY]);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.segment.checkpoint?.version, 4);
  assertEquals(snapshot.files.size, 6);
});

Deno.test("loadSnapshot() falls back when _last_checkpoint names a missing checkpoint", async () => {
  const store = await tableWithCommits(3);
  await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":2,"size":4}'));
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.segment.checkpoint, undefined);
  assertEquals(snapshot.files.size, 3);
});

Deno.test("loadSnapshot() uses a multi-part checkpoint only when every part is there", async () => {
  const store = await tableWithCommits(4);
  const at3 = await loadSnapshot(store, jsonCheckpointCodec, { version: 3 });
  const all = [
    { protocol: at3.protocol },
    { metaData: at3.metadata },
    ...[...at3.files.values()].map((add) => ({ add })),
  ];
  const half = Math.ceil(all.length / 2);
  const enc = (a: typeof all) => new TextEncoder().encode(serializeActions(a));
  await store.put(multipartCheckpointKey(3, 1, 2), enc(all.slice(0, half)));
  let snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.segment.checkpoint, undefined, "one of two parts is not a checkpoint");
  await store.put(multipartCheckpointKey(3, 2, 2), enc(all.slice(half)));
  snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals(snapshot.segment.checkpoint?.keys.length, 2);
  assertEquals(snapshot.files.size, 4);
});

Deno.test("loadSnapshot() travels to any version that can still be reconstructed", async () => {
  const store = await tableWithCommits(4);
  await writeCommit(store, 5, [removeAction("f1.parquet", 1)]);
  assertEquals((await loadSnapshot(store, jsonCheckpointCodec, { version: 2 })).files.size, 2);
  assertEquals((await loadSnapshot(store, jsonCheckpointCodec, { version: 5 })).files.size, 3);
  const error = await assertRejects(
    () => loadSnapshot(store, jsonCheckpointCodec, { version: 9 }),
    "Version 9 of memory://test does not exist: the latest version is 5",
  );
  assert(error instanceof VersionUnavailableError);
});

Deno.test("loadSnapshot() reports a gap in the log instead of a wrong table", async () => {
  const store = await tableWithCommits(4);
  await store.delete([commitKey(2)]);
  await assertRejects(() => loadSnapshot(store, jsonCheckpointCodec), "commit 2 is missing");
});

Deno.test("loadSnapshot() lists again when one listing misses a commit that a later one shows", async () => {
  // A directory read while commits are linked in can return commit 4 and miss
  // commit 3, created just before it: the table has no gap.
  const store = await tableWithCommits(4);
  let lists = 0;
  const list = store.list.bind(store);
  store.list = async function* (prefix, startAfter) {
    const first = lists++ === 0;
    for await (const meta of list(prefix, startAfter)) {
      if (first && meta.key === commitKey(3)) continue;
      yield meta;
    }
  };
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size], [4, 4]);
  assert(lists >= 2, "listed again");
});

Deno.test("loadSnapshot() after log cleanup reads from the checkpoint but refuses older versions", async () => {
  const store = await tableWithCommits(4);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 3 }),
  );
  await store.delete([commitKey(0), commitKey(1), commitKey(2)]);
  assertEquals((await loadSnapshot(store, jsonCheckpointCodec)).files.size, 4);
  const error = await assertRejects(
    () => loadSnapshot(store, jsonCheckpointCodec, { version: 1 }),
    "Cannot reconstruct version 1 of memory://test: the earliest version that can be is 3",
  );
  assert(error instanceof VersionUnavailableError);
});

Deno.test("loadSnapshot() of an empty location says there is no table", async () => {
  const error = await assertRejects(() => loadSnapshot(new MemoryStore(), jsonCheckpointCodec));
  assert(error instanceof TableNotFoundError);
});

Deno.test("loadSnapshot() refuses a table that needs an unimplemented reader feature", async () => {
  const store = new MemoryStore();
  await writeCommit(store, 0, [
    {
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["catalogManaged"],
        writerFeatures: ["catalogManaged"],
      },
    },
    createActions()[1]!,
  ]);
  await assertRejects(() => loadSnapshot(store, jsonCheckpointCodec), '"catalogManaged"');
});

Deno.test("followLog() applies the commits that appeared since loading", async () => {
  const store = await tableWithCommits(2);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  await writeCommit(store, 3, [addAction("f3.parquet")]);
  await writeCommit(store, 4, [removeAction("f1.parquet", 5)]);
  assertEquals(await followLog(store, snapshot), 2);
  assertEquals(snapshot.version, 4);
  assertEquals([...snapshot.files.keys()].sort(), ["f2.parquet", "f3.parquet"]);
  assert(store.objects.has(commitKey(4)) && !store.objects.has(checkpointKey(4)));
});

/** A local table of 40 commits with a checkpoint (and hint) at 10, its lists counted. */
async function localTable(): Promise<{ store: LocalStore; lists: () => number }> {
  const store = new LocalStore(await Deno.makeTempDir());
  await writeCommit(store, 0, createActions());
  for (let v = 1; v <= 40; v++) await writeCommit(store, v, [addAction(`f${v}.parquet`)]);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 10 }),
  );
  let lists = 0;
  const list = store.list.bind(store);
  store.list = (prefix, startAfter) => {
    lists++;
    return list(prefix, startAfter);
  };
  return { store, lists: () => lists };
}

/** Writes a checkpoint at `version` without updating `_last_checkpoint` (the hint goes stale). */
async function checkpointWithoutHint(store: LocalStore, version: number): Promise<void> {
  const at = await loadSnapshot(store, jsonCheckpointCodec, { version });
  await store.put(
    checkpointKey(version),
    jsonCheckpointCodec.write(
      [
        { protocol: at.protocol },
        { metaData: at.metadata },
        ...[...at.files.values()].map((add) => ({ add })),
      ],
      at.schema,
    ),
  );
}

Deno.test("on a local table the latest version is found by lookups after the hint, not a listing", async () => {
  const { store, lists } = await localTable();
  let snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size, lists()], [40, 40, 0]);
  assertEquals(snapshot.segment.checkpoint?.version, 10);
  assertEquals(snapshot.segment.commits.map((c) => c.version)[0], 11);
  // A commit made after the checkpoint is found by the next open.
  await writeCommit(store, 41, [removeAction("f1.parquet", Date.now())]);
  snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size, lists()], [41, 39, 0]);
  assert(!snapshot.files.has("f1.parquet"));
});

Deno.test("on a local table a stale hint gives the whole table, and time travel lists", async () => {
  const { store, lists } = await localTable();
  await checkpointWithoutHint(store, 30);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size], [40, 40]);
  assertEquals(snapshot.segment.checkpoint?.version, 10, "replayed from the hinted checkpoint");
  const at35 = await loadSnapshot(store, jsonCheckpointCodec, { version: 35 });
  assertEquals([at35.version, at35.files.size, at35.segment.checkpoint?.version], [35, 35, 30]);
  assertEquals(at35.segment.commits.length, 5);
  assert(lists() > 0, "time travel listed the log");
});

Deno.test("on a local table a gap after the hinted checkpoint is an error, not the end", async () => {
  const { store } = await localTable();
  await store.delete([commitKey(35)]);
  await assertRejects(() => loadSnapshot(store, jsonCheckpointCodec), "commit 35 is missing");
  await store.delete([commitKey(36), commitKey(37), commitKey(38)]);
  await assertRejects(() => loadSnapshot(store, jsonCheckpointCodec), "commit 35 is missing");
});

Deno.test("on a local table a hint that names a missing checkpoint falls back to the listing", async () => {
  const { store, lists } = await localTable();
  await checkpointWithoutHint(store, 30);
  for (const hint of ['{"version":20,"size":4}', '{"version":30,"size":4,"parts":2}']) {
    await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(hint));
    const before = lists();
    const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
    assertEquals([snapshot.version, snapshot.files.size], [40, 40], hint);
    assertEquals(snapshot.segment.checkpoint?.version, 30, hint);
    assert(lists() > before, `${hint} listed`);
  }
  await store.delete([checkpointKey(10), checkpointKey(30)]);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size], [40, 40]);
  assertEquals(snapshot.segment.checkpoint, undefined);
});

Deno.test("on a local table idle for longer than the log retention the listing decides", async () => {
  // A log cleanup under a checkpoint at 30 that the hint (at 10) does not
  // name, caught half way: commits 11 to 29 are gone, commit 10 and the
  // hinted checkpoint are still there. Lookups after the hint find no commit
  // 11 and none in the 16 after it, yet the table goes on to 40.
  const { store, lists } = await localTable();
  await checkpointWithoutHint(store, 30);
  await store.delete(Array.from({ length: 19 }, (_, i) => commitKey(11 + i)));
  const old = new Date(Date.now() - 40 * 86_400_000);
  for (const entry of Deno.readDirSync(`${store.root}/_delta_log`)) {
    await Deno.utime(`${store.root}/_delta_log/${entry.name}`, old, old);
  }
  // The checkpoint, written later than the commits after it, is young: the
  // age that counts is the last commit's.
  const now = new Date();
  await Deno.utime(`${store.root}/${checkpointKey(10)}`, now, now);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size], [40, 40]);
  assertEquals(snapshot.segment.checkpoint?.version, 30);
  assert(lists() > 0, "listed");
});

Deno.test("a store without cheap lookups lists the log from the hinted checkpoint", async () => {
  const store = await tableWithCommits(6);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 4 }),
  );
  const starts: (string | undefined)[] = [];
  const list = store.list.bind(store);
  store.list = (prefix, startAfter) => {
    starts.push(startAfter);
    return list(prefix, startAfter);
  };
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size], [6, 6]);
  assertEquals(starts, ["_delta_log/00000000000000000004"]);
});

Deno.test("hintProblem() accepts a hint delta-kernel can use and names what is wrong with others", async () => {
  const { hintProblem, listLog } = await import("../../src/delta/log_segment.ts");
  const store = await tableWithCommits(6);
  await writeCheckpoint(
    store,
    jsonCheckpointCodec,
    await loadSnapshot(store, jsonCheckpointCodec, { version: 3 }),
  );
  const files = await listLog(store, undefined);
  assertEquals(hintProblem({ version: 3, size: 5 }, files), undefined);
  assertEquals(hintProblem({ version: 2, size: 5 }, files), undefined, "a stale hint is usable");
  assertEquals(
    hintProblem({ version: 3, size: 5, parts: 2 }, files),
    "it says the checkpoint at version 3 has 2 parts, and no such checkpoint is complete",
  );
  assertEquals(
    hintProblem({ version: 4, size: 5 }, files),
    "it names a checkpoint at version 4, which does not exist",
  );
  const v2Hint = (version: number) => ({
    version,
    size: 5,
    v2Checkpoint: { path: "x.json", sizeInBytes: 1, modificationTime: 0 },
  });
  assertEquals(hintProblem(v2Hint(3), files), undefined, "another checkpoint at 3 serves");
  await writeCommit(store, 7, [addAction("f7.parquet")]);
  assertEquals(
    hintProblem(v2Hint(7), await listLog(store, undefined)),
    "it names the checkpoint _delta_log/x.json, which does not exist",
  );
  // A reader falls back to the listing and still gets the whole table.
  await store.put(
    LAST_CHECKPOINT_KEY,
    new TextEncoder().encode('{"version":3,"size":5,"parts":2}'),
  );
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  assertEquals([snapshot.version, snapshot.files.size, snapshot.segment.checkpoint?.version], [
    7,
    7,
    3,
  ]);
});

Deno.test("loadSnapshot() names the checkpoint version of an invalid protocol it carries", async () => {
  const store = await tableWithCommits(3);
  const at2 = await loadSnapshot(store, jsonCheckpointCodec, { version: 2 });
  at2.protocol = { minReaderVersion: 1, minWriterVersion: 7 };
  await writeCheckpoint(store, jsonCheckpointCodec, at2);
  await assertRejects(
    () => loadSnapshot(store, jsonCheckpointCodec),
    "the protocol set at version 2 (the checkpoint) is invalid: writerFeatures must be present when minWriterVersion is 7",
  );
});

Deno.test("followLog() refuses a commit that sets an invalid protocol, leaving the state as it was", async () => {
  const store = await tableWithCommits(1);
  const snapshot = await loadSnapshot(store, jsonCheckpointCodec);
  await writeCommit(store, 2, [{ protocol: { minReaderVersion: 0, minWriterVersion: 2 } }]);
  await assertRejects(
    () => followLog(store, snapshot),
    "the protocol set at version 2 (_delta_log/00000000000000000002.json) is invalid: minReaderVersion must be an integer of at least 1, got 0",
  );
  assertEquals([snapshot.version, snapshot.protocol.minReaderVersion], [1, 1]);
});
