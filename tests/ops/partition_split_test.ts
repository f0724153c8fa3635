import type { Field } from "../../src/columnar/batch.ts";
import { splitByPartition } from "../../src/ops/data_files.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";

const FIELDS: Field[] = [
  { name: "n", type: "long", nullable: true },
  { name: "region", type: "string", nullable: true },
  { name: "x", type: "double", nullable: true },
  { name: "day", type: "date", nullable: true },
];

/** Each slice as its directory, values and the `n` of its rows, for comparison. */
function shape(slices: ReturnType<typeof splitByPartition>) {
  return slices.map((s) => ({
    directory: s.directory,
    values: s.values,
    n: [...(s.batch.columns[0]!.values as BigInt64Array)],
    fields: s.batch.fields.map((f) => f.name),
  }));
}

Deno.test("splitByPartition groups rows by every partition column's values, in row order", () => {
  const rows = [
    { n: 0n, region: "M1", x: 1.5, day: 0 },
    { n: 1n, region: "S1", x: 0, day: 0 },
    { n: 2n, region: "M1", x: 1.5, day: 1 },
    { n: 3n, region: null, x: -0, day: 0 },
    { n: 4n, region: "M1", x: 1.5, day: 0 },
    { n: 5n, region: "", x: 0, day: null },
    { n: 6n, region: "S1", x: 0, day: 0 },
  ];
  const slices = shape(splitByPartition(batchOf(FIELDS, rows), ["region", "day"]));
  assertEquals(slices, [
    {
      directory: "region=M1/day=1970-01-01",
      values: { region: "M1", day: "1970-01-01" },
      n: [0n, 4n],
      fields: ["n", "x"],
    },
    {
      directory: "region=S1/day=1970-01-01",
      values: { region: "S1", day: "1970-01-01" },
      n: [1n, 6n],
      fields: ["n", "x"],
    },
    {
      directory: "region=M1/day=1970-01-02",
      values: { region: "M1", day: "1970-01-02" },
      n: [2n],
      fields: ["n", "x"],
    },
    {
      directory: "region=__HIVE_DEFAULT_PARTITION__/day=1970-01-01",
      values: { region: null, day: "1970-01-01" },
      n: [3n],
      fields: ["n", "x"],
    },
    {
      directory: "region=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__",
      values: { region: "", day: null },
      n: [5n],
      fields: ["n", "x"],
    },
  ]);
});

Deno.test("splitByPartition returns the whole batch, without copying, when all rows share a partition", () => {
  const batch = batchOf(FIELDS, [
    { n: 0n, region: "M1", x: 1, day: 3 },
    { n: 1n, region: "M1", x: 2, day: 3 },
  ]);
  const [only, ...rest] = splitByPartition(batch, ["region"]);
  assertEquals(rest.length, 0);
  assertEquals(only!.batch.columns[0] === batch.columns[0], true);
  assertEquals(only!.directory, "region=M1");
});

Deno.test("splitByPartition gives binary partition values as their UTF-8 text, as Spark writes them", () => {
  const fields: Field[] = [
    { name: "n", type: "long", nullable: true },
    { name: "data", type: "binary", nullable: true },
  ];
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const slices = shape(splitByPartition(
    batchOf(fields, [
      { n: 0n, data: utf8("😈") },
      { n: 1n, data: new Uint8Array([1, 2]) },
      { n: 2n, data: utf8("😈") },
    ]),
    ["data"],
  ));
  assertEquals(slices.map((s) => [s.values, s.n]), [
    [{ data: "😈" }, [0n, 2n]],
    [{ data: "\u0001\u0002" }, [1n]],
  ]);
});

Deno.test("splitByPartition refuses binary partition values that are not UTF-8, naming the column", () => {
  const fields: Field[] = [
    { name: "n", type: "long", nullable: true },
    { name: "data", type: "binary", nullable: true },
  ];
  // As Latin-1 text, 0xfe and 0xff would each read back as two other bytes in
  // Spark and delta-kernel-rs; replaced by U+FFFD, both would share a partition.
  for (const bad of [[0xff], [0x61, 0xfe]]) {
    assertThrows(
      () =>
        splitByPartition(
          batchOf(fields, [{ n: 0n, data: new Uint8Array([0x61]) }, {
            n: 1n,
            data: new Uint8Array(bad),
          }]),
          ["data"],
        ),
      'as a partition value of column "data": Delta stores partition values as text',
    );
  }
});
