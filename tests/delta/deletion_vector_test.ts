/**
 * The deletion vector format: descriptors, Z85, the DV file framing and the
 * portable 64-bit RoaringBitmap, checked against a vector that Databricks
 * Runtime wrote (the DELETE of rows 0 and 9 from a 10-row file) and against
 * hand-built bitmaps with run and bitmap containers.
 */

import type { DeletionVectorDescriptor } from "../../src/delta/actions.ts";
import {
  decodeDeletionVector,
  deletionVectorId,
  deletionVectorRange,
  encodeDeletionVector,
  frameDeletionVectors,
  liveRecords,
  locateDeletionVector,
  relativeDeletionVectorKey,
  unframeDeletionVector,
  z85Decode,
  z85Encode,
} from "../../src/delta/deletion_vector.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

/** The DV file Databricks wrote for table-with-dv-small (45 bytes). */
const SPARK_DV_FILE = fromHex(
  "0100000024d1d339640100000000000000000000003a300000010000000000010010000000000009002a671846",
);
const SPARK_DESCRIPTOR: DeletionVectorDescriptor = {
  storageType: "u",
  pathOrInlineDv: "vBn[lx{q8@P<9BNH/isA",
  offset: 1,
  sizeInBytes: 36,
  cardinality: 2,
};

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

Deno.test("a relative descriptor names deletion_vector_<uuid>.bin, under its random prefix", () => {
  assertEquals(
    relativeDeletionVectorKey(SPARK_DESCRIPTOR.pathOrInlineDv),
    "deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin",
  );
  assertEquals(
    relativeDeletionVectorKey("ab" + SPARK_DESCRIPTOR.pathOrInlineDv),
    "ab/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin",
  );
  assertEquals(deletionVectorId(SPARK_DESCRIPTOR), "uvBn[lx{q8@P<9BNH/isA@1");
});

Deno.test("the vector Databricks wrote decodes to rows 0 and 9", () => {
  const range = deletionVectorRange(SPARK_DESCRIPTOR);
  const data = unframeDeletionVector(
    SPARK_DV_FILE.subarray(range.offset, range.offset + range.length),
    SPARK_DESCRIPTOR,
    "spark.bin",
  );
  assertEquals([...decodeDeletionVector(data, "spark")], [0, 9]);
  // Our encoder writes the same bytes for the same rows.
  assertEquals([...encodeDeletionVector([0, 9])], [...data]);
  assertEquals([...frameDeletionVectors([data]).bytes], [...SPARK_DV_FILE]);
});

Deno.test("a corrupt DV file fails its CRC-32 check by name", () => {
  const bad = SPARK_DV_FILE.slice();
  bad[20]! ^= 1;
  const range = deletionVectorRange(SPARK_DESCRIPTOR);
  assertThrows(
    () =>
      unframeDeletionVector(
        bad.subarray(range.offset, range.offset + range.length),
        SPARK_DESCRIPTOR,
        "t/deletion_vector_x.bin",
      ),
    "t/deletion_vector_x.bin at offset 1: its CRC-32",
  );
});

Deno.test("a size prefix that disagrees with sizeInBytes is refused", () => {
  const range = deletionVectorRange(SPARK_DESCRIPTOR);
  assertThrows(
    () =>
      unframeDeletionVector(
        SPARK_DV_FILE.subarray(range.offset, range.offset + range.length),
        { ...SPARK_DESCRIPTOR, sizeInBytes: 30 },
        "f.bin",
      ),
    "the log says sizeInBytes 30",
  );
});

Deno.test("inline vectors are Z85 padded to 4 bytes and cut to sizeInBytes", () => {
  const rows = [3, 4, 70_000];
  const bytes = encodeDeletionVector(rows);
  const text = z85Encode(bytes);
  assertEquals(text.length, Math.ceil(bytes.length / 4) * 5);
  const location = locateDeletionVector({
    storageType: "i",
    pathOrInlineDv: text,
    sizeInBytes: bytes.length,
    cardinality: 3,
  });
  if (location.kind !== "inline") throw new Error("not inline");
  assertEquals([...decodeDeletionVector(location.bytes, "inline")], rows);
  // The ZeroMQ test vector.
  assertEquals(z85Encode(fromHex("864FD26FB559F75B")), "HelloWorld");
  assertEquals([...z85Decode("HelloWorld")], [...fromHex("864FD26FB559F75B")]);
  assertThrows(() => z85Decode("Hello~orld"), 'character 6 ("~")');
});

Deno.test("bitmap containers, several containers and several buckets decode exactly", () => {
  const rows: number[] = [];
  for (let i = 0; i < 5000; i++) rows.push(i * 3); // > 4096 in container 0: a bitmap
  rows.push(65_536 * 7 + 1, 65_536 * 7 + 2); // another container
  rows.push(2 ** 32 + 5, 2 ** 33 + 6); // two more buckets
  const decoded = decodeDeletionVector(encodeDeletionVector(rows), "big");
  assertEquals(decoded.length, rows.length);
  assertEquals([...decoded], rows);
});

Deno.test("run containers (cookie 12347) decode to their runs", () => {
  // One bucket, one 32-bit bitmap with a run container [10, 14] and an array container.
  const bytes = new Uint8Array(4 + 8 + 4 + 4 + 1 + 8 + 2 + 4 + 4);
  const v = new DataView(bytes.buffer);
  let at = 0;
  v.setUint32(at, 1681511377, true);
  v.setBigUint64(at += 4, 1n, true);
  v.setUint32(at += 8, 0, true); // bucket key
  v.setUint32(at += 4, 12347 | (1 << 16), true); // two containers, runs allowed
  bytes[at += 4] = 0b01; // container 0 is a run container
  at += 1;
  v.setUint16(at, 0, true); // container 0: key 0, cardinality 5
  v.setUint16(at + 2, 4, true);
  v.setUint16(at + 4, 1, true); // container 1: key 1, cardinality 2
  v.setUint16(at + 6, 1, true);
  at += 8; // fewer than 4 containers with runs: no offset header
  v.setUint16(at, 1, true); // one run
  v.setUint16(at + 2, 10, true);
  v.setUint16(at + 4, 4, true);
  at += 6;
  v.setUint16(at, 1, true);
  v.setUint16(at + 2, 9, true);
  assertEquals([...decodeDeletionVector(bytes, "runs")], [
    10,
    11,
    12,
    13,
    14,
    65_537,
    65_545,
  ]);
});

Deno.test("a wrong magic number and trailing bytes are refused", () => {
  const good = encodeDeletionVector([1]);
  const wrongMagic = good.slice();
  wrongMagic[0] = 0;
  assertThrows(() => decodeDeletionVector(wrongMagic, "x"), "magic number");
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  assertThrows(() => decodeDeletionVector(trailing, "x"), "1 bytes follow the bitmap");
});

Deno.test("liveRecords() subtracts the vector's cardinality from numRecords", () => {
  assertEquals(liveRecords(10, SPARK_DESCRIPTOR), 8);
  assertEquals(liveRecords(10, null), 10);
  assertEquals(liveRecords(undefined, SPARK_DESCRIPTOR), undefined);
});
