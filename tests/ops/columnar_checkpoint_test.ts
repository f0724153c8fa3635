/**
 * A snapshot open keeps a checkpoint's adds as columns and builds each `Add`
 * only when the files are asked for (`readColumnar`, `activeFiles`). What it
 * gives must be what the eager read gives, on every fixture table of Spark
 * and delta-rs (multi-part, v2 with sidecars, stats_parsed only, deletion
 * vectors), at every version that has a checkpoint.
 */

import type { Action, Add } from "../../src/delta/actions.ts";
import type { CheckpointCodec } from "../../src/delta/checkpoint.ts";
import {
  checkpointKey,
  commitKey,
  LAST_CHECKPOINT_KEY,
  parseLogPath,
} from "../../src/delta/log_path.ts";
import { activeFiles, fileCount } from "../../src/delta/replay.ts";
import { loadSnapshot, type Snapshot } from "../../src/delta/snapshot.ts";
import { parquetCheckpointCodec } from "../../src/ops/checkpoint_codec.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { FIXTURES, fixtureTables, logParquetFiles } from "../_helpers/fixtures.ts";
import {
  addAction,
  createActions,
  removeAction,
  TEST_SCHEMA,
  writeCommit,
} from "../_helpers/log.ts";
import { parseSchemaString } from "../../src/delta/schema.ts";

/** The same Parquet codec without its columnar read: every action built as it is read. */
const eagerCodec: CheckpointCodec = {
  read: parquetCheckpointCodec.read,
  write: parquetCheckpointCodec.write,
};

/** Everything a snapshot holds, in the order it holds it. */
function contents(s: Snapshot) {
  return {
    version: s.version,
    protocol: s.protocol,
    metadata: s.metadata,
    count: fileCount(s),
    active: [...activeFiles(s)],
    files: [...s.files].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    tombstones: [...s.tombstones],
    txns: [...s.txns],
    domains: [...s.domains],
  };
}

/** The versions of a table's log that have a checkpoint. */
function checkpointVersions(root: string): number[] {
  const versions = new Set<number>();
  for (const entry of Deno.readDirSync(`${root}/_delta_log`)) {
    const parsed = parseLogPath(`_delta_log/${entry.name}`);
    if (parsed && parsed.type.endsWith("checkpoint")) {
      versions.add(parsed.version);
    }
  }
  return [...versions].sort((a, b) => a - b);
}

Deno.test("a snapshot open with columnar checkpoint adds gives what the eager read gives on every fixture table", async () => {
  let checkpointed = 0;
  let withDv = 0;
  for (const table of fixtureTables()) {
    const root = FIXTURES + table.path;
    const store = new LocalStore(root);
    for (const version of [undefined, ...checkpointVersions(root)]) {
      const options = { skipProtocolCheck: true, ...(version === undefined ? {} : { version }) };
      const lazy = await loadSnapshot(store, parquetCheckpointCodec, options);
      // Counted before anything builds the adds, then compared whole.
      const count = fileCount(lazy);
      const eager = await loadSnapshot(store, eagerCodec, options);
      const what = `${table.name} at ${version ?? "latest"}`;
      assertEquals(count, fileCount(eager), what);
      assertEquals(contents(lazy), contents(eager), what);
      if (lazy.segment.checkpoint) checkpointed++;
      withDv += [...activeFiles(lazy)].filter((a) => a.deletionVector).length;
    }
  }
  assert(checkpointed >= 15, `only ${checkpointed} checkpointed snapshots compared`);
  assert(withDv >= 1, "no file with a deletion vector compared");
});

Deno.test("readColumnar() gives each add's path and deletion vector as the add built from its row holds them", async () => {
  let adds = 0;
  let dvs = 0;
  let statsOnlyParsed = 0;
  for (const path of logParquetFiles()) {
    const slash = path.indexOf("/_delta_log/");
    const store = new LocalStore(path.slice(0, slash));
    const key = path.slice(slash + 1);
    const part = await parquetCheckpointCodec.readColumnar!(store, key);
    const eager = await parquetCheckpointCodec.read(store, key);
    const built: Add[] = [];
    for (let k = 0; k < part.adds.length; k++) {
      const add = part.adds.add(k);
      assertEquals(part.adds.path(k), add.path, key);
      assertEquals(part.adds.deletionVector(k), add.deletionVector ?? undefined, key);
      // Built once: asked again, the same object.
      assert(part.adds.add(k) === add, `${key}: add ${k} was built twice`);
      built.push(add);
      if (add.deletionVector) dvs++;
    }
    assertEquals(built, eager.flatMap((a: Action) => "add" in a ? [a.add] : []), key);
    assertEquals(part.actions, eager.filter((a) => !("add" in a)), key);
    assertEquals(part.all(), eager, key);
    adds += built.length;
    if (path.includes("stats_as_struct")) statsOnlyParsed += built.filter((a) => a.stats).length;
  }
  assert(adds >= 50, `only ${adds} adds checked`);
  assert(dvs >= 1, "no add with a deletion vector checked");
  assert(statsOnlyParsed >= 1, "no add with statistics only in stats_parsed checked");
});

Deno.test("the files of a lazily opened snapshot are built once: the walk and the map by path hold the same adds", async () => {
  const table = fixtureTables().find((t) => t.name === "spark_checkpoint_multipart")!;
  const snapshot = await loadSnapshot(
    new LocalStore(FIXTURES + table.path),
    parquetCheckpointCodec,
  );
  assert(snapshot.segment.checkpoint !== undefined, "the fixture has no checkpoint");
  const first = [...activeFiles(snapshot)];
  const second = [...activeFiles(snapshot)];
  assert(first.length > 0 && first.every((add, i) => add === second[i]), "adds built twice");
  const byPath = new Set(snapshot.files.values());
  assertEquals(byPath.size, first.length);
  assert(first.every((add) => byPath.has(add)), "the map holds other adds than the walk");
});

Deno.test("a Parquet checkpoint whose paths are hashed from their bytes opens as the eager read: repeats, escapes, other text, deletion vectors, commits after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new LocalStore(dir, { fsync: false });
    const dv = {
      storageType: "u",
      pathOrInlineDv: "ab^-aqEH.-t@S}K{vb[*k^",
      offset: 4,
      sizeInBytes: 40,
      cardinality: 3,
    };
    const withDv = (path: string): Action => {
      const { add } = addAction(path) as { add: Add };
      return { add: { ...add, deletionVector: dv } };
    };
    const paths = Array.from(
      { length: 300 },
      (_, i) => `part-${String(i).padStart(5, "0")}.parquet`,
    );
    const checkpoint: Action[] = [
      ...createActions(),
      ...paths.map((p) => addAction(p)),
      addAction("x%20y.parquet"),
      addAction("é/日本.parquet"),
      withDv("dv.parquet"),
      addAction("dv.parquet"),
      removeAction("gone.parquet", 5),
    ];
    await writeCommit(store, 0, createActions());
    await writeCommit(store, 1, [addAction("first.parquet")]);
    const write = (actions: Action[]) =>
      store.put(
        checkpointKey(1),
        parquetCheckpointCodec.write(actions, parseSchemaString(TEST_SCHEMA)),
      );
    await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode('{"version":1,"size":1}'));
    for (const repeated of [false, true]) {
      // A checkpoint never repeats a file; if one does, the first action wins.
      await write(repeated ? [...checkpoint, addAction(paths[7]!, 2)] : checkpoint);
      for (const after of [[], [removeAction(paths[3]!, 9), addAction("x y.parquet", 2)]]) {
        if (after.length) await writeCommit(store, 2, after);
        const options = { skipProtocolCheck: true };
        const lazy = await loadSnapshot(store, parquetCheckpointCodec, options);
        const count = fileCount(lazy);
        const eager = await loadSnapshot(store, eagerCodec, options);
        const what = `${repeated ? "repeated" : "reconciled"}, ${after.length} actions after`;
        assertEquals(count, fileCount(eager), what);
        assertEquals(contents(lazy), contents(eager), what);
        assertEquals(count, 304 - (after.length ? 1 : 0), what);
        assert(lazy.files.has("é/日本.parquet") && lazy.files.has("x y.parquet"), what);
        const escaped = after.length ? "x y.parquet" : "x%20y.parquet";
        assertEquals(lazy.files.get("x y.parquet")?.path, escaped, what);
        // The first of a repeated path wins.
        assertEquals(JSON.parse(lazy.files.get(paths[7]!)?.stats ?? "{}").numRecords, 1, what);
      }
      await Deno.remove(`${dir}/${commitKey(2)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
