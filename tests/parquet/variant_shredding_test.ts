/**
 * `unshred` on its own, for the shredded types Spark 4.0 does not write
 * (uuid, time, timestamps in nanoseconds and milliseconds, integers and
 * decimals under every annotation VariantShredding.md allows), and for the
 * Parquet types that have no variant type, refused by name. Spark's own
 * shredded files: tests/interop/variant_shredded_test.ts.
 */

import type { SchemaElement, SchemaTree } from "hyparquet";
import { unshred, withoutConversions } from "../../src/parquet/variant_shredding.ts";
import { variantToJson } from "../../src/columnar/variant.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

const EMPTY = new Uint8Array([1, 0, 0]);

function node(element: SchemaElement, children: SchemaTree[] = []): SchemaTree {
  return { element, children, count: 1, path: [element.name] } as SchemaTree;
}

/** A variant group whose typed_value is the primitive `typed`. */
function group(typed: SchemaElement): SchemaTree {
  return node({ name: "v", num_children: 3 }, [
    node({ name: "metadata", type: "BYTE_ARRAY", repetition_type: "REQUIRED" }),
    node({ name: "value", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" }),
    node({ ...typed, name: "typed_value", repetition_type: "OPTIONAL" }),
  ]);
}

function printed(typed: SchemaElement, raw: unknown): string {
  const v = unshred({ metadata: EMPTY, value: null, typed_value: raw }, group(typed));
  return variantToJson(v.metadata, v.value);
}

Deno.test("shredded types Spark does not write print as the variant types they map to", () => {
  const micros = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 123_456n;
  const uuid = new Uint8Array([
    0x12,
    0x34,
    0x56,
    0x78,
    0x9a,
    0xbc,
    0xde,
    0xf0,
    0x01,
    0x23,
    0x45,
    0x67,
    0x89,
    0xab,
    0xcd,
    0xef,
  ]);
  const cases: [SchemaElement, unknown, string][] = [
    [
      { name: "", type: "FIXED_LEN_BYTE_ARRAY", type_length: 16, logical_type: { type: "UUID" } },
      uuid,
      '"12345678-9abc-def0-0123-456789abcdef"',
    ],
    [
      {
        name: "",
        type: "INT64",
        logical_type: { type: "TIME", isAdjustedToUTC: false, unit: "MICROS" },
      },
      45_296_000_001n,
      '"12:34:56.000001"',
    ],
    [
      {
        name: "",
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "NANOS" },
      },
      micros * 1000n + 789n,
      '"2024-01-02 03:04:05.123456789+00:00"',
    ],
    [
      {
        name: "",
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "NANOS" },
      },
      micros * 1000n,
      '"2024-01-02 03:04:05.123456"',
    ],
    [
      {
        name: "",
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      },
      1_704_164_645_123n,
      '"2024-01-02 03:04:05.123+00:00"',
    ],
    [
      { name: "", type: "INT32", logical_type: { type: "INTEGER", bitWidth: 8, isSigned: true } },
      -128,
      "-128",
    ],
    [{ name: "", type: "INT32", converted_type: "INT_16" }, 32767, "32767"],
    [
      { name: "", type: "BYTE_ARRAY", converted_type: "DECIMAL", precision: 20, scale: 3 },
      new Uint8Array([0xff, 0xfe]),
      "-0.002",
    ],
    [
      { name: "", type: "INT32", converted_type: "DECIMAL", precision: 9, scale: 9 },
      -1,
      "-0.000000001",
    ],
    [{ name: "", type: "BYTE_ARRAY", converted_type: "UTF8" }, new Uint8Array([0x68]), '"h"'],
  ];
  for (const [element, raw, json] of cases) {
    assertEquals(printed(element, raw), json, json);
  }
});

Deno.test("a Parquet type with no variant type is refused by name, never guessed", () => {
  const cases: [SchemaElement, unknown, string][] = [
    [
      { name: "", type: "INT32", logical_type: { type: "INTEGER", bitWidth: 32, isSigned: false } },
      1,
      "unsigned",
    ],
    [{ name: "", type: "INT96" }, 1n, "INT96"],
    [
      {
        name: "",
        type: "BYTE_ARRAY",
        logical_type: { type: "JSON" },
      },
      new Uint8Array([0x31]),
      "JSON",
    ],
    [
      {
        name: "",
        type: "INT64",
        logical_type: { type: "TIME", isAdjustedToUTC: false, unit: "NANOS" },
      },
      1n,
      "microseconds",
    ],
  ];
  for (const [element, raw, what] of cases) {
    const error = assertThrows(() => printed(element, raw));
    assert(error.message.includes("typed_value"), error.message);
    assert(error.message.includes(what), error.message);
  }
});

Deno.test("row assembly reads values under a shredded group raw; LIST and MAP keep shaping it", () => {
  assertEquals(
    withoutConversions({
      name: "t",
      type: "INT64",
      logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "NANOS" },
      converted_type: "TIMESTAMP_MICROS",
    }),
    { name: "t", type: "INT64" },
  );
  assertEquals(
    withoutConversions({ name: "l", converted_type: "LIST", logical_type: { type: "LIST" } }),
    { name: "l", converted_type: "LIST", logical_type: { type: "LIST" } },
  );
  assertEquals(
    withoutConversions({ name: "v", logical_type: { type: "VARIANT", specification_version: 1 } }),
    { name: "v" },
  );
});
