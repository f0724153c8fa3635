import {
  bindPredicate,
  type FileBounds,
  filterRows,
  mayMatch,
  mustMatch,
  parsePredicate,
} from "../../src/ops/predicate.ts";
import type { ColumnBatch, Field } from "../../src/columnar/batch.ts";
import type { Scalar } from "../../src/columnar/scalar.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

const fields: Field[] = [
  { name: "timestamp_us", type: "timestamp", nullable: false },
  { name: "region", type: "string", nullable: true },
  { name: "neuron_id", type: "integer", nullable: false },
  { name: "voltage_uv", type: "float", nullable: false },
  { name: "batch_seq", type: "long", nullable: false },
];

function bind(text: string) {
  return bindPredicate(parsePredicate(text), fields);
}

const batch: ColumnBatch = {
  fields,
  length: 4,
  columns: [
    {
      values: new BigInt64Array([
        1704067200000000n,
        1704067200001000n,
        1704067201000000n,
        1704067202000000n,
      ]),
    },
    { values: ["M1", "S1", "", "M1"], nulls: new Uint8Array([0, 0, 1, 0]) },
    { values: new Int32Array([1, 2, 3, 4]) },
    { values: new Float32Array([0.5, NaN, -3, 10]) },
    { values: new BigInt64Array([0n, 0n, 1n, 9007199254740993n]) },
  ],
};

Deno.test("parsePredicate() reads comparisons joined by and/or with precedence", () => {
  const p = parsePredicate("a = 1 or b > 2 and not c <= 'x'");
  assertEquals(p.kind, "or");
  assertEquals(p.kind === "or" && p.right.kind, "and");
});

Deno.test("parsePredicate() explains where a predicate is malformed", () => {
  assertThrows(() => parsePredicate("region = "), "Unexpected end of predicate");
  assertThrows(() => parsePredicate("region = 'M1"), "Unterminated string starting at column 10");
  assertThrows(() => parsePredicate("region ~ 'M1'"), 'Unexpected character "~" at column 8');
  assertThrows(() => parsePredicate("a = 1 b = 2"), 'Unexpected "b" at column 7');
});

Deno.test("bindPredicate() names an unknown column and the columns that exist", () => {
  assertThrows(() => bind("regoin = 'M1'"), 'Unknown column "regoin"');
  assertThrows(() => bind("region = 5"), "quote the value");
  assertThrows(() => bind("timestamp_us > 'yesterday'"), "ISO-8601");
});

Deno.test("filterRows() keeps only rows where the predicate is TRUE", () => {
  const rows = (text: string) => Array.from(filterRows(bind(text), batch));
  assertEquals(rows("timestamp_us >= '2024-01-01T00:00:00.001Z' and region = 'M1'"), [3]);
  assertEquals(rows("region = 'M1' or neuron_id = 3"), [0, 2, 3]);
  assertEquals(rows("region != 'M1'"), [1]); // NULL is not TRUE
  assertEquals(rows("not region = 'M1'"), [1]);
  assertEquals(rows("region is null"), [2]);
  assertEquals(rows("region is not null and neuron_id in (1, 2, 7)"), [0, 1]);
  // NaN sorts above every number and equals only NaN, as in Spark SQL.
  assertEquals(rows("voltage_uv > 0"), [0, 1, 3]);
  assertEquals(rows("voltage_uv < 0.5"), [2]);
  assertEquals(rows("voltage_uv != 0.5"), [1, 2, 3]);
  assertEquals(rows("voltage_uv in (10, -3)"), [2, 3]);
  assertEquals(rows("not voltage_uv <= 10"), [1]);
  assertEquals(rows("batch_seq = 9007199254740993"), [3]);
  assertEquals(rows("5 > neuron_id"), [0, 1, 2, 3]);
});

function bounds(
  numRecords: number,
  columns: Record<string, { min?: Scalar; max?: Scalar; nullCount?: number }>,
): FileBounds {
  return { numRecords, column: (name) => columns[name] };
}

Deno.test("mayMatch() prunes files whose bounds exclude every row", () => {
  const file = bounds(10, {
    neuron_id: { min: 100, max: 200, nullCount: 0 },
    region: { min: "M1", max: "M1", nullCount: 0 },
  });
  assertEquals(mayMatch(bind("neuron_id < 100"), file), false);
  assertEquals(mayMatch(bind("neuron_id <= 100"), file), true);
  assertEquals(mayMatch(bind("neuron_id = 250"), file), false);
  assertEquals(mayMatch(bind("neuron_id > 150 and region = 'S1'"), file), false);
  assertEquals(mayMatch(bind("neuron_id > 250 or region = 'M1'"), file), true);
  assertEquals(mayMatch(bind("region != 'M1'"), file), false);
  assertEquals(mayMatch(bind("not region = 'M1'"), file), false);
  assertEquals(mayMatch(bind("region is null"), file), false);
  assertEquals(mayMatch(bind("neuron_id in (1, 2)"), file), false);
  assertEquals(mayMatch(bind("neuron_id in (1, 150)"), file), true);
});

Deno.test("mayMatch() never prunes on unknown bounds", () => {
  assertEquals(mayMatch(bind("neuron_id < 0"), bounds(10, {})), true);
  assertEquals(mayMatch(bind("neuron_id < 0"), { column: () => undefined }), true);
});

Deno.test("mayMatch() widens truncated timestamp maxima by 999 µs", () => {
  const file = bounds(5, {
    timestamp_us: { min: 1704067200000000n, max: 1704067200000000n, nullCount: 0 },
  });
  // The true maximum may be up to .000999 after the written one.
  assertEquals(mayMatch(bind("timestamp_us > '2024-01-01T00:00:00.000500Z'"), file), true);
  assertEquals(mayMatch(bind("timestamp_us > '2024-01-01T00:00:00.001Z'"), file), false);
});

Deno.test("mayMatch() does not assume floating columns lack NaN", () => {
  const file = bounds(5, { voltage_uv: { min: 1, max: 1, nullCount: 0 } });
  assertEquals(mayMatch(bind("voltage_uv != 1"), file), true);
  assertEquals(mayMatch(bind("voltage_uv > 1"), file), false);
});

Deno.test("mayMatch() knows comparisons on an all-null column are never TRUE", () => {
  const file = bounds(3, { region: { nullCount: 3 } });
  assertEquals(mayMatch(bind("region = 'M1'"), file), false);
  assertEquals(mayMatch(bind("region is null"), file), true);
});

Deno.test("mustMatch() proves that every row of a file matches, or says it cannot", () => {
  const file = bounds(10, {
    region: { min: "M1", max: "M1", nullCount: 0 },
    neuron_id: { min: 100, max: 200, nullCount: 0 },
    voltage_uv: { min: 1, max: 2, nullCount: 3 },
  });
  assertEquals(mustMatch(bind("region = 'M1'"), file), true);
  assertEquals(mustMatch(bind("region = 'M1' and neuron_id >= 100"), file), true);
  assertEquals(mustMatch(bind("neuron_id > 100"), file), false);
  assertEquals(mustMatch(bind("region != 'S1'"), file), true);
  assertEquals(mustMatch(bind("voltage_uv > 0"), file), false, "nulls make some rows NULL");
  assertEquals(mustMatch(bind("region = 'M1'"), bounds(10, {})), false, "unknown bounds");
  assertEquals(mustMatch(bind("region = null"), file), false);
});
