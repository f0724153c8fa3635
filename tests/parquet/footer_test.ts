/**
 * Our footer parser against hyparquet's: the same metadata for every Parquet
 * file of the fixture tables (written by Spark and delta-rs) and for our
 * own files, and the thrift reader's edge cases.
 */

import { parquetMetadata } from "hyparquet";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { parseFooter, readThrift } from "../../src/parquet/footer.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { filesUnder } from "../_helpers/fixtures.ts";

function footerOf(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(bytes.length - 8, true);
  return bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
}

/** hyparquet's metadata without what we leave out (converted statistics, geo and size stats). */
// deno-lint-ignore no-explicit-any
function comparable(metadata: any): unknown {
  return JSON.parse(JSON.stringify(metadata, (key, value) => {
    if (key === "statistics" || key === "size_statistics" || key === "geospatial_statistics") {
      return undefined;
    }
    if (typeof value === "bigint") return `${value}n`;
    if (value instanceof Uint8Array) return [...value];
    return value;
  }));
}

Deno.test("parseFooter() gives hyparquet's metadata for every test table file and our own", () => {
  const files = filesUnder(/\.parquet$/);
  const generator = new NeuralGenerator({ seed: 7 });
  const ours = encodeParquet(
    generator.generate({
      writerId: "w",
      sessionId: "s",
      batchSeq: 0,
      tick0: 0,
      startRow: 0,
      rows: 5_000,
    }),
  ).bytes;
  const inputs = [...files.map((f) => ({ name: f, bytes: Deno.readFileSync(f) })), {
    name: "neural",
    bytes: ours,
  }];
  let checked = 0;
  for (const { name, bytes } of inputs) {
    const footer = footerOf(bytes);
    const expected = parquetMetadata(bytes.subarray(bytes.length - 8 - footer.length), {
      geoparquet: false,
    });
    assertEquals(comparable(parseFooter(footer).metadata), comparable(expected), name);
    checked++;
  }
  assertEquals(checked > 50, true, `only ${checked} files checked`);
});

Deno.test("parseFooter() keeps each chunk's raw statistics bytes", () => {
  const batch = {
    fields: [{ name: "n", type: "long" as const, nullable: true }],
    columns: [{ values: new BigInt64Array([5n, -3n, 9n]) }],
    length: 3,
  };
  const { stats } = parseFooter(footerOf(encodeParquet(batch).bytes));
  const min = stats[0]![0]![6]!;
  const max = stats[0]![0]![5]!;
  assertEquals(new DataView(min.buffer, min.byteOffset, 8).getBigInt64(0, true), -3n);
  assertEquals(new DataView(max.buffer, max.byteOffset, 8).getBigInt64(0, true), 9n);
  assertEquals(stats[0]![0]![3], 0n);
});

Deno.test("readThrift() reads big and negative i64, long lists, binary and bools", () => {
  const list = Array.from({ length: 20 }, (_, i) => i * 2); // zigzag of 0..19
  const bytes = new Uint8Array([
    0x16,
    0x01, // field 1, i64: zigzag 1 = -1
    0x16,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x20, // field 2, i64: 2^60
    0x19,
    0xf5,
    0x14,
    ...list, // field 3, list<i32> of 20
    0x18,
    0x02,
    0x61,
    0x62, // field 4, binary "ab"
    0x11, // field 5, true
    0x00,
  ]);
  const s = readThrift(bytes);
  assertEquals(s[1], -1n);
  assertEquals(s[2], 2n ** 60n);
  assertEquals(s[3], Array.from({ length: 20 }, (_, i) => i));
  assertEquals([...s[4]], [0x61, 0x62]);
  assertEquals(s[5], true);
});

Deno.test("readThrift() refuses truncated and malformed data", () => {
  assertThrows(() => readThrift(new Uint8Array([0x16, 0x80])), "ends early");
  assertThrows(() => readThrift(new Uint8Array([0x18, 0x09, 0x61])), "exceeds the data");
  assertThrows(() => readThrift(new Uint8Array([0x1d, 0x00])), "unexpected thrift type");
  assertThrows(() => readThrift(new Uint8Array([0x15, 0x02])), "ends early");
});
