import { buildStatsJson, mergeStats, parseStats } from "../../src/delta/stats.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assertEquals } from "../_helpers/assert.ts";

const fields: Field[] = [
  { name: "id", type: "long", nullable: false },
  { name: "t", type: "timestamp", nullable: true },
  { name: "name", type: "string", nullable: true },
  { name: "ok", type: "boolean", nullable: true },
  { name: "price", type: "decimal(20,2)", nullable: true },
  { name: "x", type: "double", nullable: true },
  { name: "d", type: "date", nullable: true },
];

Deno.test("buildStatsJson() writes exact bounds and counts in protocol form", () => {
  const json = buildStatsJson(3, fields, [
    { nullCount: 0, min: -9223372036854775808n, max: 9007199254740993n },
    { nullCount: 1, min: 1704067200123456n, max: 1704067200999999n },
    { nullCount: 0, min: "a", max: "z" },
    { nullCount: 2, min: false, max: true },
    { nullCount: 0, min: -100000000000000001n, max: 5n },
    { nullCount: 0, min: -Infinity, max: 2.5 },
    { nullCount: 0, min: 19723, max: 19724 },
  ]);
  assertEquals(
    json,
    '{"numRecords":3,"minValues":{"id":-9223372036854775808,"t":"2024-01-01T00:00:00.123Z","name":"a","price":-1000000000000000.01,"d":"2024-01-01"},' +
      '"maxValues":{"id":9007199254740993,"t":"2024-01-01T00:00:00.999Z","name":"z","price":0.05,"x":2.5,"d":"2024-01-02"},' +
      '"nullCount":{"id":0,"t":1,"name":0,"ok":2,"price":0,"x":0,"d":0}}',
  );
});

Deno.test("string bounds are cut to 32 code points with a valid upper bound", () => {
  const long = "é".repeat(40);
  const json = buildStatsJson(1, [{ name: "s", type: "string", nullable: true }], [
    { nullCount: 0, min: long, max: long },
  ]);
  const parsed = JSON.parse(json);
  assertEquals(Array.from(parsed.minValues.s as string).length, 32);
  assertEquals(parsed.maxValues.s, "é".repeat(32) + "\u{10FFFF}");
  // The bounds hold: min <= value <= max in code point order.
  assertEquals(parsed.minValues.s <= long, true);
});

Deno.test("parseStats() reads int64 and decimal bounds exactly", () => {
  const json = buildStatsJson(2, fields.slice(0, 1).concat(fields[4]!), [
    { nullCount: 0, min: 9007199254740993n, max: 9223372036854775807n },
    { nullCount: 1, min: 12345678901234567n, max: 12345678901234568n },
  ]);
  const stats = parseStats(json, fields)!;
  assertEquals(stats.numRecords, 2);
  assertEquals(stats.columns.get("id"), {
    nullCount: 0,
    min: 9007199254740993n,
    max: 9223372036854775807n,
  });
  assertEquals(stats.columns.get("price"), {
    nullCount: 1,
    min: 12345678901234567n,
    max: 12345678901234568n,
  });
});

Deno.test("parseStats() reads timestamps and dates written by other engines", () => {
  const stats = parseStats(
    '{"numRecords":1,"minValues":{"t":"2022-10-24T22:59:32.846Z","d":"2020-01-01"},"maxValues":{"t":"2022-10-24T22:59:32.846+00:00"}}',
    fields,
  )!;
  assertEquals(stats.columns.get("t")?.min, 1666652372846000n);
  assertEquals(stats.columns.get("t")?.max, 1666652372846000n);
  assertEquals(stats.columns.get("d")?.min, 18262);
});

Deno.test("parseStats() tolerates unreadable stats", () => {
  assertEquals(parseStats("{nope", fields), undefined);
  assertEquals(parseStats(null, fields), undefined);
});

Deno.test("mergeStats() combines the files of a compaction", () => {
  const a = parseStats(
    buildStatsJson(2, fields.slice(0, 3), [
      { nullCount: 0, min: 5n, max: 9n },
      { nullCount: 2, min: undefined, max: undefined },
      { nullCount: 0, min: "b", max: "c" },
    ]),
    fields,
  );
  const b = parseStats(
    buildStatsJson(3, fields.slice(0, 3), [
      { nullCount: 0, min: 1n, max: 7n },
      { nullCount: 1, min: 100_000n, max: 200_000n },
      { nullCount: 1, min: "a", max: "bb" },
    ]),
    fields,
  );
  const merged = mergeStats([a, b], fields.slice(0, 3))!;
  assertEquals(merged.numRecords, 5);
  assertEquals(merged.columns[0], { nullCount: 0, min: 1n, max: 9n });
  assertEquals(merged.columns[1], { nullCount: 3, min: 100_000n, max: 200_000n });
  assertEquals(merged.columns[2], { nullCount: 1, min: "a", max: "c" });
});

Deno.test("mergeStats() gives up when an input has no stats", () => {
  assertEquals(mergeStats([undefined], fields), undefined);
});

Deno.test("parseStats() reads a float bound in its shortest decimal form as that float", () => {
  // Spark and delta-rs write the float nearest 0.1 as 0.1: as a double that is
  // below the float, and a maximum below the file's value skips a file it holds.
  const parsed = parseStats(
    '{"numRecords":2,"minValues":{"f":-0.7,"x":0.1},"maxValues":{"f":1.1,"x":0.1}}',
    [{ name: "f", type: "float", nullable: true }, { name: "x", type: "double", nullable: true }],
  )!;
  assertEquals(parsed.columns.get("f"), {
    min: Math.fround(-0.7),
    max: Math.fround(1.1),
  });
  assertEquals(parsed.columns.get("x"), { min: 0.1, max: 0.1 });
});
