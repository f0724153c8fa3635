/**
 * Shredded variants (Parquet's VariantShredding.md, Delta's
 * `variantShredding`): a variant group that holds a `typed_value` beside
 * `metadata` and `value` is put back together into the unshredded pair of
 * binaries (VariantEncoding.md) that the rest of neuralake reads, prints and
 * compacts (`columnar/variant.ts`).
 *
 * The rules are the specification's `construct_variant`:
 *
 * - `typed_value` non-null: a primitive is encoded as the variant type its
 *   Parquet type maps to; a LIST is an array whose elements are rebuilt the
 *   same way (a missing element is a variant null); a group is an object of
 *   its shredded fields (a field whose `value` and `typed_value` are both
 *   null is missing, so left out), plus, when `value` is also non-null (a
 *   partially shredded object), the fields of that object;
 * - else `value` as it is (any variant, a variant null included);
 * - else missing: at the top of a column a variant null (`00`).
 *
 * Invariants: the rebuilt value refers to the row's own `metadata`; a field
 * name the dictionary lacks is appended to it (ids already used keep their
 * meaning), so values copied from `value` stay valid. Object fields are in
 * the order of their names' UTF-8 bytes, as the encoding requires. Data the
 * specification calls invalid (a `value` beside a shredded primitive or
 * array, a non-object `value` beside a shredded object, a Parquet type with
 * no variant type) is an error that says where, never a guess.
 */

import type { SchemaElement, SchemaTree } from "hyparquet";

/** The group of a variant column as the file stores it, after row assembly. */
export type ShreddedRow = Record<string, unknown>;

/** True if `tree` is a variant group with a `typed_value` (a shredded variant). */
export function isShredded(tree: SchemaTree): boolean {
  return tree.children.some((c) => c.element.name === "typed_value") &&
    tree.children.some((c) => c.element.name === "metadata");
}

/**
 * The schema elements under shredded variant groups of `tree`, whose
 * annotations row assembly must leave alone (values are read raw and
 * converted here), and any group annotated VARIANT (assembled as a struct).
 */
export function rawElements(tree: SchemaTree): Set<SchemaElement> {
  const out = new Set<SchemaElement>();
  const walk = (node: SchemaTree, raw: boolean) => {
    if (raw || node.element.logical_type?.type === "VARIANT") out.add(node.element);
    for (const child of node.children) {
      walk(child, raw || (child.element.name === "typed_value" && isShredded(node)));
    }
  };
  walk(tree, false);
  return out;
}

/**
 * `element` without the annotations that make row assembly convert values
 * (decimals, strings, dates, timestamps, uuids, the VARIANT group), keeping
 * LIST and MAP, which shape the assembly.
 */
export function withoutConversions(element: SchemaElement): SchemaElement {
  const { converted_type, logical_type, ...rest } = element;
  const keep: Partial<SchemaElement> = {};
  if (converted_type === "LIST" || converted_type === "MAP" || converted_type === "MAP_KEY_VALUE") {
    keep.converted_type = converted_type;
  }
  if (logical_type?.type === "LIST" || logical_type?.type === "MAP") {
    keep.logical_type = logical_type;
  }
  return { ...rest, ...keep } as SchemaElement;
}

/**
 * Rebuilds one non-null row of a shredded variant column (`row` as row
 * assembly gave it, values raw) into its unshredded `metadata` and `value`.
 */
export function unshred(
  row: ShreddedRow,
  tree: SchemaTree,
): { metadata: Uint8Array; value: Uint8Array } {
  const metadata = row.metadata;
  if (!(metadata instanceof Uint8Array)) {
    throw shreddingError("metadata", "the variant has no metadata binary");
  }
  const dictionary = new Dictionary(metadata);
  const value = construct(row, tree, dictionary, "") ?? VARIANT_NULL;
  return { metadata: dictionary.encode(), value };
}

const VARIANT_NULL = new Uint8Array([0]);

/** The `value` / `typed_value` pair of `group` rebuilt, or undefined if missing. */
function construct(
  group: ShreddedRow | null | undefined,
  node: SchemaTree,
  dictionary: Dictionary,
  path: string,
): Uint8Array | undefined {
  const value = group?.value;
  const typed = group?.typed_value;
  if (value != null && !(value instanceof Uint8Array)) {
    throw shreddingError(join(path, "value"), "it is not a binary");
  }
  if (typed == null) return value ?? undefined;
  const typedNode = node.children.find((c) => c.element.name === "typed_value")!;
  const at = join(path, "typed_value");
  if (isList(typedNode)) {
    if (value != null) {
      throw shreddingError(at, "an array is shredded and its value is set too");
    }
    if (!Array.isArray(typed)) throw shreddingError(at, "it is not a list");
    const element = listElement(typedNode);
    return encodeArray(
      typed.map((e, i) =>
        construct(e as ShreddedRow, element, dictionary, `${at}[${i}]`) ?? VARIANT_NULL
      ),
    );
  }
  if (typedNode.children.length) {
    if (typeof typed !== "object") throw shreddingError(at, "it is not a group");
    const fields: [string, Uint8Array][] = [];
    const shredded = new Set<string>();
    for (const child of typedNode.children) {
      const name = child.element.name;
      shredded.add(name);
      const field = (typed as Record<string, unknown>)[name] as ShreddedRow | undefined;
      const rebuilt = construct(field, child, dictionary, join(at, name));
      if (rebuilt !== undefined) fields.push([name, rebuilt]);
    }
    if (value != null) {
      // A partially shredded object: the fields left in `value` join them.
      for (const [name, bytes] of objectFields(value, dictionary, join(path, "value"))) {
        // The specification lets readers assume no overlap; typed_value wins if there is one.
        if (!shredded.has(name)) fields.push([name, bytes]);
      }
    }
    return encodeObject(fields, dictionary);
  }
  if (value != null) {
    throw shreddingError(at, "a primitive is shredded and its value is set too");
  }
  return encodePrimitive(typed, typedNode.element, at);
}

function isList(node: SchemaTree): boolean {
  return node.element.converted_type === "LIST" || node.element.logical_type?.type === "LIST";
}

/** The element group of a three-level LIST (two-level lists repeat the element itself). */
function listElement(node: SchemaTree): SchemaTree {
  const repeated = node.children[0]!;
  return repeated.children.length === 1 && repeated.element.name !== "array"
    ? repeated.children[0]!
    : repeated;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function shreddingError(path: string, what: string): RangeError {
  return new RangeError(`Malformed shredded variant at ${path}: ${what}`);
}

// --- the metadata dictionary -------------------------------------------------

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: false });
const toUtf8 = new TextEncoder();

/** A row's metadata dictionary: names by id, ids by name, and names appended. */
class Dictionary {
  readonly #bytes: Uint8Array;
  readonly #names: string[] = [];
  readonly #ids = new Map<string, number>();
  #added = 0;

  constructor(metadata: Uint8Array) {
    this.#bytes = metadata;
    if (metadata.length < 1) throw shreddingError("metadata", "it is empty");
    const header = metadata[0]!;
    if ((header & 0x0f) !== 1) {
      throw shreddingError("metadata", `its version is ${header & 0x0f}, and only 1 is known`);
    }
    const offsetSize = ((header >> 6) & 3) + 1;
    const size = readUnsigned(metadata, 1, offsetSize, "metadata");
    const offsets = 1 + offsetSize;
    const strings = offsets + (size + 1) * offsetSize;
    if (strings > metadata.length) {
      throw shreddingError("metadata", `its dictionary of ${size} keys is cut short`);
    }
    for (let i = 0; i < size; i++) {
      const start = readUnsigned(metadata, offsets + i * offsetSize, offsetSize, "metadata");
      const end = readUnsigned(metadata, offsets + (i + 1) * offsetSize, offsetSize, "metadata");
      if (end < start || strings + end > metadata.length) {
        throw shreddingError("metadata", `dictionary key ${i} lies outside it`);
      }
      const name = utf8.decode(metadata.subarray(strings + start, strings + end));
      this.#names.push(name);
      if (!this.#ids.has(name)) this.#ids.set(name, i);
    }
  }

  name(id: number, path: string): string {
    const name = this.#names[id];
    if (name === undefined) {
      throw shreddingError(path, `field id ${id} is past the dictionary of ${this.#names.length}`);
    }
    return name;
  }

  /** The id of `name`, appended to the dictionary if it is not in it. */
  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#names.length;
      this.#names.push(name);
      this.#ids.set(name, id);
      this.#added++;
    }
    return id;
  }

  get size(): number {
    return this.#names.length;
  }

  /** The metadata binary: the row's own unless names were appended. */
  encode(): Uint8Array {
    if (!this.#added) return this.#bytes;
    const strings = this.#names.map((n) => toUtf8.encode(n));
    const total = strings.reduce((n, s) => n + s.length, 0);
    const offsetSize = bytesFor(Math.max(total, this.#names.length));
    // Appended names break any sorted order: the flag is left clear.
    const out = new Uint8Array(1 + (this.#names.length + 2) * offsetSize + total);
    out[0] = 1 | ((offsetSize - 1) << 6);
    writeUnsigned(out, 1, this.#names.length, offsetSize);
    let at = 1 + (this.#names.length + 2) * offsetSize;
    let offset = 0;
    for (let i = 0; i < strings.length; i++) {
      writeUnsigned(out, 1 + (i + 1) * offsetSize, offset, offsetSize);
      out.set(strings[i]!, at);
      at += strings[i]!.length;
      offset += strings[i]!.length;
    }
    writeUnsigned(out, 1 + (strings.length + 1) * offsetSize, offset, offsetSize);
    return out;
  }
}

// --- reading a value's object -----------------------------------------------

/** The fields of the object `value` encodes, each as its own value bytes. */
function objectFields(value: Uint8Array, dictionary: Dictionary, path: string) {
  const head = value[0];
  if (head === undefined || (head & 3) !== 2) {
    throw shreddingError(path, "an object is shredded and its value is not an object");
  }
  const header = head >> 2;
  const offsetSize = (header & 3) + 1;
  const idSize = ((header >> 2) & 3) + 1;
  const sizeBytes = (header >> 4) & 1 ? 4 : 1;
  const size = readUnsigned(value, 1, sizeBytes, path);
  const ids = 1 + sizeBytes;
  const offsets = ids + size * idSize;
  const data = offsets + (size + 1) * offsetSize;
  if (data > value.length) throw shreddingError(path, "its object header is cut short");
  const out: [string, Uint8Array][] = [];
  for (let i = 0; i < size; i++) {
    const id = readUnsigned(value, ids + i * idSize, idSize, path);
    const start = data + readUnsigned(value, offsets + i * offsetSize, offsetSize, path);
    out.push([dictionary.name(id, path), value.subarray(start, start + valueSize(value, start))]);
  }
  return out;
}

/** The length in bytes of the value that starts at `at`. */
function valueSize(bytes: Uint8Array, at: number): number {
  const head = bytes[at];
  if (head === undefined) throw shreddingError("value", `offset ${at} is past its end`);
  const basic = head & 3;
  const header = head >> 2;
  let size: number;
  if (basic === 1) size = 1 + header;
  else if (basic === 0) {
    const fixed = PRIMITIVE_SIZES[header];
    if (fixed === undefined) {
      throw shreddingError("value", `primitive type id ${header} at offset ${at} is unknown`);
    }
    size = fixed >= 0 ? fixed : 5 + readUnsigned(bytes, at + 1, 4, "value");
  } else {
    const object = basic === 2;
    const offsetSize = (header & 3) + 1;
    const idSize = object ? ((header >> 2) & 3) + 1 : 0;
    const sizeBytes = (object ? (header >> 4) & 1 : (header >> 2) & 1) ? 4 : 1;
    const count = readUnsigned(bytes, at + 1, sizeBytes, "value");
    const offsets = at + 1 + sizeBytes + count * idSize;
    const data = offsets + (count + 1) * offsetSize;
    size = data - at + readUnsigned(bytes, offsets + count * offsetSize, offsetSize, "value");
  }
  if (at + size > bytes.length) {
    throw shreddingError("value", `the value at offset ${at} passes its end`);
  }
  return size;
}

/** Sizes of primitives by type id, header included; -1 for length-prefixed ones. */
const PRIMITIVE_SIZES = [1, 1, 1, 2, 3, 5, 9, 9, 6, 10, 18, 5, 9, 9, 5, -1, -1, 9, 9, 9, 17];

// --- encoding ----------------------------------------------------------------

function encodeObject(fields: [string, Uint8Array][], dictionary: Dictionary): Uint8Array {
  const keyed = fields.map(([name, bytes]) => ({
    key: toUtf8.encode(name),
    id: dictionary.id(name),
    bytes,
  }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  const total = keyed.reduce((n, f) => n + f.bytes.length, 0);
  const idSize = bytesFor(Math.max(dictionary.size - 1, 0));
  const offsetSize = bytesFor(total);
  const large = keyed.length > 255;
  const sizeBytes = large ? 4 : 1;
  const head = 1 + sizeBytes + keyed.length * idSize + (keyed.length + 1) * offsetSize;
  const out = new Uint8Array(head + total);
  out[0] = ((((large ? 1 : 0) << 4) | ((idSize - 1) << 2) | (offsetSize - 1)) << 2) | 2;
  writeUnsigned(out, 1, keyed.length, sizeBytes);
  const ids = 1 + sizeBytes;
  const offsets = ids + keyed.length * idSize;
  let offset = 0;
  keyed.forEach((f, i) => {
    writeUnsigned(out, ids + i * idSize, f.id, idSize);
    writeUnsigned(out, offsets + i * offsetSize, offset, offsetSize);
    out.set(f.bytes, head + offset);
    offset += f.bytes.length;
  });
  writeUnsigned(out, offsets + keyed.length * offsetSize, offset, offsetSize);
  return out;
}

function encodeArray(elements: Uint8Array[]): Uint8Array {
  const total = elements.reduce((n, e) => n + e.length, 0);
  const offsetSize = bytesFor(total);
  const large = elements.length > 255;
  const sizeBytes = large ? 4 : 1;
  const head = 1 + sizeBytes + (elements.length + 1) * offsetSize;
  const out = new Uint8Array(head + total);
  out[0] = ((((large ? 1 : 0) << 2) | (offsetSize - 1)) << 2) | 3;
  writeUnsigned(out, 1, elements.length, sizeBytes);
  let offset = 0;
  elements.forEach((e, i) => {
    writeUnsigned(out, 1 + sizeBytes + i * offsetSize, offset, offsetSize);
    out.set(e, head + offset);
    offset += e.length;
  });
  writeUnsigned(out, 1 + sizeBytes + elements.length * offsetSize, offset, offsetSize);
  return out;
}

/** A shredded primitive (raw, as its physical type holds it) as variant bytes. */
function encodePrimitive(raw: unknown, element: SchemaElement, path: string): Uint8Array {
  const logical = element.logical_type;
  const converted = element.converted_type;
  const fail = (what: string): never => {
    throw shreddingError(path, `${what} (Parquet ${element.type}${describe(element)})`);
  };
  const decimal = converted === "DECIMAL" || logical?.type === "DECIMAL";
  switch (element.type) {
    case "BOOLEAN":
      if (typeof raw !== "boolean") return fail("a value is not a boolean");
      return new Uint8Array([raw ? 1 << 2 : 2 << 2]);
    case "INT32": {
      if (typeof raw !== "number") return fail("a value is not a 32-bit integer");
      if (decimal) return decimalBytes(BigInt(raw), 4, element.scale ?? 0, fail);
      if (converted === "DATE" || logical?.type === "DATE") {
        return fixed(11, 4, (v) => v.setInt32(1, raw, true));
      }
      const width = logical?.type === "INTEGER"
        ? (logical.isSigned ? logical.bitWidth : fail("unsigned integers have no variant type"))
        : converted === "INT_8"
        ? 8
        : converted === "INT_16"
        ? 16
        : converted === "INT_32" || !converted
        ? 32
        : fail("this annotation has no variant type");
      if (width === 8) return fixed(3, 1, (v) => v.setInt8(1, raw));
      if (width === 16) return fixed(4, 2, (v) => v.setInt16(1, raw, true));
      return fixed(5, 4, (v) => v.setInt32(1, raw, true));
    }
    case "INT64": {
      if (typeof raw !== "bigint") return fail("a value is not a 64-bit integer");
      if (decimal) return decimalBytes(raw, 8, element.scale ?? 0, fail);
      if (logical?.type === "TIMESTAMP") {
        const utc = logical.isAdjustedToUTC;
        switch (logical.unit) {
          case "MICROS":
            return fixed(utc ? 12 : 13, 8, (v) => v.setBigInt64(1, raw, true));
          case "NANOS":
            return fixed(utc ? 18 : 19, 8, (v) => v.setBigInt64(1, raw, true));
          case "MILLIS":
            return fixed(utc ? 12 : 13, 8, (v) => v.setBigInt64(1, raw * 1000n, true));
        }
      }
      if (converted === "TIMESTAMP_MICROS") return fixed(12, 8, (v) => v.setBigInt64(1, raw, true));
      if (converted === "TIMESTAMP_MILLIS") {
        return fixed(12, 8, (v) => v.setBigInt64(1, raw * 1000n, true));
      }
      if (logical?.type === "TIME" || converted === "TIME_MICROS") {
        if (logical?.type === "TIME" && logical.unit !== "MICROS") {
          return fail("only times in microseconds have a variant type");
        }
        return fixed(17, 8, (v) => v.setBigInt64(1, raw, true));
      }
      if (logical?.type === "INTEGER" && !logical.isSigned) {
        return fail("unsigned integers have no variant type");
      }
      if (converted && converted !== "INT_64") return fail("this annotation has no variant type");
      return fixed(6, 8, (v) => v.setBigInt64(1, raw, true));
    }
    case "FLOAT":
      if (typeof raw !== "number") return fail("a value is not a float");
      return fixed(14, 4, (v) => v.setFloat32(1, raw, true));
    case "DOUBLE":
      if (typeof raw !== "number") return fail("a value is not a double");
      return fixed(7, 8, (v) => v.setFloat64(1, raw, true));
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY": {
      if (!(raw instanceof Uint8Array)) return fail("a value is not a byte array");
      if (decimal) return decimalBytes(bigEndianSigned(raw), 16, element.scale ?? 0, fail);
      if (logical?.type === "UUID") {
        if (raw.length !== 16) return fail("a uuid is not 16 bytes");
        const out = new Uint8Array(17);
        out[0] = 20 << 2;
        out.set(raw, 1);
        return out;
      }
      if (converted === "UTF8" || logical?.type === "STRING") return encodeString(raw);
      if (converted || logical) return fail("this annotation has no variant type");
      const out = new Uint8Array(5 + raw.length);
      out[0] = 15 << 2;
      new DataView(out.buffer).setUint32(1, raw.length, true);
      out.set(raw, 5);
      return out;
    }
    default:
      return fail("this physical type has no variant type");
  }
}

function describe(element: SchemaElement): string {
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  return logical ? ` ${logical}` : converted ? ` ${converted}` : "";
}

function fixed(type: number, width: number, write: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(1 + width);
  out[0] = type << 2;
  write(new DataView(out.buffer));
  return out;
}

function encodeString(utf8Bytes: Uint8Array): Uint8Array {
  if (utf8Bytes.length < 64) {
    const out = new Uint8Array(1 + utf8Bytes.length);
    out[0] = (utf8Bytes.length << 2) | 1;
    out.set(utf8Bytes, 1);
    return out;
  }
  const out = new Uint8Array(5 + utf8Bytes.length);
  out[0] = 16 << 2;
  new DataView(out.buffer).setUint32(1, utf8Bytes.length, true);
  out.set(utf8Bytes, 5);
  return out;
}

/** A decimal of `width` bytes (4, 8 or 16: decimal4, decimal8, decimal16). */
function decimalBytes(
  unscaled: bigint,
  width: 4 | 8 | 16,
  scale: number,
  fail: (what: string) => never,
): Uint8Array {
  const maxScale = width === 4 ? 9 : width === 8 ? 18 : 38;
  if (scale < 0 || scale > maxScale) fail(`scale ${scale} is beyond a ${width}-byte decimal`);
  const bits = BigInt(width * 8);
  if (unscaled >= 1n << (bits - 1n) || unscaled < -(1n << (bits - 1n))) {
    fail(`a decimal does not fit ${width} bytes`);
  }
  const out = new Uint8Array(2 + width);
  out[0] = (width === 4 ? 8 : width === 8 ? 9 : 10) << 2;
  out[1] = scale;
  let n = BigInt.asUintN(width * 8, unscaled);
  for (let i = 0; i < width; i++) {
    out[2 + i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function bigEndianSigned(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  return bytes.length && n >= 1n << (bits - 1n) ? n - (1n << bits) : n;
}

// --- bytes -------------------------------------------------------------------

/** The fewest bytes (1 to 4) that hold `n`. */
function bytesFor(n: number): number {
  return n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
}

function readUnsigned(bytes: Uint8Array, at: number, size: number, path: string): number {
  if (at + size > bytes.length) {
    throw shreddingError(path, `${size} bytes at offset ${at} pass its end`);
  }
  let n = 0;
  for (let i = size - 1; i >= 0; i--) n = n * 256 + bytes[at + i]!;
  return n;
}

function writeUnsigned(out: Uint8Array, at: number, n: number, size: number): void {
  for (let i = 0; i < size; i++) {
    out[at + i] = n & 0xff;
    n = Math.floor(n / 256);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
