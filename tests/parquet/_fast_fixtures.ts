/**
 * Helpers for the typed-array decoder tests: reading a file with it and with
 * the hyparquet reference,
 * comparing batches bit for bit, and seeded batches of every type (with and
 * without nulls, low and high cardinality) for our encoder and pyarrow.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import type { Tagged } from "../_helpers/pyarrow.ts";
import type { Column, ColumnBatch, Field } from "../../src/columnar/batch.ts";
import type { PrimitiveType } from "../../src/columnar/types.ts";
import {
  bytesSource,
  openParquet,
  readColumns,
  type ReadOptions,
} from "../../src/parquet/decode.ts";
import { readReference } from "../_helpers/hyparquet_reference.ts";

/** A seeded generator of numbers in [0, 1). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** What our decoder and the hyparquet reference made of a file. */
export interface BothReads {
  fast: ColumnBatch;
  reference: ColumnBatch;
}

/** Reads `fields` of a file with `readColumns` and with hyparquet (`readReference`). */
export async function readBoth(
  bytes: Uint8Array,
  fields: Field[],
  options: Omit<ReadOptions, "fields"> = {},
): Promise<BothReads> {
  const file = await openParquet(bytesSource(bytes, "test.parquet"));
  const fast = await readColumns(file, { ...options, fields });
  const reference = await readReference(file, fields, options);
  return { fast, reference };
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return Object.is(a, b);
}

/** Fails unless two columns hold the same values in the same representation, bit for bit. */
export function assertSameColumn(actual: Column, expected: Column, label: string): void {
  const a = actual.values;
  const e = expected.values;
  assertEquals(a.constructor.name, e.constructor.name, `${label}: representation`);
  assertEquals(a.length, e.length, `${label}: length`);
  if (ArrayBuffer.isView(a)) {
    const x = bytesOf(a);
    const y = bytesOf(e as ArrayBufferView);
    const at = x.findIndex((v, i) => v !== y[i]);
    if (at >= 0) {
      const row = Math.floor(at / (a as Uint8Array).BYTES_PER_ELEMENT);
      assertEquals((a as Uint8Array)[row], (e as Uint8Array)[row], `${label}: row ${row}`);
      assert(false, `${label}: the bits of row ${row} differ`);
    }
  } else {
    const x = a as unknown[];
    const y = e as unknown[];
    for (let i = 0; i < x.length; i++) {
      if (!sameValue(x[i], y[i])) assertEquals(x[i], y[i], `${label}: row ${i}`);
    }
  }
  assertEquals(actual.nulls, expected.nulls, `${label}: nulls`);
}

/** Fails unless two batches are equal, column by column, bit for bit. */
export function assertSameBatch(actual: ColumnBatch, expected: ColumnBatch, label = ""): void {
  assertEquals(actual.length, expected.length, `${label} length`);
  assertEquals(actual.fields, expected.fields, `${label} fields`);
  actual.columns.forEach((c, i) => {
    assertSameColumn(c, expected.columns[i]!, `${label} column ${actual.fields[i]!.name}`);
  });
}

const I64 = 2n ** 64n;

function randomLong(r: () => number): bigint {
  const hi = BigInt(Math.floor(r() * 4294967296));
  const lo = BigInt(Math.floor(r() * 4294967296));
  return BigInt.asIntN(64, (hi << 32n) | lo);
}

function randomBig(r: () => number, limit: bigint): bigint {
  const v = (randomLong(r) * I64 + BigInt.asUintN(64, randomLong(r))) % limit;
  return r() < 0.5 ? -v : v;
}

const FLOAT_SPECIALS = [NaN, -0, 0, Infinity, -Infinity];

/** Column makers for our encoder, by name: the type and the value of row i. */
const MAKERS: [string, PrimitiveType, (i: number, r: () => number) => unknown][] = [
  ["byte", "byte", (_, r) => Math.floor(r() * 256) - 128],
  ["short", "short", (_, r) => Math.floor(r() * 65536) - 32768],
  ["int", "integer", (_, r) => (r() * 4294967296) | 0],
  ["int_low", "integer", (_, r) => Math.floor(r() * 10) * 1000 - 5000],
  ["long", "long", (_, r) => randomLong(r)],
  ["long_low", "long", (_, r) => BigInt(Math.floor(r() * 5)) - 2n],
  [
    "float",
    "float",
    (i, r) => i % 97 < 5 ? FLOAT_SPECIALS[i % 97]! : Math.fround((r() - 0.5) * 1e6),
  ],
  ["double", "double", (i, r) => i % 89 < 5 ? FLOAT_SPECIALS[i % 89]! : (r() - 0.5) * 1e300],
  ["bool", "boolean", (_, r) => r() < 0.3 ? 1 : 0],
  ["str", "string", (i, r) => i % 13 === 0 ? `é ${i} 🙂` : i % 17 === 0 ? "" : `id-${i}-${r()}`],
  ["str_low", "string", (_, r) => ["M1", "S1", "PMd", "PPC", "日本"][Math.floor(r() * 5)]],
  ["bin", "binary", (_, r) => Uint8Array.from({ length: Math.floor(r() * 20) }, () => r() * 256)],
  ["date", "date", (_, r) => Math.floor(r() * 40000) - 20000],
  ["ts", "timestamp", (i) => 1_700_000_000_000_000n + BigInt(i) * 1000n],
  ["ts_wide", "timestamp", (_, r) => randomLong(r)],
  ["ntz", "timestamp_ntz", (i) => BigInt(i * 7 - 10_000)],
  ["dec9", "decimal(9,2)", (_, r) => BigInt(Math.floor(r() * 1999999999) - 999999999)],
  ["dec9_low", "decimal(9,2)", (_, r) => BigInt(Math.floor(r() * 4)) * 100n],
  ["dec18", "decimal(18,6)", (_, r) => randomBig(r, 10n ** 18n)],
  ["dec38", "decimal(38,10)", (_, r) => randomBig(r, 10n ** 38n)],
];

function valuesOf(type: PrimitiveType, raw: unknown[]): Column["values"] {
  switch (type) {
    case "byte":
    case "short":
    case "integer":
    case "date":
      return Int32Array.from(raw as number[]);
    case "long":
    case "timestamp":
    case "timestamp_ntz":
      return BigInt64Array.from(raw as bigint[]);
    case "float":
      return Float32Array.from(raw as number[]);
    case "double":
      return Float64Array.from(raw as number[]);
    case "boolean":
      return Uint8Array.from(raw as number[]);
    default:
      return raw as string[];
  }
}

/**
 * Every type our encoder writes, each as a required column and as a
 * nullable one whose nulls are scattered and also fill rows 1500..2300 (so
 * some pages hold only nulls), `rows` rows.
 */
export function allTypesBatch(rows: number, seed = 7): ColumnBatch {
  const fields: Field[] = [];
  const columns: Column[] = [];
  MAKERS.forEach(([name, type, make], m) => {
    const r = random(seed * 1000 + m);
    const raw = Array.from({ length: rows }, (_, i) => make(i, r));
    fields.push({ name, type, nullable: false });
    columns.push({ values: valuesOf(type, raw) });
    const nulls = Uint8Array.from(
      { length: rows },
      (_, i) => r() < 0.2 || (i >= 1500 && i < 2300) ? 1 : 0,
    );
    const placeholder = typeof raw[0] === "bigint"
      ? 0n
      : typeof raw[0] === "string"
      ? ""
      : raw[0] instanceof Uint8Array
      ? new Uint8Array(0)
      : 0;
    const withNulls = raw.map((v, i) => nulls[i] ? placeholder : v);
    fields.push({ name: `${name}_n`, type, nullable: true });
    columns.push({
      values: valuesOf(type, withNulls),
      nulls: nulls.includes(1) ? nulls : undefined,
    });
  });
  return { fields, columns, length: rows };
}

/** A pyarrow column: its Arrow type, the field we read it as, and its tagged values. */
export interface PyColumn {
  name: string;
  type: string;
  field: PrimitiveType;
  nullable: boolean;
  values: Tagged[];
  /** What we read, when it differs from the values (timestamp units). */
  expect?: Tagged[];
}

const i = (v: bigint | number): Tagged => ({ i: String(v) });

function floatTag(v: number): Tagged {
  if (Number.isNaN(v)) return { f: "nan" };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return {
    f: Array.from(new Uint8Array(view.buffer), (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

function floorDiv(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v < 0n && q * d !== v ? q - 1n : q;
}

/** Columns of every type pyarrow writes that we read, `rows` rows, nulls in most. */
export function pyColumns(rows: number, seed = 3): PyColumn[] {
  const make = (
    name: string,
    type: string,
    field: PrimitiveType,
    value: (i: number, r: () => number) => Tagged,
    nullable = true,
  ): PyColumn => {
    const r = random(seed * 977 + name.length * 31 + name.charCodeAt(0));
    const values = Array.from(
      { length: rows },
      (_, k) => nullable && (r() < 0.15 || (k >= 400 && k < 900)) ? null : value(k, r),
    );
    return { name, type, field, nullable, values };
  };
  const columns = [
    make("i8", "int8", "byte", (_, r) => i(Math.floor(r() * 256) - 128)),
    make("u8", "uint8", "short", (_, r) => i(Math.floor(r() * 256))),
    make("i16", "int16", "short", (_, r) => i(Math.floor(r() * 65536) - 32768)),
    make("u16", "uint16", "integer", (_, r) => i(Math.floor(r() * 65536))),
    make("i32", "int32", "integer", (_, r) => i((r() * 4294967296) | 0)),
    make("i32_req", "int32", "integer", (_, r) => i(Math.floor(r() * 7)), false),
    make("u32", "uint32", "long", (_, r) => i(Math.floor(r() * 4294967296))),
    make("i64", "int64", "long", (_, r) => i(randomLong(r))),
    make(
      "f32",
      "float32",
      "float",
      (k, r) => floatTag(k % 41 < 5 ? FLOAT_SPECIALS[k % 41]! : Math.fround((r() - 0.5) * 1e4)),
    ),
    make(
      "f64",
      "float64",
      "double",
      (k, r) => floatTag(k % 43 < 5 ? FLOAT_SPECIALS[k % 43]! : (r() - 0.5) * 1e200),
    ),
    make("b", "bool", "boolean", (_, r) => r() < 0.4),
    make(
      "s",
      "string",
      "string",
      (_, r) => ({ s: ["x", "yy", "été", "日本😀", ""][Math.floor(r() * 5)]! }),
    ),
    make("su", "string", "string", (k, r) => ({ s: k % 11 ? `row ${k} ${r()}` : `ü ${k}` })),
    make(
      "bin",
      "binary",
      "binary",
      (k) => ({ b: (k * 2654435761 >>> 0).toString(16).padStart(8, "0") }),
    ),
    make(
      "fsb",
      "fixed_size_binary[4]",
      "binary",
      (k) => ({ b: (k * 40503 >>> 0).toString(16).padStart(8, "0").slice(0, 8) }),
    ),
    make("d", "date32", "date", (_, r) => i(Math.floor(r() * 2_000_000) - 719162)),
    make(
      "ts_us",
      "timestamp[us, tz=UTC]",
      "timestamp",
      (k) => i(1_700_000_000_000_000n + BigInt(k) * 1000n),
    ),
    make(
      "ntz",
      "timestamp[us]",
      "timestamp_ntz",
      (_, r) => i(BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1000n),
    ),
    make(
      "ts_ms",
      "timestamp[ms, tz=UTC]",
      "timestamp",
      (_, r) => i(Math.floor((r() - 0.5) * 2 ** 53)),
    ),
    make("ts_ns", "timestamp[ns, tz=UTC]", "timestamp", (_, r) => i(randomLong(r))),
    make(
      "dec9",
      "decimal128(9, 2)",
      "decimal(9,2)",
      (_, r) => ({ d: String(Math.floor(r() * 1999999999) - 999999999) }),
    ),
    make(
      "dec18",
      "decimal128(18, 3)",
      "decimal(18,3)",
      (_, r) => ({ d: String(randomBig(r, 10n ** 18n)) }),
    ),
    make(
      "dec38",
      "decimal128(38, 10)",
      "decimal(38,10)",
      (_, r) => ({ d: String(randomBig(r, 10n ** 38n)) }),
    ),
  ];
  for (const c of columns) {
    if (c.name === "ts_ms") {
      c.expect = c.values.map((v) => v && i(BigInt((v as { i: string }).i) * 1000n));
    }
    if (c.name === "ts_ns") {
      c.expect = c.values.map((v) => v && i(floorDiv(BigInt((v as { i: string }).i), 1000n)));
    }
  }
  return columns;
}
