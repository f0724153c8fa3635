/**
 * Partition values and data file paths: the protocol's string serialisation
 * of partition values, Hive-style directory names, and the URI encoding of
 * `add.path`.
 *
 * Invariants:
 * - `serializePartitionValue` and `parsePartitionValue` are inverse for every
 *   primitive type (timestamps as ISO-8601 UTC with microseconds).
 * - A null value serialises as JSON `null` and lives in the directory
 *   `__HIVE_DEFAULT_PARTITION__`.
 * - Directory names escape what Hive escapes; `add.path` is then URI-encoded,
 *   so a `%` from Hive escaping appears as `%25` in the log, as Spark writes it.
 */

import { formatDate, formatDecimal, formatTimestamp, type Scalar } from "../columnar/scalar.ts";
import { readDate, readDecimal, readTimestampMicros } from "../columnar/text_values.ts";
import {
  INTEGER_RANGES,
  parseDecimal,
  type PrimitiveType,
  representationOf,
} from "../columnar/types.ts";

/** The directory name of a null partition value. */
export const NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__";

/**
 * Serialises a partition value as the protocol says; null for null. A binary
 * value is its bytes read as UTF-8 text, as Spark and delta-kernel-rs write it
 * (and read it back: the text's UTF-8 bytes); bytes that are not valid UTF-8
 * have no such text, so they are refused, naming `column`.
 */
export function serializePartitionValue(
  value: Scalar,
  type: PrimitiveType,
  column = "",
): string | null {
  if (value === null) return null;
  switch (type) {
    case "date":
      return formatDate(value as number);
    case "timestamp":
      return formatTimestamp(value as bigint, { zone: true });
    case "timestamp_ntz":
      return formatTimestamp(value as bigint, { zone: false, separator: " " });
    case "boolean":
      return value ? "true" : "false";
    case "binary":
      return binaryText(value as Uint8Array, column);
    case "string":
      return value as string;
    case "float":
    case "double":
      return formatFloat(value as number);
    default:
      if (representationOf(type) === "decimal") {
        return formatDecimal(value as bigint, decimalScale(type));
      }
      return String(value);
  }
}

/**
 * Parses a serialised partition value. An empty string or null is null.
 * Throws an error that names the column when the text does not fit the type.
 */
export function parsePartitionValue(
  text: string | null | undefined,
  type: PrimitiveType,
  column: string,
): Scalar {
  if (text === null || text === undefined || text === "") return null;
  const bad = () =>
    new Error(
      `Partition value ${JSON.stringify(text)} of column "${column}" is not a valid ${type}`,
    );
  switch (representationOf(type)) {
    case "int32": {
      if (type === "date") {
        const days = readDate(text.slice(0, 10));
        if (days === undefined) throw bad();
        return days;
      }
      // Tolerate writers that spell integers as floats (such as `2021.0`).
      const n = Number(text);
      if (!Number.isInteger(n)) throw bad();
      const range = INTEGER_RANGES[type as "byte" | "short" | "integer"];
      if (n < range[0] || n > range[1]) throw bad();
      return n;
    }
    case "int64": {
      if (type === "long") {
        if (/^[+-]?\d+$/.test(text)) return BigInt(text);
        const n = Number(text);
        if (Number.isInteger(n)) return BigInt(n);
        throw bad();
      }
      const micros = readTimestampMicros(text);
      if (micros === undefined) throw bad();
      return micros;
    }
    case "float32":
    case "float64": {
      const n = parseFloatText(text);
      if (n === undefined) throw bad();
      return type === "float" ? Math.fround(n) : n;
    }
    case "bool": {
      const lower = text.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
      throw bad();
    }
    case "string":
      return text;
    case "binary":
      return UTF8.encode(text);
    case "decimal": {
      const spec = parseDecimal(type)!;
      const v = readDecimal(text.trim(), spec.precision, spec.scale);
      if (v === undefined) throw bad();
      return v;
    }
  }
}

function decimalScale(type: PrimitiveType): number {
  return Number(/,(\d+)\)$/.exec(type)?.[1] ?? "0");
}

function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  return String(n);
}

function parseFloatText(text: string): number | undefined {
  if (text === "NaN") return NaN;
  if (text === "Infinity" || text === "+Infinity") return Infinity;
  if (text === "-Infinity") return -Infinity;
  const n = Number(text);
  return Number.isNaN(n) || text.trim() === "" ? undefined : n;
}

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function binaryText(bytes: Uint8Array, column: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (error) {
    const hex = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new RangeError(
      `Cannot use binary value ${hex}${bytes.length > 16 ? " ..." : ""} as a partition value${
        column ? ` of column "${column}"` : ""
      }: Delta stores partition values as text, and these bytes are not valid UTF-8, so other readers would read other bytes`,
      { cause: error },
    );
  }
}

/** Characters that Hive escapes in partition directory names. */
function needsHiveEscape(code: number): boolean {
  if (code < 0x20 || code === 0x7f) return true;
  switch (code) {
    case 0x22: // "
    case 0x23: // #
    case 0x25: // %
    case 0x27: // '
    case 0x2a: // *
    case 0x2f: // /
    case 0x3a: // :
    case 0x3d: // =
    case 0x3f: // ?
    case 0x5c: // \
    case 0x7b: // {
    case 0x5b: // [
    case 0x5d: // ]
    case 0x5e: // ^
      return true;
    default:
      return false;
  }
}

/** Escapes a string as Hive does for a partition directory name. */
export function hiveEscape(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += needsHiveEscape(code) ? `%${code.toString(16).toUpperCase().padStart(2, "0")}` : text[i];
  }
  return out;
}

/** Reverses `hiveEscape`. */
export function hiveUnescape(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The relative directory of a partition, such as `region=M1/day=2024-01-02`,
 * from the serialised values of the partition columns in order.
 */
export function partitionDirectory(
  columns: readonly string[],
  values: Record<string, string | null>,
): string {
  return columns
    .map((c) => {
      const v = values[c];
      return `${hiveEscape(c)}=${
        v === null || v === undefined || v === "" ? NULL_PARTITION : hiveEscape(v)
      }`;
    })
    .join("/");
}

/**
 * Encodes a relative file key as the URI that `add.path` holds: every
 * character outside `A-Za-z0-9-._~!$&'()*+,;=:@/` is percent-encoded as UTF-8.
 */
export function encodeFilePath(key: string): string {
  return encodeURI(key).replace(
    /[?#[\]]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Whether `add.path` is an absolute URI or path, which PROTOCOL.md allows
 * (shallow clones, converted tables) beside paths relative to the table root.
 */
export function isAbsoluteFilePath(path: string): boolean {
  // Every path of a snapshot is asked: the regular expression runs only
  // where a scheme can be (a table open asks 100,000 times).
  return path.charCodeAt(0) === 47 || (path.includes(":") && URI_SCHEME.test(path));
}

const URI_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * The canonical form of an absolute `add.path` or `remove.path`, so that
 * replay matches the spellings of one file that writers use (`file:/p`,
 * `file:///p` and `/p` name the same local file; PROTOCOL.md paths are URIs,
 * so percent-escapes are decoded): a local file becomes its decoded path, any
 * other URI keeps its scheme and authority with a decoded path.
 */
export function canonicalAbsolutePath(path: string): string {
  const local = /^file:(?:\/\/(?:localhost)?(?=\/))?(\/.*)$/i.exec(path);
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  if (local) return decode(local[1]!);
  if (path.startsWith("/")) return decode(path);
  const uri = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*)(.*)$/.exec(path);
  return uri ? `${uri[1]!.toLowerCase()}${decode(uri[2]!)}` : path;
}

/**
 * Decodes `add.path` into a key relative to the table root. Absolute URIs and
 * absolute paths are refused: only reads follow them (`dataFileLocation` in
 * ops/), never compaction, verify or vacuum.
 */
export function decodeFilePath(path: string): string {
  // Most paths have nothing to decode and no scheme: answer those at once
  // (a table open decodes every path of its snapshot).
  if (!path.includes("%") && !path.includes(":") && path.charCodeAt(0) !== 47) return path;
  if (isAbsoluteFilePath(path)) {
    throw new Error(
      `File path ${
        JSON.stringify(path)
      } is absolute; neuralake reads such files but does not compact, verify or vacuum a table that names them`,
    );
  }
  try {
    return decodeURIComponent(path);
  } catch (error) {
    throw new Error(`File path ${JSON.stringify(path)} is not a valid URI`, { cause: error });
  }
}
