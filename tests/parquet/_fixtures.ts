/**
 * Batches for the Parquet tests: one column of every primitive type full of
 * edge values (extremes, nulls, NaN, -0, empty and supplementary-plane
 * strings, decimals of every physical width), and a neural-shaped batch.
 */

import type { ColumnBatch, Field } from "../../src/columnar/batch.ts";
import { type ByteSource, bytesSource } from "../../src/parquet/byte_source.ts";
import { NEURAL_FIELDS } from "../../src/sources/neural.ts";

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Every primitive type, with nulls and edge values, `length` rows. */
export function edgeBatch(): ColumnBatch {
  const rows = 12;
  const nulls = (...at: number[]) => {
    const mask = new Uint8Array(rows);
    for (const i of at) mask[i] = 1;
    return mask;
  };
  const fields: Field[] = [
    { name: "b", type: "byte", nullable: true },
    { name: "s", type: "short", nullable: false },
    { name: "i", type: "integer", nullable: true },
    { name: "l", type: "long", nullable: true },
    { name: "f", type: "float", nullable: true },
    { name: "d", type: "double", nullable: false },
    { name: "bool", type: "boolean", nullable: true },
    { name: "str", type: "string", nullable: true },
    { name: "bin", type: "binary", nullable: true },
    { name: "date", type: "date", nullable: true },
    { name: "ts", type: "timestamp", nullable: true },
    { name: "ntz", type: "timestamp_ntz", nullable: false },
    { name: "dec9", type: "decimal(9,2)", nullable: true },
    { name: "dec18", type: "decimal(18,6)", nullable: true },
    { name: "dec38", type: "decimal(38,10)", nullable: true },
    { name: "dec20", type: "decimal(20,0)", nullable: false },
  ];
  const longString = "a long string that is well over sixteen bytes, so truncation would show";
  return {
    fields,
    length: rows,
    columns: [
      {
        values: new Int32Array([-128, 127, 0, -1, 1, 5, 0, 9, 10, 11, 12, 0]),
        nulls: nulls(2, 11),
      },
      { values: new Int32Array([-32768, 32767, 0, 1, -1, 2, 3, 4, 5, 6, 7, 8]) },
      {
        values: new Int32Array([-2147483648, 2147483647, 0, 0, 7, 8, 9, 10, 11, 12, 13, 14]),
        nulls: nulls(3),
      },
      {
        values: new BigInt64Array([
          I64_MIN,
          I64_MAX,
          0n,
          -1n,
          1n,
          2n ** 53n + 1n,
          0n,
          3n,
          4n,
          5n,
          6n,
          7n,
        ]),
        nulls: nulls(6),
      },
      {
        values: new Float32Array([
          -0,
          0,
          NaN,
          Infinity,
          -Infinity,
          1.5,
          3.4028234663852886e38,
          1e-45,
          0,
          2,
          3,
          4,
        ]),
        nulls: nulls(8),
      },
      {
        values: new Float64Array([
          0,
          -0,
          Number.MIN_VALUE,
          Number.MAX_VALUE,
          -Number.MAX_VALUE,
          NaN,
          0.1,
          1 / 3,
          -2.5,
          7,
          8,
          9,
        ]),
      },
      { values: new Uint8Array([1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1]), nulls: nulls(5) },
      {
        values: [
          "",
          "ascii",
          "été",
          "日本語",
          "😀 emoji",
          "\uffff",
          "",
          longString,
          "z",
          "null?",
          "x",
          "y",
        ],
        nulls: nulls(6),
      },
      {
        values: [
          new Uint8Array(0),
          new Uint8Array([0, 255, 128]),
          new Uint8Array([255]),
          new Uint8Array(0),
          new Uint8Array([1, 2, 3]),
          new Uint8Array([0]),
          new Uint8Array([9]),
          new Uint8Array(40).fill(7),
          new Uint8Array([10]),
          new Uint8Array([11]),
          new Uint8Array([12]),
          new Uint8Array([13]),
        ],
        nulls: nulls(3),
      },
      {
        values: new Int32Array([0, -719162, 2932896, 19000, -1, 1, 2, 3, 4, 5, 6, 7]),
        nulls: nulls(10),
      },
      {
        values: new BigInt64Array([
          I64_MIN,
          I64_MAX,
          0n,
          -1n,
          1_700_000_000_123_456n,
          -62_135_596_800_000_000n,
          253_402_300_799_999_999n,
          5n,
          6n,
          7n,
          8n,
          9n,
        ]),
        nulls: nulls(2),
      },
      {
        values: new BigInt64Array([
          1n,
          -1n,
          0n,
          1_700_000_000_000_000n,
          2n,
          3n,
          4n,
          5n,
          6n,
          7n,
          8n,
          I64_MAX,
        ]),
      },
      {
        values: [999999999n, -999999999n, 0n, 1n, -1n, 12345n, 0n, 0n, 1n, 2n, 3n, 4n],
        nulls: nulls(6, 7),
      },
      {
        values: [
          999999999999999999n,
          -999999999999999999n,
          0n,
          2n ** 53n + 1n,
          -1n,
          5n,
          6n,
          7n,
          8n,
          9n,
          10n,
          11n,
        ],
        nulls: nulls(11),
      },
      {
        values: [
          10n ** 38n - 1n,
          -(10n ** 38n - 1n),
          0n,
          -1n,
          1n,
          2n ** 64n,
          -(2n ** 64n),
          7n,
          8n,
          9n,
          10n,
          11n,
        ],
        nulls: nulls(9),
      },
      { values: [10n ** 20n - 1n, -(10n ** 20n - 1n), 0n, 1n, -1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n] },
    ],
  };
}

/** A neural-shaped batch: `rows` rows of `neurons` channels per tick. */
export function neuralBatch(
  rows: number,
  options: { neurons?: number; tick0?: number } = {},
): ColumnBatch {
  const neurons = options.neurons ?? 64;
  const regions = ["M1", "S1", "PMd", "PPC"];
  const ts = new BigInt64Array(rows);
  const region: string[] = new Array(rows);
  const neuron = new Int32Array(rows);
  const voltage = new Float32Array(rows);
  const spike = new Uint8Array(rows);
  const rate = new Float32Array(rows);
  const snr = new Float32Array(rows);
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const t0 = 1_700_000_000_000_000n + BigInt(options.tick0 ?? 0) * 1000n;
  for (let r = 0; r < rows; r++) {
    const n = r % neurons;
    ts[r] = t0 + BigInt(Math.floor(r / neurons)) * 1000n;
    neuron[r] = n;
    region[r] = regions[Math.floor((n * regions.length) / neurons)]!;
    voltage[r] = (random() - 0.5) * 120;
    spike[r] = random() < 0.01 ? 1 : 0;
    rate[r] = 2 + random() * 48;
    snr[r] = random() * 10;
  }
  return {
    length: rows,
    fields: [...NEURAL_FIELDS],
    columns: [
      { values: ts },
      { values: new Array(rows).fill("session-2024-05-01-a") },
      { values: new Array(rows).fill("writer-07") },
      { values: new BigInt64Array(rows).fill(42n) },
      { values: region },
      { values: neuron },
      { values: voltage },
      { values: spike },
      { values: rate },
      { values: snr },
    ],
  };
}

/** A temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "neuralake-parquet-" });
  return { path, remove: () => Deno.remove(path, { recursive: true }) };
}

/** A byte source over `bytes` that records each range read, as [start, end). */
export function recordingSource(bytes: Uint8Array): ByteSource & { reads: [number, number][] } {
  const inner = bytesSource(bytes, "recorded.parquet");
  const reads: [number, number][] = [];
  return {
    byteLength: inner.byteLength,
    name: inner.name,
    reads,
    read(offset, length) {
      reads.push([offset, offset + length]);
      return inner.read(offset, length);
    },
  };
}
