/**
 * Deletion vectors (PROTOCOL.md, "Deletion Vectors" and the appendix
 * "Deletion Vector Format"): where a descriptor's bytes live, and how those
 * bytes decode into the sorted row indexes a logical file no longer holds.
 *
 * Formats, all from the protocol:
 * - a descriptor is inline (`i`: the Z85-encoded serialized vector), relative
 *   (`u`: an optional random prefix plus the Z85-encoded UUID of the file
 *   `<prefix>/deletion_vector_<uuid>.bin`) or absolute (`p`: a URI);
 * - a DV file is a version byte (1), then per vector a big-endian `dataSize`,
 *   the serialized vector and a big-endian CRC-32 of it;
 * - a serialized vector is the little-endian magic 1681511377 followed by a
 *   64-bit RoaringBitmap in the "portable" format: a 64-bit bucket count,
 *   then per bucket its high 32 bits and a standard 32-bit RoaringBitmap.
 *
 * Why our own decoder: the npm `roaring` package binds CRoaring natively
 * (a Node addon, not loadable under `deno compile`) and only reads 32-bit
 * bitmaps, and `roaring-wasm` has no 64-bit portable format either; Z85 with
 * Delta's padding rule (encode to a multiple of 4 bytes, cut to
 * `sizeInBytes` on decode) is not what the `z85` package does. The decoder is
 * a straight reading of RoaringFormatSpec, checked against vectors that Spark
 * wrote (tests/delta/deletion_vector_test.ts). CRC-32 comes from `crc-32`.
 *
 * Invariants: a decoded vector is strictly ascending and has exactly the
 * descriptor's cardinality, or decoding throws naming the vector; nothing
 * here performs I/O.
 */

import CRC32 from "crc-32";
import type { DeletionVectorDescriptor } from "./actions.ts";

/** The magic number that starts a serialized deletion vector (little-endian). */
export const DV_MAGIC = 1681511377;

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < Z85.length; i++) Z85_VALUE[Z85.charCodeAt(i)] = i;

/** Decodes Z85 text (a multiple of 5 characters) into bytes. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) {
    throw new RangeError(
      `Cannot decode Z85 text of ${text.length} characters: the length must be a multiple of 5`,
    );
  }
  const out = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let block = 0; block < text.length / 5; block++) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const code = text.charCodeAt(block * 5 + i);
      const digit = code < 128 ? Z85_VALUE[code]! : -1;
      if (digit < 0) {
        throw new RangeError(
          `Cannot decode Z85 text: character ${block * 5 + i + 1} ("${
            text[block * 5 + i]
          }") is not in the Z85 alphabet`,
        );
      }
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) {
      throw new RangeError(`Cannot decode Z85 text: block ${block + 1} exceeds 32 bits`);
    }
    view.setUint32(block * 4, value, false);
  }
  return out;
}

/** Encodes bytes as Z85, zero-padding them to a multiple of 4 bytes as Delta does. */
export function z85Encode(bytes: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  let out = "";
  for (let at = 0; at < padded.length; at += 4) {
    let value = view.getUint32(at, false);
    const chars = new Array<string>(5);
    for (let i = 4; i >= 0; i--) {
      chars[i] = Z85[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chars.join("");
  }
  return out;
}

/** Where a deletion vector's bytes are. */
export type DeletionVectorLocation =
  | { kind: "inline"; bytes: Uint8Array }
  /** `key` is relative to the table root. */
  | { kind: "relative"; key: string; offset: number }
  | { kind: "absolute"; uri: string; offset: number };

/** The unique id of a descriptor (PROTOCOL.md, "Derived Fields"). */
export function deletionVectorId(dv: DeletionVectorDescriptor): string {
  return dv.offset == null
    ? `${dv.storageType}${dv.pathOrInlineDv}`
    : `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset}`;
}

/** The relative key of the DV file named by a `u` descriptor's `pathOrInlineDv`. */
export function relativeDeletionVectorKey(pathOrInlineDv: string): string {
  if (pathOrInlineDv.length < 20) {
    throw new RangeError(
      `Cannot resolve deletion vector "${pathOrInlineDv}": a relative descriptor needs a 20-character Z85 UUID`,
    );
  }
  const prefix = pathOrInlineDv.slice(0, -20);
  const uuid = uuidOf(z85Decode(pathOrInlineDv.slice(-20)));
  const name = `deletion_vector_${uuid}.bin`;
  return prefix ? `${prefix}/${name}` : name;
}

function uuidOf(bytes: Uint8Array): string {
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Resolves a descriptor to where its bytes are. */
export function locateDeletionVector(dv: DeletionVectorDescriptor): DeletionVectorLocation {
  switch (dv.storageType) {
    case "i": {
      const bytes = z85Decode(dv.pathOrInlineDv);
      if (dv.sizeInBytes > bytes.length) {
        throw new RangeError(
          `Cannot read inline deletion vector: sizeInBytes ${dv.sizeInBytes} exceeds its ${bytes.length} decoded bytes`,
        );
      }
      return { kind: "inline", bytes: bytes.subarray(0, dv.sizeInBytes) };
    }
    case "u":
      return {
        kind: "relative",
        key: relativeDeletionVectorKey(dv.pathOrInlineDv),
        offset: dv.offset ?? 1,
      };
    case "p":
      return { kind: "absolute", uri: dv.pathOrInlineDv, offset: dv.offset ?? 1 };
    default:
      throw new RangeError(
        `Cannot read deletion vector: unknown storageType "${dv.storageType}" (expected "u", "i" or "p")`,
      );
  }
}

/**
 * The bytes to read from a DV file for one vector: its size prefix, data and
 * checksum, starting at the descriptor's offset.
 */
export function deletionVectorRange(dv: DeletionVectorDescriptor): {
  offset: number;
  length: number;
} {
  return { offset: dv.offset ?? 1, length: 4 + dv.sizeInBytes + 4 };
}

/**
 * Unframes one vector read from a DV file (`deletionVectorRange` bytes):
 * checks its size prefix and CRC-32 and returns the serialized vector.
 * `where` names the file in errors.
 */
export function unframeDeletionVector(
  framed: Uint8Array,
  dv: DeletionVectorDescriptor,
  where: string,
): Uint8Array {
  if (framed.length < 8) {
    throw new RangeError(`Cannot read deletion vector in ${where}: the file ends early`);
  }
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
  const size = view.getUint32(0, false);
  if (size !== dv.sizeInBytes || framed.length < 8 + size) {
    throw new RangeError(
      `Cannot read deletion vector in ${where} at offset ${
        dv.offset ?? 1
      }: it holds ${size} bytes, the log says sizeInBytes ${dv.sizeInBytes}`,
    );
  }
  const data = framed.subarray(4, 4 + size);
  const expected = view.getUint32(4 + size, false);
  const actual = CRC32.buf(data) >>> 0;
  if (actual !== expected) {
    throw new RangeError(
      `Cannot read deletion vector in ${where} at offset ${dv.offset ?? 1}: its CRC-32 is ${
        actual.toString(16)
      }, the file says ${expected.toString(16)}`,
    );
  }
  return data;
}

/** Frames serialized vectors as a DV file; returns the bytes and each vector's offset. */
export function frameDeletionVectors(vectors: Uint8Array[]): {
  bytes: Uint8Array;
  offsets: number[];
} {
  const total = 1 + vectors.reduce((n, v) => n + 8 + v.length, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes[0] = 1;
  const offsets: number[] = [];
  let at = 1;
  for (const v of vectors) {
    offsets.push(at);
    view.setUint32(at, v.length, false);
    bytes.set(v, at + 4);
    view.setUint32(at + 4 + v.length, CRC32.buf(v) >>> 0, false);
    at += 8 + v.length;
  }
  return { bytes, offsets };
}

const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE = 12347;

/**
 * Decodes a serialized deletion vector (magic + portable 64-bit
 * RoaringBitmap) into its row indexes, ascending. `where` names the vector.
 */
export function decodeDeletionVector(bytes: Uint8Array, where: string): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RangeError(`Cannot decode deletion vector ${where}: ${why}`);
  };
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) fail(`it ends after ${bytes.length} bytes`);
  };
  need(0, 12);
  const magic = view.getUint32(0, true);
  if (magic !== DV_MAGIC) fail(`magic number ${magic}, expected ${DV_MAGIC}`);
  const buckets = view.getBigUint64(4, true);
  if (buckets > 0x7fffffffn) fail(`${buckets} buckets is more than any file has`);
  const rows: number[] = [];
  let at = 12;
  let lastKey = -1;
  for (let b = 0; b < Number(buckets); b++) {
    need(at, 4);
    const key = view.getUint32(at, true);
    if (key & 0x80000000) fail(`bucket key ${key} has its most significant bit set`);
    if (key <= lastKey) fail(`bucket keys are not ascending (${key} after ${lastKey})`);
    lastKey = key;
    at = decodeRoaring32(view, at + 4, key * 2 ** 32, rows, fail);
  }
  if (at !== bytes.length) fail(`${bytes.length - at} bytes follow the bitmap`);
  return Float64Array.from(rows);
}

/** Decodes one standard 32-bit RoaringBitmap at `at`; returns the offset after it. */
function decodeRoaring32(
  view: DataView,
  start: number,
  high: number,
  out: number[],
  fail: (why: string) => never,
): number {
  const need = (at: number, n: number) => {
    if (at + n > view.byteLength) fail(`it ends after ${view.byteLength} bytes`);
  };
  need(start, 4);
  const cookie = view.getUint32(start, true);
  let at = start + 4;
  let size: number;
  let runFlags: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    const flagBytes = Math.ceil(size / 8);
    need(at, flagBytes);
    runFlags = new Uint8Array(view.buffer, view.byteOffset + at, flagBytes);
    at += flagBytes;
  } else if (cookie === SERIAL_COOKIE_NO_RUN) {
    need(at, 4);
    size = view.getUint32(at, true);
    at += 4;
  } else {
    return fail(`unknown RoaringBitmap cookie ${cookie}`);
  }
  need(at, 4 * size);
  const keys = new Uint32Array(size);
  const cards = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    keys[i] = view.getUint16(at + 4 * i, true);
    cards[i] = view.getUint16(at + 4 * i + 2, true) + 1;
  }
  at += 4 * size;
  // The offset header is present unless run containers are allowed and there are few containers.
  if (!runFlags || size >= 4) at += 4 * size;
  let last = -1;
  for (let i = 0; i < size; i++) {
    const base = high + keys[i]! * 65536;
    const isRun = runFlags !== undefined && ((runFlags[i >> 3]! >> (i & 7)) & 1) === 1;
    const before = out.length;
    if (isRun) {
      need(at, 2);
      const runs = view.getUint16(at, true);
      at += 2;
      need(at, 4 * runs);
      for (let r = 0; r < runs; r++) {
        const from = view.getUint16(at + 4 * r, true);
        const length = view.getUint16(at + 4 * r + 2, true);
        if (from + length > 0xffff) fail("a run passes the end of its container");
        for (let v = from; v <= from + length; v++) out.push(base + v);
      }
      at += 4 * runs;
    } else if (cards[i]! <= 4096) {
      need(at, 2 * cards[i]!);
      for (let k = 0; k < cards[i]!; k++) out.push(base + view.getUint16(at + 2 * k, true));
      at += 2 * cards[i]!;
    } else {
      need(at, 8192);
      for (let w = 0; w < 2048; w++) {
        let word = view.getUint32(at + 4 * w, true);
        while (word !== 0) {
          const bit = 31 - Math.clz32(word & -word);
          out.push(base + w * 32 + bit);
          word &= word - 1;
        }
      }
      at += 8192;
    }
    for (let k = before; k < out.length; k++) {
      if (out[k]! <= last) fail("row indexes are not ascending");
      last = out[k]!;
    }
    if (!isRun && out.length - before !== cards[i]) {
      fail(`container ${i} holds ${out.length - before} rows, its header says ${cards[i]}`);
    }
  }
  return at;
}

/**
 * Serializes ascending row indexes as a deletion vector (magic + portable
 * 64-bit RoaringBitmap, array and bitmap containers only). For tests and
 * for writing vectors; readers accept every container kind.
 */
export function encodeDeletionVector(rows: ArrayLike<number>): Uint8Array {
  const buckets = new Map<number, Map<number, number[]>>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!Number.isInteger(row) || row < 0 || (i > 0 && row <= rows[i - 1]!)) {
      throw new RangeError(`Cannot encode deletion vector: row ${row} at ${i} is not ascending`);
    }
    const high = Math.floor(row / 2 ** 32);
    const low = row % 2 ** 32;
    let containers = buckets.get(high);
    if (!containers) buckets.set(high, containers = new Map());
    const key = low >>> 16;
    let values = containers.get(key);
    if (!values) containers.set(key, values = []);
    values.push(low & 0xffff);
  }
  const parts: Uint8Array[] = [];
  const head = new DataView(new ArrayBuffer(12));
  head.setUint32(0, DV_MAGIC, true);
  head.setBigUint64(4, BigInt(buckets.size), true);
  parts.push(new Uint8Array(head.buffer));
  for (const [high, containers] of buckets) {
    const size = containers.size;
    // Bucket key, then the 32-bit bitmap: cookie, container count, keys and
    // cardinalities, offsets (from the cookie), containers.
    const header = new DataView(new ArrayBuffer(12 + 8 * size));
    header.setUint32(0, high, true);
    header.setUint32(4, SERIAL_COOKIE_NO_RUN, true);
    header.setUint32(8, size, true);
    let offset = 8 + 8 * size;
    let i = 0;
    const bodies: Uint8Array[] = [];
    for (const [key, values] of containers) {
      header.setUint16(12 + 4 * i, key, true);
      header.setUint16(12 + 4 * i + 2, values.length - 1, true);
      header.setUint32(12 + 4 * size + 4 * i, offset, true);
      let body: Uint8Array;
      if (values.length <= 4096) {
        const v = new DataView(new ArrayBuffer(2 * values.length));
        values.forEach((x, k) => v.setUint16(2 * k, x, true));
        body = new Uint8Array(v.buffer);
      } else {
        const words = new Uint32Array(2048);
        for (const x of values) words[x >>> 5]! |= 1 << (x & 31);
        const v = new DataView(new ArrayBuffer(8192));
        words.forEach((w, k) => v.setUint32(4 * k, w, true));
        body = new Uint8Array(v.buffer);
      }
      bodies.push(body);
      offset += body.length;
      i++;
    }
    parts.push(new Uint8Array(header.buffer), ...bodies);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The number of rows a logical file holds: its `numRecords` less the rows
 * its deletion vector removes. Undefined when `numRecords` is unknown.
 */
export function liveRecords(
  numRecords: number | undefined,
  dv: DeletionVectorDescriptor | null | undefined,
): number | undefined {
  if (numRecords === undefined) return undefined;
  return numRecords - (dv?.cardinality ?? 0);
}
