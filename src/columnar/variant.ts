/**
 * The Variant binary encoding (Parquet's VariantEncoding.md, as Delta's
 * `variantType` stores it: a `metadata` and a `value` binary per row),
 * decoded to JSON in two forms:
 *
 * - `variantToJson`: the text Spark's `to_json(variant)` gives with session
 *   time zone UTC (Spark 4.0, `Variant.toJson`): doubles and floats as Java
 *   17's `Double.toString` / `Float.toString` (`1.5E10`, `3.0`; `"NaN"`,
 *   `"Infinity"` and `"-Infinity"` quoted),
 *   decimals as plain numbers without trailing zeros, dates `"2024-02-29"`,
 *   timestamps `"2024-01-02 03:04:05.123456+00:00"` (fraction only as long
 *   as needed), timestamp_ntz the same without the offset, binary base64,
 *   strings escaped as Jackson escapes them, object fields in stored order.
 * - `variantToValue`: the same as a JSON value for JSON output: objects,
 *   arrays, strings, and numbers that are raw JSON text (`JSON.rawJSON`)
 *   where a JS number would change them (integers beyond 2^53, decimals,
 *   doubles and floats, printed as in `variantToJson`).
 *
 * Types Spark 4.0 does not write (time, timestamps in nanoseconds, uuid) are
 * decoded as their nearest kin prints: time `"HH:MM:SS[.ffffff]"`, nanosecond
 * timestamps with up to nine fraction digits, uuid in its hyphenated form.
 *
 * Invariant: a malformed value (an offset or length past its buffer, a
 * metadata version other than 1, an unknown type id) is a `RangeError` that
 * says what is wrong and where, never a wrong value.
 */

import {
  formatDay,
  formatInstant,
  formatTimeOfDay,
  javaDouble,
  javaFloat,
  plainDecimal,
} from "./java_text.ts";

/** A JSON value as `variantToValue` gives it (numbers may be raw JSON text). */
export type VariantJson = null | boolean | number | string | RawJson | VariantJson[] | {
  [key: string]: VariantJson;
};

/** A number kept as exact JSON text (`JSON.rawJSON`). */
export type RawJson = { readonly rawJSON: string };

const rawJson = (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON;

/** Spark's `to_json` of a variant (session time zone UTC). */
export function variantToJson(metadata: Uint8Array, value: Uint8Array): string {
  const out: string[] = [];
  writeJson(new Variant(metadata, value), 0, out, 0);
  return out.join("");
}

/** A variant as a JSON value, for JSON output. */
export function variantToValue(metadata: Uint8Array, value: Uint8Array): VariantJson {
  return toValue(new Variant(metadata, value), 0, 0);
}

/** Deeper nesting than this is refused rather than overflowing the stack. */
const MAX_DEPTH = 1000;

// Basic types (the low two bits of a value's header); 0 is a primitive.
const SHORT_STRING = 1;
const OBJECT = 2;
const ARRAY = 3;

/** The metadata dictionary and the value bytes of one variant. */
class Variant {
  readonly value: Uint8Array;
  readonly #metadata: Uint8Array;
  readonly #keys: (string | undefined)[];
  readonly #offsetSize: number;
  readonly #dictionarySize: number;
  readonly #stringsStart: number;
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(metadata: Uint8Array, value: Uint8Array) {
    this.value = value;
    this.#metadata = metadata;
    if (metadata.length < 1) throw malformed("the metadata is empty");
    const header = metadata[0]!;
    if ((header & 0x0f) !== 1) {
      throw malformed(`the metadata version is ${header & 0x0f}, and only version 1 is known`);
    }
    this.#offsetSize = ((header >> 6) & 0x03) + 1;
    this.#dictionarySize = readUnsigned(metadata, 1, this.#offsetSize, "metadata");
    this.#stringsStart = 1 + (this.#dictionarySize + 2) * this.#offsetSize;
    if (this.#stringsStart > metadata.length) {
      throw malformed(`the metadata dictionary of ${this.#dictionarySize} keys is cut short`);
    }
    this.#keys = new Array(this.#dictionarySize);
  }

  /** The dictionary key with this id. */
  key(id: number): string {
    if (id >= this.#dictionarySize) {
      throw malformed(`field id ${id} is past the dictionary of ${this.#dictionarySize} keys`);
    }
    const cached = this.#keys[id];
    if (cached !== undefined) return cached;
    const at = 1 + this.#offsetSize;
    const start = readUnsigned(this.#metadata, at + id * this.#offsetSize, this.#offsetSize);
    const end = readUnsigned(this.#metadata, at + (id + 1) * this.#offsetSize, this.#offsetSize);
    const from = this.#stringsStart + start;
    const to = this.#stringsStart + end;
    if (end < start || to > this.#metadata.length) {
      throw malformed(`dictionary key ${id} lies outside the metadata`);
    }
    const key = this.#decoder.decode(this.#metadata.subarray(from, to));
    this.#keys[id] = key;
    return key;
  }

  /** UTF-8 text of `length` bytes at `at` of the value. */
  text(at: number, length: number): string {
    return this.#decoder.decode(this.bytes(at, length));
  }

  /** `length` bytes at `at` of the value, checked against its end. */
  bytes(at: number, length: number): Uint8Array {
    if (at + length > this.value.length) {
      throw malformed(`${length} bytes at offset ${at} pass the value's end`);
    }
    return this.value.subarray(at, at + length);
  }
}

/** An object or array header: its elements and where they lie. */
interface Container {
  size: number;
  idSize: number;
  offsetSize: number;
  idStart: number;
  offsetStart: number;
  dataStart: number;
}

function container(v: Variant, at: number, basic: number, header: number): Container {
  const offsetSize = (header & 0x03) + 1;
  const idSize = basic === OBJECT ? ((header >> 2) & 0x03) + 1 : 0;
  const large = basic === OBJECT ? (header >> 4) & 1 : (header >> 2) & 1;
  const sizeBytes = large ? 4 : 1;
  const size = readUnsigned(v.value, at + 1, sizeBytes);
  const idStart = at + 1 + sizeBytes;
  const offsetStart = idStart + size * idSize;
  const dataStart = offsetStart + (size + 1) * offsetSize;
  if (dataStart > v.value.length) {
    throw malformed(`the ${basic === OBJECT ? "object" : "array"} at offset ${at} is cut short`);
  }
  return { size, idSize, offsetSize, idStart, offsetStart, dataStart };
}

function elementAt(v: Variant, c: Container, i: number): number {
  const at = c.dataStart + readUnsigned(v.value, c.offsetStart + i * c.offsetSize, c.offsetSize);
  if (at >= v.value.length) throw malformed(`element ${i} at offset ${at} is past the value`);
  return at;
}

function writeJson(v: Variant, at: number, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw malformed(`it nests deeper than ${MAX_DEPTH} levels`);
  const head = byteAt(v.value, at);
  const basic = head & 0x03;
  const header = head >> 2;
  if (basic === SHORT_STRING) {
    out.push(quote(v.text(at + 1, header)));
    return;
  }
  if (basic === OBJECT) {
    const c = container(v, at, basic, header);
    out.push("{");
    for (let i = 0; i < c.size; i++) {
      if (i > 0) out.push(",");
      out.push(quote(v.key(readUnsigned(v.value, c.idStart + i * c.idSize, c.idSize))), ":");
      writeJson(v, elementAt(v, c, i), out, depth + 1);
    }
    out.push("}");
    return;
  }
  if (basic === ARRAY) {
    const c = container(v, at, basic, header);
    out.push("[");
    for (let i = 0; i < c.size; i++) {
      if (i > 0) out.push(",");
      writeJson(v, elementAt(v, c, i), out, depth + 1);
    }
    out.push("]");
    return;
  }
  const p = primitive(v, at, header);
  switch (p.kind) {
    case "double":
    case "float":
      // Spark quotes NaN and the infinities, so its to_json stays valid JSON.
      if (!Number.isFinite(p.value)) out.push(quote(String(p.value)));
      else out.push(p.kind === "double" ? javaDouble(p.value) : javaFloat(p.value));
      return;
    case "text":
      out.push(quote(p.value));
      return;
    default:
      out.push(p.json);
  }
}

function toValue(v: Variant, at: number, depth: number): VariantJson {
  if (depth > MAX_DEPTH) throw malformed(`it nests deeper than ${MAX_DEPTH} levels`);
  const head = byteAt(v.value, at);
  const basic = head & 0x03;
  const header = head >> 2;
  if (basic === SHORT_STRING) return v.text(at + 1, header);
  if (basic === OBJECT) {
    const c = container(v, at, basic, header);
    const out: { [key: string]: VariantJson } = {};
    for (let i = 0; i < c.size; i++) {
      const key = v.key(readUnsigned(v.value, c.idStart + i * c.idSize, c.idSize));
      out[key] = toValue(v, elementAt(v, c, i), depth + 1);
    }
    return out;
  }
  if (basic === ARRAY) {
    const c = container(v, at, basic, header);
    const out: VariantJson[] = [];
    for (let i = 0; i < c.size; i++) out.push(toValue(v, elementAt(v, c, i), depth + 1));
    return out;
  }
  const p = primitive(v, at, header);
  switch (p.kind) {
    case "double":
      return Number.isFinite(p.value) ? rawJson(javaDouble(p.value)) : String(p.value);
    case "float":
      return Number.isFinite(p.value) ? rawJson(javaFloat(p.value)) : String(p.value);
    case "text":
      return p.value;
    case "literal":
      return p.value;
    case "integer":
      return Number.isSafeInteger(Number(p.json)) ? Number(p.json) : rawJson(p.json);
    case "decimal":
      return rawJson(p.json);
  }
}

/** A decoded primitive: JSON text for exact kinds, the value for the rest. */
type Primitive =
  | { kind: "double" | "float"; value: number }
  | { kind: "text"; value: string }
  | { kind: "literal"; value: null | boolean; json: string }
  | { kind: "integer" | "decimal"; json: string };

function primitive(v: Variant, at: number, type: number): Primitive {
  const bytes = v.value;
  const view = () => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => v.bytes(at + 1, n);
  switch (type) {
    case 0:
      return { kind: "literal", value: null, json: "null" };
    case 1:
      return { kind: "literal", value: true, json: "true" };
    case 2:
      return { kind: "literal", value: false, json: "false" };
    case 3:
      need(1);
      return { kind: "integer", json: String(view().getInt8(at + 1)) };
    case 4:
      need(2);
      return { kind: "integer", json: String(view().getInt16(at + 1, true)) };
    case 5:
      need(4);
      return { kind: "integer", json: String(view().getInt32(at + 1, true)) };
    case 6:
      need(8);
      return { kind: "integer", json: String(view().getBigInt64(at + 1, true)) };
    case 7:
      need(8);
      return { kind: "double", value: view().getFloat64(at + 1, true) };
    case 8:
    case 9:
    case 10: {
      const width = type === 8 ? 4 : type === 9 ? 8 : 16;
      const raw = need(1 + width);
      const scale = raw[0]!;
      const maxScale = type === 8 ? 9 : type === 9 ? 18 : 38;
      if (scale > maxScale) throw malformed(`a decimal at offset ${at} has scale ${scale}`);
      return { kind: "decimal", json: plainDecimal(signedLittleEndian(raw.subarray(1)), scale) };
    }
    case 11:
      need(4);
      return { kind: "text", value: formatDay(view().getInt32(at + 1, true)) };
    case 12:
    case 13:
    case 18:
    case 19: {
      need(8);
      const ticks = view().getBigInt64(at + 1, true);
      const nanos = type === 18 || type === 19;
      const text = formatInstant(ticks, nanos ? 1_000_000_000n : 1_000_000n);
      return { kind: "text", value: type === 12 || type === 18 ? `${text}+00:00` : text };
    }
    case 14:
      need(4);
      return { kind: "float", value: view().getFloat32(at + 1, true) };
    case 15:
    case 16: {
      need(4);
      const length = view().getUint32(at + 1, true);
      return {
        kind: "text",
        value: type === 15 ? base64(v.bytes(at + 5, length)) : v.text(at + 5, length),
      };
    }
    case 17: {
      need(8);
      const micros = view().getBigInt64(at + 1, true);
      if (micros < 0n || micros >= 86_400_000_000n) {
        throw malformed(`a time at offset ${at} is ${micros} µs, outside one day`);
      }
      return { kind: "text", value: formatTimeOfDay(micros, 1_000_000n) };
    }
    case 20: {
      const hex = [...need(16)].map((b) => b.toString(16).padStart(2, "0")).join("");
      return {
        kind: "text",
        value: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
          hex.slice(20)
        }`,
      };
    }
    default:
      throw malformed(`primitive type id ${type} at offset ${at} is unknown`);
  }
}

function malformed(what: string): RangeError {
  return new RangeError(`Malformed variant: ${what}`);
}

function byteAt(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b === undefined) throw malformed(`offset ${at} is past the value's ${bytes.length} bytes`);
  return b;
}

function readUnsigned(bytes: Uint8Array, at: number, size: number, what = "value"): number {
  if (at + size > bytes.length) {
    throw malformed(`${size} bytes at offset ${at} pass the ${what}'s end`);
  }
  let n = 0;
  for (let i = size - 1; i >= 0; i--) n = n * 256 + bytes[at + i]!;
  return n;
}

function signedLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  const bits = BigInt(bytes.length * 8);
  return n >= 1n << (bits - 1n) ? n - (1n << bits) : n;
}

/** Jackson's JSON string: `"` and `\` escaped, control characters as \b \t \n \f \r or \u00XX. */
function quote(text: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += text.slice(from, i) + ESCAPES[c]!;
    from = i + 1;
  }
  return out + text.slice(from) + '"';
}

const ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: "\\\\" };
for (let c = 0; c < 0x20; c++) {
  ESCAPES[c] = `\\u00${c.toString(16).toUpperCase().padStart(2, "0")}`;
}
Object.assign(ESCAPES, { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r" });

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
