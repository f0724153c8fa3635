/**
 * Tables that neuralake writes are read by delta-rs with exactly the same
 * rows, and neuralake reads the same rows back: plain, compacted (copied and
 * re-encoded row groups), partitioned (with null partitions), every primitive
 * type with nulls, 500 commits with automatic checkpoints, and an explicit
 * checkpoint.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { NEURAL_FIELDS, NeuralGenerator } from "../../src/sources/neural.ts";
import { writeTable } from "../../src/ops/write.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { snapshotOf } from "../../src/ops/table.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { BACKENDS } from "../_helpers/backends.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";

const ALL_TYPES: Field[] = [
  { name: "b", type: "byte", nullable: true },
  { name: "sh", type: "short", nullable: true },
  { name: "i", type: "integer", nullable: true },
  { name: "l", type: "long", nullable: true },
  { name: "f", type: "float", nullable: true },
  { name: "d", type: "double", nullable: true },
  { name: "ok", type: "boolean", nullable: true },
  { name: "s", type: "string", nullable: true },
  { name: "bin", type: "binary", nullable: true },
  { name: "day", type: "date", nullable: true },
  { name: "ts", type: "timestamp", nullable: true },
  { name: "ntz", type: "timestamp_ntz", nullable: true },
  { name: "d9", type: "decimal(9,2)", nullable: true },
  { name: "d18", type: "decimal(18,4)", nullable: true },
  { name: "d38", type: "decimal(38,10)", nullable: true },
];

const ALL_TYPE_ROWS = [
  {
    b: -128,
    sh: -32768,
    i: -2147483648,
    l: -9223372036854775808n,
    f: -1.5,
    d: -1e300,
    ok: false,
    s: "",
    bin: new Uint8Array([]),
    day: -719162,
    ts: -62135596800000000n,
    ntz: 0n,
    d9: -9999999n,
    d18: -999999999999999999n,
    d38: -99999999999999999999999999999999999999n,
  },
  {
    b: 127,
    sh: 32767,
    i: 2147483647,
    l: 9223372036854775807n,
    f: 3.4028234663852886e38,
    d: Infinity,
    ok: true,
    s: 'héllo, "world"\n𝄞',
    bin: new Uint8Array([0, 1, 255]),
    day: 2932896,
    ts: 253402300799999999n,
    ntz: 1704067200123456n,
    d9: 9999999n,
    d18: 1n,
    d38: 12345678901234567890n,
  },
  {
    b: 0,
    sh: 0,
    i: 0,
    l: 9007199254740993n,
    f: NaN,
    d: -0,
    ok: null,
    s: null,
    bin: null,
    day: 0,
    ts: 1n,
    ntz: null,
    d9: 0n,
    d18: null,
    d38: 0n,
  },
  {},
];

for (const backend of BACKENDS) {
  Deno.test(`${backend.name}: delta-rs reads a plain neural table row for row`, async () => {
    const { uri, table } = await backend.newTable("plain");
    const gen = new NeuralGenerator({ seed: 7 });
    for (let seq = 0; seq < 3; seq++) {
      const batch = gen.generate({
        writerId: "writer-0",
        sessionId: "s1",
        batchSeq: seq,
        tick0: 1_700_000_000_000,
        startRow: seq * 3000,
        rows: 3000,
      });
      await writeTable(table, sourceOf(batch));
    }
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    const ours = await readWithNeuralake(table);
    assertEquals(theirs.version, 2);
    assertEquals(theirs.rows.length, 9000);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    assertEquals(theirs.columns.map(([n]) => n), NEURAL_FIELDS.map((f) => f.name));
  });

  Deno.test(`${backend.name}: delta-rs reads a compacted table row for row, copied and re-encoded row groups alike`, async () => {
    const { uri, table } = await backend.newTable("compacted");
    const gen = new NeuralGenerator({ seed: 11 });
    // Two files as a stream's writers leave them (one large row group each,
    // copied byte for byte) and three small ones (decoded and re-encoded).
    let startRow = 0;
    for (const [seq, rows] of [20_000, 700, 20_000, 700, 700].entries()) {
      const batch = gen.generate({
        writerId: `writer-${seq % 2}`,
        sessionId: "s1",
        batchSeq: seq,
        tick0: 1_700_000_000_000,
        startRow,
        rows,
      });
      startRow += rows;
      await writeTable(table, sourceOf(batch));
    }
    const before = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    const bins = await compactOnce(table, await snapshotOf(table), {
      targetFileSize: 1 << 30,
      minFiles: 2,
    });
    assertEquals(
      bins.map((b) => [b.kind, b.filesIn, b.copiedRowGroups, b.decodedRowGroups]),
      [["committed", 5, 2, 3]],
    );
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    assertEquals(theirs.version, 5);
    assertEquals(theirs.rows.length, 42_100);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(before.rows));
    assertEquals(
      canonicalRows((await readWithNeuralake(table)).rows),
      canonicalRows(before.rows),
    );
    assertEquals((await snapshotOf(table)).files.size, 1);
  });

  Deno.test(`${backend.name}: delta-rs reads a partitioned table with null partitions`, async () => {
    const { uri, table } = await backend.newTable("partitioned");
    const fields: Field[] = [
      { name: "region", type: "string", nullable: true },
      { name: "day", type: "date", nullable: true },
      { name: "v", type: "long", nullable: true },
      { name: "odd", type: "string", nullable: true },
    ];
    const rows = Array.from({ length: 40 }, (_, i) => ({
      region: i % 5 === 0 ? null : ["M1", "S1", "a/b=c", "x y%"][i % 4]!,
      day: i % 7 === 0 ? null : 19700 + (i % 3),
      v: BigInt(i),
      odd: i % 2 ? "x" : null,
    }));
    await writeTable(table, sourceOf(batchOf(fields, rows)), { partitionBy: ["region", "day"] });
    await writeTable(table, sourceOf(batchOf(fields, rows.slice(0, 10))));
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    const ours = await readWithNeuralake(table);
    assertEquals(theirs.rows.length, 50);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    const nullRegion = theirs.rows.filter((r) => r.region === null).length;
    assertEquals(nullRegion, 8 + 2);
  });

  Deno.test(`${backend.name}: delta-rs reads every primitive type with nulls exactly`, async () => {
    const { uri, table } = await backend.newTable("types");
    await writeTable(table, sourceOf(batchOf(ALL_TYPES, ALL_TYPE_ROWS)));
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    const ours = await readWithNeuralake(table);
    assertEquals(theirs.rows.length, ALL_TYPE_ROWS.length);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    assertEquals(theirs.columns.map(([, t]) => t), [
      "int8",
      "int16",
      "int32",
      "int64",
      "float",
      "double",
      "bool",
      "string",
      "binary",
      "date32[day]",
      "timestamp[us, tz=UTC]",
      "timestamp[us]",
      "decimal128(9, 2)",
      "decimal128(18, 4)",
      "decimal128(38, 10)",
    ]);
    // A spot check that the values are the right ones, not only equal on both sides.
    const extreme = ours.rows.find((r) => r.b === 127)!;
    assertEquals(extreme.l, "9223372036854775807");
    assertEquals(extreme.ts, "9999-12-31T23:59:59.999999Z");
    assertEquals(extreme.d38, "1234567890.1234567890");
    assertEquals(extreme.s, 'héllo, "world"\n𝄞');
  });

  Deno.test(`${backend.name}: 500 commits with automatic checkpoints read the same on both sides`, async () => {
    const { uri, table } = await backend.newTable("many");
    const fields: Field[] = [{ name: "n", type: "long", nullable: false }, {
      name: "w",
      type: "string",
      nullable: false,
    }];
    for (let v = 0; v < 500; v++) {
      await writeTable(
        table,
        sourceOf(batchOf(fields, [{ n: BigInt(v), w: "a" }, { n: BigInt(v + 1000), w: "b" }])),
      );
    }
    const snapshot = await snapshotOf(table);
    assertEquals(snapshot.version, 499);
    // Delta's default interval of 10: the last checkpoint at 490.
    assertEquals(snapshot.segment.checkpoint?.version, 490);
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    assertEquals(theirs.version, 499);
    assertEquals(theirs.rows.length, 1000);
    const ours = await readWithNeuralake(table);
    assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
    // Time travel to a version before and after a checkpoint.
    for (const version of [150, 399, 401]) {
      const old = await readWithDeltaRs(uri, { version, storageOptions: backend.storageOptions() });
      const mine = await readWithNeuralake(table, version);
      assertEquals(old.rows.length, (version + 1) * 2);
      assertEquals(canonicalRows(mine.rows), canonicalRows(old.rows));
    }
    const report = await verifyTable(table);
    assert(report.passed, JSON.stringify(report.checks));
  });

  Deno.test(`${backend.name}: delta-rs starts from a checkpoint neuralake wrote`, async () => {
    const { uri, table } = await backend.newTable("checkpointed");
    const fields: Field[] = [{ name: "n", type: "integer", nullable: true }, {
      name: "p",
      type: "string",
      nullable: true,
    }];
    for (let v = 0; v < 5; v++) {
      await writeTable(table, sourceOf(batchOf(fields, [{ n: v, p: v % 2 ? "odd" : null }])), {
        partitionBy: ["p"],
      });
    }
    const hint = await checkpointTable(table);
    assertEquals(hint.version, 4);
    const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
    assertEquals(canonicalRows((await readWithNeuralake(table)).rows), canonicalRows(theirs.rows));
    assertEquals(theirs.rows.length, 5);
  });
}
