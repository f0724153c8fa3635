import { applyCommit, lastAppVersion, replay } from "../../src/delta/replay.ts";
import { addAction, createActions, removeAction } from "../_helpers/log.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

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
