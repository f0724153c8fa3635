import {
  decodeFilePath,
  encodeFilePath,
  hiveEscape,
  hiveUnescape,
  isAbsoluteFilePath,
  parsePartitionValue,
  partitionDirectory,
  serializePartitionValue,
} from "../../src/delta/partition.ts";
import type { PrimitiveType } from "../../src/columnar/types.ts";
import type { Scalar } from "../../src/columnar/scalar.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("partition values serialise as the protocol says and parse back", () => {
  const cases: [PrimitiveType, Scalar, string][] = [
    ["string", "M1", "M1"],
    ["integer", -5, "-5"],
    ["long", 9007199254740993n, "9007199254740993"],
    ["byte", 127, "127"],
    ["double", 1.5, "1.5"],
    ["boolean", true, "true"],
    ["date", 19723, "2024-01-01"],
    ["timestamp", 1704067200123456n, "2024-01-01T00:00:00.123456Z"],
    ["timestamp_ntz", 1704067200000001n, "2024-01-01 00:00:00.000001"],
    ["decimal(10,2)", -12345n, "-123.45"],
    ["binary", new Uint8Array([1, 2, 0x7f]), "\u0001\u0002\u007f"],
    // Beyond ASCII, the bytes are UTF-8 text, as Spark and delta-kernel-rs write and read them.
    ["binary", new TextEncoder().encode("ünï 😈"), "ünï 😈"],
  ];
  for (const [type, value, text] of cases) {
    assertEquals(serializePartitionValue(value, type), text, type);
    assertEquals(parsePartitionValue(text, type, "c"), value, type);
  }
});

Deno.test("a binary partition value that is not UTF-8 is refused, naming the column", () => {
  assertThrows(
    () => serializePartitionValue(new Uint8Array([0x61, 0xff]), "binary", "raw"),
    'Cannot use binary value 61 ff as a partition value of column "raw"',
  );
});

Deno.test("null and empty partition values are null", () => {
  assertEquals(serializePartitionValue(null, "string"), null);
  assertEquals(parsePartitionValue(null, "integer", "c"), null);
  assertEquals(parsePartitionValue("", "integer", "c"), null);
});

Deno.test("parsePartitionValue() accepts the forms other writers use", () => {
  assertEquals(parsePartitionValue("2021.0", "integer", "year"), 2021);
  assertEquals(parsePartitionValue("2021-01-01 10:00:00", "timestamp", "t"), 1609495200000000n);
});

Deno.test("parsePartitionValue() names the column of a value that does not fit", () => {
  assertThrows(
    () => parsePartitionValue("x", "integer", "year"),
    'Partition value "x" of column "year" is not a valid integer',
  );
  assertThrows(() => parsePartitionValue("300", "byte", "b"), "not a valid byte");
});

Deno.test("partition directories escape as Hive does and mark nulls", () => {
  assertEquals(hiveEscape("a/b=c%d"), "a%2Fb%3Dc%25d");
  assertEquals(hiveUnescape("a%2Fb%3Dc%25d"), "a/b=c%d");
  assertEquals(
    partitionDirectory(["region", "day"], { region: "M/1", day: null }),
    "region=M%2F1/day=__HIVE_DEFAULT_PARTITION__",
  );
});

Deno.test("file paths are URI-encoded in the log and decoded back", () => {
  const key = "region=M%2F1 x/part-0é.parquet";
  const encoded = encodeFilePath(key);
  assertEquals(encoded, "region=M%252F1%20x/part-0%C3%A9.parquet");
  assertEquals(decodeFilePath(encoded), key);
});

Deno.test("decodeFilePath() refuses absolute paths and foreign URIs", () => {
  assertThrows(() => decodeFilePath("/etc/passwd"), "absolute");
  assertThrows(() => decodeFilePath("s3://other/bucket.parquet"), "absolute");
  assertThrows(() => decodeFilePath("file:///x.parquet"), "absolute");
});

Deno.test("isAbsoluteFilePath() tells URIs and absolute paths from relative paths", () => {
  for (const path of ["s3://bucket/t/a.parquet", "file:///t/a.parquet", "/t/a.parquet"]) {
    assertEquals(isAbsoluteFilePath(path), true, path);
  }
  for (const path of ["a.parquet", "p=1/a.parquet", "p=a:b/a.parquet", "1x:/a.parquet", "%2Fa"]) {
    assertEquals(isAbsoluteFilePath(path), false, path);
  }
});
