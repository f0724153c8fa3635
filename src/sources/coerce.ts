/**
 * Coercion of text into the numeric, boolean, string and binary column types.
 * Sources read every value as text (CSV fields, JSON scalars by their source
 * text) and turn it into its column's in-memory form here.
 *
 * Two layers, both pure:
 * - `read*` functions return the value, or `undefined` when the text does not
 *   fit. They loop over char codes (no regular expressions, no exceptions) so
 *   that the per-value hot path stays cheap. Integers and decimals are never
 *   rounded: a value that cannot be held exactly is refused. Floats round to
 *   the nearest value of their type, as any float parser does.
 * - `coerce*` functions wrap them and throw an `InputError` that names the
 *   value, the type, where it was (when given) and what would be accepted.
 *
 * Accepted text, per type (no surrounding whitespace anywhere):
 * - byte, short, integer, long: optional sign and decimal digits within the
 *   type's range; `1.5` and `1e3` are refused. long is exact over all of int64.
 * - float, double: decimal notation with optional fraction and exponent, and
 *   `NaN`, `Infinity`, `inf` (case-insensitive; the infinities with optional
 *   sign). A finite value too large for the type is refused rather than read
 *   as infinity.
 * - boolean: `true` / `false` in any case, and `1` / `0`.
 * - binary: base64, standard or URL-safe alphabet, padding optional.
 * - decimal(p,s): optional sign, digits, point and exponent. The value must
 *   be exact at scale s (trailing zeros past the scale are fine, `1.25` into
 *   scale 1 is not) and have at most p digits. It is never rounded.
 * - date and timestamps: see `coerce_time.ts`.
 */

import { readDecimal } from "../columnar/text_values.ts";
import { INTEGER_RANGES, type PrimitiveType } from "../columnar/types.ts";
import { InputError } from "../util/errors.ts";

/** Where a value came from, for error messages. Every part is optional. */
export interface ValueLocation {
  /** The input file, or `-` for stdin. */
  file?: string | undefined;
  /** 1-based line of the record that holds the value. */
  line?: number | undefined;
  /** The column name. */
  column?: string | undefined;
}

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
const MAX_FLOAT32 = 3.4028234663852886e38;
const MAX_SHOWN = 80;

/**
 * Prefixes `message` with where it happened: `data.csv:17: column "x": …`.
 * Without a location the message is returned in sentence case.
 */
export function locate(message: string, where?: ValueLocation): string {
  let prefix = "";
  if (where?.file !== undefined) {
    prefix = where.line === undefined ? `${where.file}: ` : `${where.file}:${where.line}: `;
  } else if (where?.line !== undefined) {
    prefix = `Line ${where.line}: `;
  }
  if (where?.column !== undefined) prefix += `column ${JSON.stringify(where.column)}: `;
  if (prefix === "") return message.charAt(0).toUpperCase() + message.slice(1);
  return prefix + message;
}

/** Quotes a value for a message, shortening very long ones. */
export function showValue(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}

/** Says what text a column of `type` accepts, for the end of error messages. */
export function acceptedText(type: PrimitiveType): string {
  switch (type) {
    case "byte":
    case "short":
    case "integer": {
      const [min, max] = INTEGER_RANGES[type];
      return `expected a whole number from ${min} to ${max}`;
    }
    case "long":
      return `expected a whole number from ${MIN_LONG} to ${MAX_LONG}`;
    case "float":
    case "double":
      return `expected a number such as 12, -0.5, 6.02e23, NaN or -Infinity`;
    case "boolean":
      return "expected true, false, 1 or 0";
    case "string":
      return "expected text";
    case "binary":
      return "expected base64 text";
    case "date":
      return "expected a calendar date as YYYY-MM-DD";
    case "timestamp":
      return "expected an ISO-8601 date-time with a zone, such as 2024-05-01T12:30:00.5Z " +
        "or 2024-05-01 12:30:00+02:00 (use timestamp_ntz for times without a zone)";
    case "timestamp_ntz":
      return "expected an ISO-8601 date-time without a zone, such as 2024-05-01T12:30:00.5 " +
        "(use timestamp for times with a zone)";
    default: {
      const [precision, scale] = decimalParts(type);
      return `expected a number with at most ${precision} digits, at most ${scale} of them ` +
        "after the point; values are never rounded";
    }
  }
}

/**
 * The error for a value that does not fit its column, e.g.
 * `data.csv:17: column "neuron_id": cannot read "12x" as integer: expected …`.
 * `advice` is appended when the caller knows more (such as an inferred type).
 */
export function cannotRead(
  text: string,
  type: PrimitiveType,
  where?: ValueLocation,
  advice?: string,
): InputError {
  const tail = advice === undefined ? "" : `; ${advice}`;
  const message = `cannot read ${showValue(text)} as ${type}: ${acceptedText(type)}${tail}`;
  return new InputError(locate(message, where), {
    ...(where?.file !== undefined ? { file: where.file } : {}),
    ...(where?.line !== undefined ? { line: where.line } : {}),
    ...(where?.column !== undefined ? { column: where.column } : {}),
  });
}

function decimalParts(type: string): [number, number] {
  const open = type.indexOf("(");
  const comma = type.indexOf(",");
  return [Number(type.slice(open + 1, comma)), Number(type.slice(comma + 1, -1))];
}

// ---------------------------------------------------------------------------
// Integers

/**
 * Reads a whole number in [min, max] (both within the safe integer range),
 * or returns `undefined`.
 */
export function readInt(text: string, min: number, max: number): number | undefined {
  const n = text.length;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45 /* - */) {
    negative = true;
    i = 1;
  } else if (first === 43 /* + */) {
    i = 1;
  }
  if (i >= n) return undefined;
  let value = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  // `+ 0` turns -0 into 0.
  value = negative ? -value + 0 : value;
  return value < min || value > max ? undefined : value;
}

/**
 * Reads a signed 64-bit integer exactly. Values within ±(2^53 - 1) come back
 * as a number (cheap to store); larger ones as a bigint. `undefined` if the
 * text is not a whole number or is outside int64.
 */
export function readLong(text: string): number | bigint | undefined {
  const n = text.length;
  let i = 0;
  const first = text.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) i = 1;
  if (i >= n) return undefined;
  const start = i;
  let value = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  // Up to 15 digits the running double is exact.
  if (n - start <= 15) return first === 45 ? -value + 0 : value;
  const big = BigInt(text);
  if (big < MIN_LONG || big > MAX_LONG) return undefined;
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** Reads a byte, short or integer; throws `InputError` if it does not fit. */
export function coerceInt(
  text: string,
  type: "byte" | "short" | "integer",
  where?: ValueLocation,
): number {
  const [min, max] = INTEGER_RANGES[type];
  const value = readInt(text, min, max);
  if (value === undefined) throw cannotRead(text, type, where);
  return value;
}

/** Reads a long exactly as a bigint; throws `InputError` if it does not fit. */
export function coerceLong(text: string, where?: ValueLocation): bigint {
  const value = readLong(text);
  if (value === undefined) throw cannotRead(text, "long", where);
  return BigInt(value);
}

// ---------------------------------------------------------------------------
// Floating point

/**
 * Reads a double, or returns `undefined`. Accepts decimal notation with an
 * optional exponent and the special values NaN and (signed) Infinity / inf.
 */
export function readDouble(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  const first = text.charCodeAt(0);
  if (first === 45 || first === 43) i = 1;
  if (i >= n) return undefined;
  const lead = text.charCodeAt(i) | 0x20;
  if (lead === 0x6e /* n */ || lead === 0x69 /* i */) return readSpecial(text, i);
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
  }
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    for (i++; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      fraction++;
    }
  }
  digits += fraction;
  if (digits === 0) return undefined;
  if (i === n && digits <= 15) {
    // Clinger's fast path: the digits and the power of ten are exact doubles,
    // so one correctly rounded division gives the correctly rounded value.
    const value = mantissa / POWERS_OF_TEN[fraction]!;
    return first === 45 ? -value : value;
  }
  if (i < n && (text.charCodeAt(i) | 0x20) === 0x65 /* e */) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 45 || sign === 43) i++;
    const expStart = i;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
    }
    if (i === expStart) return undefined;
  }
  if (i !== n) return undefined;
  const value = Number(text);
  // Finite text that overflows is out of range, not infinity.
  return Number.isFinite(value) ? value : undefined;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

function readSpecial(text: string, at: number): number | undefined {
  const rest = text.slice(at).toLowerCase();
  if (rest === "nan") return at === 0 ? NaN : undefined;
  if (rest === "inf" || rest === "infinity") {
    return text.charCodeAt(0) === 45 ? -Infinity : Infinity;
  }
  return undefined;
}

/** Reads a float (32-bit), or returns `undefined` if it overflows float. */
export function readFloat(text: string): number | undefined {
  const value = readDouble(text);
  if (value === undefined) return undefined;
  if (Math.abs(value) > MAX_FLOAT32 && Number.isFinite(value)) return undefined;
  return Math.fround(value);
}

/** Reads a float or double; throws `InputError` if the text is not a number. */
export function coerceFloating(
  text: string,
  type: "float" | "double",
  where?: ValueLocation,
): number {
  const value = type === "float" ? readFloat(text) : readDouble(text);
  if (value === undefined) throw cannotRead(text, type, where);
  return value;
}

// ---------------------------------------------------------------------------
// Boolean

/** Reads a boolean as 1 or 0, or returns -1. */
export function readBoolean(text: string): number {
  switch (text.length) {
    case 1: {
      const c = text.charCodeAt(0);
      return c === 49 ? 1 : c === 48 ? 0 : -1;
    }
    case 4:
      return (text.charCodeAt(0) | 0x20) === 0x74 && (text.charCodeAt(1) | 0x20) === 0x72 &&
          (text.charCodeAt(2) | 0x20) === 0x75 && (text.charCodeAt(3) | 0x20) === 0x65
        ? 1
        : -1;
    case 5:
      return (text.charCodeAt(0) | 0x20) === 0x66 && (text.charCodeAt(1) | 0x20) === 0x61 &&
          (text.charCodeAt(2) | 0x20) === 0x6c && (text.charCodeAt(3) | 0x20) === 0x73 &&
          (text.charCodeAt(4) | 0x20) === 0x65
        ? 0
        : -1;
    default:
      return -1;
  }
}

/** Reads a boolean; throws `InputError` for anything but true/false/1/0. */
export function coerceBoolean(text: string, where?: ValueLocation): boolean {
  const value = readBoolean(text);
  if (value < 0) throw cannotRead(text, "boolean", where);
  return value === 1;
}

// ---------------------------------------------------------------------------
// Binary

const BASE64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}
BASE64[45 /* - */] = 62;
BASE64[95 /* _ */] = 63;

/** Decodes base64 (standard or URL-safe, padding optional), or `undefined`. */
export function readBase64(text: string): Uint8Array | undefined {
  let end = text.length;
  if (end % 4 === 0 && end > 0 && text.charCodeAt(end - 1) === 61 /* = */) {
    end--;
    if (text.charCodeAt(end - 1) === 61) end--;
  }
  if (end % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor(end * 3 / 4));
  let bits = 0;
  let count = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? BASE64[c]! : -1;
    if (v < 0) return undefined;
    bits = (bits << 6) | v;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[o++] = (bits >> count) & 0xff;
    }
  }
  // Leftover bits must be zero, or the text was not canonical base64.
  if ((bits & ((1 << count) - 1)) !== 0) return undefined;
  return out;
}

/** Decodes base64; throws `InputError` if the text is not base64. */
export function coerceBinary(text: string, where?: ValueLocation): Uint8Array {
  const value = readBase64(text);
  if (value === undefined) throw cannotRead(text, "binary", where);
  return value;
}

// ---------------------------------------------------------------------------
// Decimal

export { readDecimal } from "../columnar/text_values.ts";

/** Reads a decimal as its unscaled bigint; throws `InputError` if it does not fit. */
export function coerceDecimal(
  text: string,
  precision: number,
  scale: number,
  where?: ValueLocation,
): bigint {
  const value = readDecimal(text, precision, scale);
  if (value === undefined) {
    throw cannotRead(text, `decimal(${precision},${scale})`, where);
  }
  return value;
}
