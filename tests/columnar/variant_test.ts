/**
 * The Variant decoder on values built byte by byte from VariantEncoding.md,
 * for what the Spark fixture (tests/interop/variant_test.ts) cannot hold:
 * the types Spark 4.0 does not write (time, nanosecond timestamps, uuid),
 * wide field ids and offsets, and malformed values.
 */

import { variantToJson, variantToValue } from "../../src/columnar/variant.ts";
import { javaDouble, javaFloat, plainDecimal } from "../../src/columnar/java_text.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

/** Metadata version 1 with these keys, offsets of `offsetSize` bytes. */
function metadata(keys: string[], offsetSize = 1): Uint8Array {
  const bytes = keys.map((k) => new TextEncoder().encode(k));
  const out = [1 | ((offsetSize - 1) << 6), ...le(keys.length, offsetSize)];
  let at = 0;
  out.push(...le(0, offsetSize));
  for (const b of bytes) out.push(...le(at += b.length, offsetSize));
  for (const b of bytes) out.push(...b);
  return new Uint8Array(out);
}

const EMPTY = metadata([]);

function le(n: number, size: number): number[] {
  return Array.from({ length: size }, (_, i) => Math.floor(n / 256 ** i) % 256);
}

function primitive(type: number, ...payload: number[]): Uint8Array {
  return new Uint8Array([type << 2, ...payload]);
}

function int64(n: bigint): number[] {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigInt64(0, n, true);
  return [...new Uint8Array(view.buffer)];
}

function json(value: Uint8Array, meta = EMPTY): string {
  return variantToJson(meta, value);
}

Deno.test("variantToJson() prints a time of day as HH:MM:SS with the fraction it needs", () => {
  assertEquals(json(primitive(17, ...int64(0n))), '"00:00:00"');
  assertEquals(json(primitive(17, ...int64(45_296_500_000n))), '"12:34:56.5"');
  assertEquals(json(primitive(17, ...int64(86_399_999_999n))), '"23:59:59.999999"');
});

Deno.test("variantToJson() prints nanosecond timestamps with up to nine fraction digits", () => {
  assertEquals(
    json(primitive(18, ...int64(1_000_000_001n))),
    '"1970-01-01 00:00:01.000000001+00:00"',
  );
  assertEquals(json(primitive(19, ...int64(-1n))), '"1969-12-31 23:59:59.999999999"');
  assertEquals(json(primitive(19, ...int64(1_700_000_000_000_000_000n))), '"2023-11-14 22:13:20"');
});

Deno.test("variantToJson() prints a uuid in its hyphenated form", () => {
  const bytes = [
    0x12,
    0x3e,
    0x45,
    0x67,
    0xe8,
    0x9b,
    0x12,
    0xd3,
    0xa4,
    0x56,
    0x42,
    0x66,
    0x14,
    0x17,
    0x40,
    0x00,
  ];
  assertEquals(json(primitive(20, ...bytes)), '"123e4567-e89b-12d3-a456-426614174000"');
});

Deno.test("variantToJson() prints dates and timestamps beyond years 0-9999 as Java does", () => {
  assertEquals(json(primitive(11, ...le(2_932_897, 4))), '"+10000-01-01"');
  assertEquals(json(primitive(11, ...le(2 ** 32 - 719_529, 4))), '"-0001-12-31"');
  assertEquals(
    json(primitive(12, ...int64(-62_135_596_800_000_000n))),
    '"0001-01-01 00:00:00+00:00"',
  );
});

Deno.test("variantToJson() reads 16-byte decimals and strips trailing zeros as Spark does", () => {
  const unscaled = -(10n ** 37n) * 5n; // -5E37 at scale 2
  const bytes: number[] = [];
  let n = (1n << 128n) + unscaled;
  for (let i = 0; i < 16; i++, n >>= 8n) bytes.push(Number(n & 0xffn));
  assertEquals(json(primitive(10, 2, ...bytes)), "-500000000000000000000000000000000000");
  const decimal = variantToValue(EMPTY, primitive(8, 3, ...le(1500, 4)));
  assertEquals(JSON.stringify({ d: decimal }), '{"d":1.5}');
  assertEquals(plainDecimal(0n, 4), "0");
  assertEquals(plainDecimal(-1n, 3), "-0.001");
  assertEquals(plainDecimal(1200n, 0), "1200");
});

Deno.test("javaDouble() and javaFloat() print as Java's Double.toString and Float.toString", () => {
  const doubles: [number, string][] = [
    [3, "3.0"],
    [0.001, "0.001"],
    [0.0001, "1.0E-4"],
    [1e7, "1.0E7"],
    [9999999.5, "9999999.5"],
    [1.5e10, "1.5E10"],
    [-2.5e-300, "-2.5E-300"],
    [123.456, "123.456"],
    [-0, "-0.0"],
    [NaN, "NaN"],
    [-Infinity, "-Infinity"],
  ];
  for (const [n, text] of doubles) assertEquals(javaDouble(n), text, String(n));
  // Printed by Java 17 (Spark 4.0's runtime), which is not always shortest: whole
  // numbers beyond 2^54 keep more digits, and a float's tie goes to an even digit.
  const asDouble = (bits: bigint) => new Float64Array(new BigInt64Array([bits]).buffer)[0]!;
  const java17: [bigint, string][] = [
    [4872999481647159402n, "5.8986041083561293E17"],
    [-4343927191919316173n, "-1.67681231886923853E18"],
    [4859690497824099750n, "7.6961592299280992E16"],
  ];
  for (const [bits, text] of java17) assertEquals(javaDouble(asDouble(bits)), text, text);
  const asFloat = (bits: number) => new Float32Array(new Int32Array([bits]).buffer)[0]!;
  const java17Floats: [number, string][] = [
    [1568355455, "1.13132703E18"],
    [1223065028, "472046.12"],
    [-904083667, "-2568651.2"],
  ];
  for (const [bits, text] of java17Floats) assertEquals(javaFloat(asFloat(bits)), text, text);
  assertEquals(javaFloat(Math.fround(1.1)), "1.1");
  assertEquals(javaFloat(Math.fround(3.4e38)), "3.4E38");
  assertEquals(javaFloat(Math.fround(0.1)), "0.1");
});

Deno.test("variantToJson() follows two-byte field ids and offsets in a large object", () => {
  const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, "0")}`);
  const meta = metadata(keys, 2);
  // A large object (4-byte count) of 300 fields, ids 2 bytes, offsets 2 bytes; each an int8.
  const header = 2 | ((1 | (1 << 2) | (1 << 4)) << 2);
  const out = [header, ...le(300, 4)];
  for (let i = 0; i < 300; i++) out.push(...le(i, 2));
  for (let i = 0; i <= 300; i++) out.push(...le(i * 2, 2));
  for (let i = 0; i < 300; i++) out.push(3 << 2, i % 100);
  const text = json(new Uint8Array(out), meta);
  assertEquals(JSON.parse(text).k299, 99);
  assertEquals(Object.keys(JSON.parse(text)).length, 300);
});

Deno.test("variantToJson() escapes strings and keys as Jackson does", () => {
  const meta = metadata(['a"\u0001']);
  const value = new TextEncoder().encode("\\/\n\u001f\u00e9");
  // {"a\"\u0001": "<long string>"}
  const out = [2, 1, 0, 0, 5 + value.length, 16 << 2, ...le(value.length, 4), ...value];
  assertEquals(json(new Uint8Array(out), meta), '{"a\\"\\u0001":"\\\\/\\n\\u001F\u00e9"}');
});

Deno.test("variantToValue() keeps exact numbers; both forms quote non-finite floats as Spark does", () => {
  const doc = JSON.stringify(variantToValue(EMPTY, primitive(6, ...int64(-(2n ** 63n)))));
  assertEquals(doc, "-9223372036854775808");
  assertEquals(variantToValue(EMPTY, primitive(6, ...int64(42n))), 42);
  const float = new Uint8Array(new Float32Array([0.1]).buffer);
  assertEquals(JSON.stringify([variantToValue(EMPTY, primitive(14, ...float))]), "[0.1]");
  const zero = new Uint8Array(new Float64Array([-0]).buffer);
  assertEquals(JSON.stringify([variantToValue(EMPTY, primitive(7, ...zero))]), "[-0.0]");
  const nan = new Uint8Array(new Float64Array([NaN]).buffer);
  assertEquals(variantToValue(EMPTY, primitive(7, ...nan)), "NaN");
  assertEquals(json(primitive(7, ...nan)), '"NaN"');
  const inf = new Uint8Array(new Float32Array([-Infinity]).buffer);
  assertEquals(json(primitive(14, ...inf)), '"-Infinity"');
});

Deno.test("a malformed variant is an error that says what is wrong", () => {
  assertThrows(() => json(primitive(0), new Uint8Array([2, 0, 0])), "version is 2");
  assertThrows(() => json(primitive(21)), "primitive type id 21");
  assertThrows(() => json(primitive(6, 1, 2)), "pass the value's end");
  assertThrows(() => json(new Uint8Array([2, 1, 5, 0, 1, 0])), "field id 5");
  assertThrows(() => json(primitive(17, ...int64(-1n))), "outside one day");
});
