import type { Field } from "../../src/columnar/batch.ts";
import { splitByPartition } from "../../src/ops/data_files.ts";
import { assertEquals } from "../_helpers/assert.ts";
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
