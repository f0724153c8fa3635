import type { Add } from "../../src/delta/actions.ts";
import {
  activeFiles,
  applyCommit,
  fileCount,
  lastAppVersion,
  replay,
} from "../../src/delta/replay.ts";
import { addAction, createActions, removeAction } from "../_helpers/log.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("replay() keeps the newest action per path", () => {
  const commits = [
    [...createActions(), addAction("a.parquet"), addAction("b.parquet")],
    [removeAction("a.parquet", 10), addAction("c.parquet")],
    [addAction("a.parquet")], // re-added after removal
  ];
  const state = replay(2, [...commits].reverse(), [], "t");
  assertEquals([...state.files.keys()].sort(), ["a.parquet", "b.parquet", "c.parquet"]);
  assertEquals(state.tombstones.size, 0);
});

Deno.test("replay() turns removed files into tombstones", () => {
  const commits = [
    [...createActions(), addAction("a.parquet"), addAction("b.parquet")],
    [removeAction("a.parquet", 10)],
  ];
  const state = replay(1, [...commits].reverse(), [], "t");
  assertEquals([...state.files.keys()], ["b.parquet"]);
  assertEquals([...state.tombstones.keys()], ["a.parquet"]);
});

Deno.test("replay() applies commits after the checkpoint over it", () => {
  const checkpoint = [...createActions(), addAction("a.parquet"), {
    txn: { appId: "w", version: 1 },
  }];
  const commits = [[removeAction("a.parquet"), addAction("b.parquet"), {
    txn: { appId: "w", version: 2 },
  }]];
  const state = replay(6, commits, checkpoint, "t");
  assertEquals([...state.files.keys()], ["b.parquet"]);
  assertEquals(state.txns.get("w")?.version, 2);
  assertEquals(state.version, 6);
});

Deno.test("replay() keeps the first action per path of a checkpoint that repeats one", () => {
  const sized = (path: string, size: number) => {
    const a = addAction(path) as { add: Add };
    return { add: { ...a.add, size } };
  };
  // A checkpoint is reconciled, so this never happens in a valid table; if it
  // does, the first action of a path still wins and no path is both an
  // active file and a tombstone.
  const checkpoint = [
    ...createActions(),
    sized("a.parquet", 1),
    sized("a.parquet", 2),
    addAction("b.parquet"),
    removeAction("b.parquet", 5),
    removeAction("c.parquet", 5),
    addAction("c.parquet"),
    addAction("d.parquet"),
  ];
  const commits = [[addAction("e.parquet"), removeAction("d.parquet", 9)]];
  for (const newer of [[], commits]) {
    const state = replay(3, newer, checkpoint, "t");
    assertEquals(
      [...state.files.keys()],
      newer.length
        ? ["e.parquet", "a.parquet", "b.parquet"]
        : ["a.parquet", "b.parquet", "d.parquet"],
    );
    assertEquals(state.files.get("a.parquet")?.size, 1);
    assertEquals(
      [...state.tombstones.keys()].sort(),
      newer.length ? ["c.parquet", "d.parquet"] : ["c.parquet"],
    );
  }
  const clean = replay(3, commits, [
    ...createActions(),
    addAction("a.parquet"),
    addAction("d.parquet"),
  ], "t");
  assertEquals([...clean.files.keys()], ["e.parquet", "a.parquet"]);
  assertEquals([...clean.tombstones.keys()], ["d.parquet"]);
});

Deno.test("replay() takes the newest metadata and decodes paths", () => {
  const newer = createActions({ "delta.appendOnly": "true" });
  const state = replay(1, [[newer[1]!, addAction("x%20y.parquet")], createActions()], [], "t");
  assertEquals(state.metadata.configuration, { "delta.appendOnly": "true" });
  assertEquals([...state.files.keys()], ["x y.parquet"]);
});

Deno.test("replay() refuses a log without protocol or metadata", () => {
  assertThrows(() => replay(0, [[addAction("a.parquet")]], [], "t"), "no protocol action");
});

Deno.test("applyCommit() moves a state forward like a full replay does", () => {
  const commits = [
    [...createActions(), addAction("a.parquet")],
    [removeAction("a.parquet"), addAction("b.parquet"), { txn: { appId: "w", version: 4 } }],
  ];
  const stepped = replay(0, [commits[0]!], [], "t");
  applyCommit(stepped, commits[1]!);
  const full = replay(1, [...commits].reverse(), [], "t");
  assertEquals(stepped.version, 1);
  assertEquals([...stepped.files.keys()], [...full.files.keys()]);
  assertEquals([...stepped.tombstones.keys()], [...full.tombstones.keys()]);
  assertEquals(stepped.txns, full.txns);
});

Deno.test("lastAppVersion() returns an application's newest txn version", () => {
  const commits = [
    [...createActions(), { txn: { appId: "w1", version: 3 } }],
    [{ txn: { appId: "w1", version: 4 } }, { txn: { appId: "w2", version: 0 } }],
  ];
  const state = replay(1, [...commits].reverse(), [], "t");
  assertEquals(lastAppVersion(state, "w1"), 4);
  assertEquals(lastAppVersion(state, "w2"), 0);
  assertEquals(lastAppVersion(state, "w3"), undefined);
});

Deno.test("replay() walks a checkpoint's files before it builds their map, and both agree", () => {
  const checkpoint = [
    ...createActions(),
    ...Array.from({ length: 5_000 }, (_, i) => addAction(`part-${i}.parquet`)),
    removeAction("old.parquet", 3),
  ];
  const commits = [
    [removeAction("part-7.parquet", 9)],
    [addAction("part-8.parquet", 2), addAction("new.parquet")],
  ];
  const state = replay(2, [...commits].reverse(), checkpoint, "t");
  // The commits' actions win over the checkpoint's for the same path.
  assertEquals(fileCount(state), 5_000);
  const walked = [...activeFiles(state)];
  assertEquals(walked.length, 5_000);
  assertEquals(walked.filter((a) => a.path === "part-8.parquet").map((a) => a.stats), [
    '{"numRecords":2}',
  ]);
  assert(!walked.some((a) => a.path === "part-7.parquet"));
  assertEquals([...state.tombstones.keys()].sort(), ["old.parquet", "part-7.parquet"]);
  // The map, built on first use, holds what the walk gave.
  assertEquals(state.files.size, 5_000);
  assertEquals(state.files.get("part-8.parquet")?.stats, '{"numRecords":2}');
  assertEquals(state.files.has("part-4999.parquet"), true);
  assertEquals([...activeFiles(state)].map((a) => a.path), walked.map((a) => a.path));
  // Moving it forward changes the built map.
  applyCommit(state, [removeAction("part-1.parquet", 10)]);
  assertEquals([fileCount(state), state.files.has("part-1.parquet")], [4_999, false]);
});

Deno.test("replay() of a checkpoint that adds and removes one path replays it action by action", () => {
  const checkpoint = [
    ...createActions(),
    addAction("a.parquet"),
    addAction("b.parquet"),
    removeAction("a.parquet", 3),
  ];
  const state = replay(1, [], checkpoint, "t");
  assertEquals([...activeFiles(state)].map((a) => a.path).sort(), ["a.parquet", "b.parquet"]);
  assertEquals([...state.files.keys()].sort(), ["a.parquet", "b.parquet"]);
  assertEquals(state.tombstones.size, 0, "the first action per path wins");
});

Deno.test("replay() matches the spellings of one absolute path, as Delta's canonicalized-paths tables expect", () => {
  // Delta's golden tables canonicalized-paths-{normal,special}-{a,b}: an add
  // and a later remove name one file differently; the table has no file.
  for (
    const [added, removed] of [
      ["file:/some/unqualified/absolute/path", "/some/unqualified/absolute/path"],
      ["file:///some/unqualified/absolute/path", "/some/unqualified/absolute/path"],
      ["file:/some/unqualified/with%20space/p@%23h", "/some/unqualified/with%20space/p@%23h"],
      ["file:///some/unqualified/with%20space/p@%23h", "/some/unqualified/with space/p@#h"],
      ["s3://bucket/t/a%20b.parquet", "s3://bucket/t/a b.parquet"],
    ]
  ) {
    const commits = [[...createActions(), addAction(added!)], [removeAction(removed!, 10)]];
    const state = replay(1, [...commits].reverse(), [], "t");
    assertEquals(state.files.size, 0, `${added} / ${removed}`);
  }
  // Different files stay different.
  const commits = [[...createActions(), addAction("file:/a/x"), addAction("s3://b/a/x")], [
    removeAction("/a/y", 10),
  ]];
  assertEquals(replay(1, [...commits].reverse(), [], "t").files.size, 2);
});
