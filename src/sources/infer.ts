/**
 * Schema inference for text sources: which column type a sample of values
 * suggests. Sources feed it the first `inferRows` records and then hold every
 * later value to the types it chose.
 *
 * Rules, per value (nulls say nothing):
 * - a whole number that fits int64 is long; a whole number beyond int64 is
 *   `decimal(p,0)` with p its digits, as Spark infers it, up to 38 digits;
 *   one of more digits is refused (`InferenceError`: a double would round
 *   it, which Spark does silently). Other numbers (fraction, exponent, NaN,
 *   Infinity) are double. Digits with a leading zero such as `007` are kept
 *   as string, as they are usually codes, not quantities;
 * - `true` / `false` in any case is boolean (`1` / `0` are numbers);
 * - `YYYY-MM-DD` is date; an ISO-8601 date-time with `Z` or an offset is
 *   timestamp, one without a zone is timestamp_ntz;
 * - anything else is string.
 *
 * Per column: one type throughout stays that type; long mixed with double is
 * double; long and decimals are the widest decimal (a long counts as
 * `decimal(20,0)`, as in Spark); a decimal mixed with double is refused
 * (`InferenceError`), since a double would round the integers that made it
 * a decimal; any other mix is string; a column with no value in the sample
 * is string. Inferred fields are always nullable.
 *
 * Invariant: a type is inferred only if every sampled value coerces to it, so
 * replaying the sample through the coercion of `coerce.ts` never fails. A
 * later value that does not fit is an error naming where it is; the type is
 * never widened behind the caller's back.
 */

import type { Field } from "../columnar/batch.ts";
import { decimalType, type DecimalTypeName, parseDecimal } from "../columnar/types.ts";
import { readBoolean, readDouble, readLong } from "./coerce.ts";
import { readDate, readDateTime } from "./coerce_time.ts";
import type { JsonKind } from "./json_line.ts";

/** A type that inference can choose. */
export type InferredType =
  | "long"
  | DecimalTypeName
  | "double"
  | "boolean"
  | "date"
  | "timestamp"
  | "timestamp_ntz"
  | "string";

/** Classifies one non-null text value (a CSV field). */
export function classifyText(text: string): InferredType {
  const n = text.length;
  if (n === 0) return "string";
  const first = text.charCodeAt(0);
  const signed = first === 45 || first === 43;
  const lead = signed ? text.charCodeAt(1) : first;
  if ((lead >= 48 && lead <= 57) || lead === 46 /* . */) {
    if (n >= 10 && !signed) {
      if (n === 10 && readDate(text) !== undefined) return "date";
      if (n > 10) {
        if (readDateTime(text, "required") !== undefined) return "timestamp";
        if (readDateTime(text, "forbidden") !== undefined) return "timestamp_ntz";
      }
    }
    if (hasLeadingZero(text, signed ? 1 : 0)) return "string";
    return classifyNumber(text);
  }
  const folded = lead | 0x20;
  if (!signed && (folded === 0x74 /* t */ || folded === 0x66 /* f */)) {
    if (n >= 4 && readBoolean(text) >= 0) return "boolean";
  }
  if (folded === 0x6e /* n */ || folded === 0x69 /* i */) {
    return readDouble(text) === undefined ? "string" : "double";
  }
  return "string";
}

/** `007` and `-01.5`: a zero followed by another digit. */
function hasLeadingZero(text: string, at: number): boolean {
  if (text.charCodeAt(at) !== 48) return false;
  const next = text.charCodeAt(at + 1);
  return next >= 48 && next <= 57;
}

/** The most digits of a decimal (Delta's and Spark's precision limit). */
const MAX_DECIMAL_DIGITS = 38;

/**
 * Raised when a sample's values leave no type that holds them exactly; the
 * source names the file, line and column, and the fix is a schema.
 */
export class InferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InferenceError";
  }
}

/**
 * long, else (an integer beyond int64) decimal(p,0) up to 38 digits, else
 * double, else (such as `1e400`, beyond double) string.
 */
function classifyNumber(text: string): InferredType {
  if (readLong(text) !== undefined) return "long";
  const digits = integerDigits(text);
  if (digits !== undefined) {
    if (digits <= MAX_DECIMAL_DIGITS) return decimalType(digits, 0);
    throw new InferenceError(
      `the integer ${
        text.length > 48 ? `${text.slice(0, 45)}...` : text
      } has ${digits} digits, more than a decimal holds (${MAX_DECIMAL_DIGITS}), ` +
        "and a double would round it",
    );
  }
  if (readDouble(text) !== undefined) return "double";
  return "string";
}

/** The digits of an optionally signed integer without leading zeros, else undefined. */
function integerDigits(text: string): number | undefined {
  let i = text.charCodeAt(0) === 45 || text.charCodeAt(0) === 43 ? 1 : 0;
  if (i >= text.length) return undefined;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c < 48 || c > 57) return undefined;
  }
  while (i < text.length - 1 && text.charCodeAt(i) === 48) i++;
  return text.length - i;
}

/**
 * Classifies one JSON scalar by its kind and source text, or returns
 * `undefined` for null. Numbers are long, decimal or double by their text
 * (an integer beyond int64 is decimal(p,0), one beyond 38 digits is
 * refused, a number beyond double is string); strings get date and
 * timestamp recognition only.
 */
export function classifyJson(kind: JsonKind, text: string): InferredType | undefined {
  switch (kind) {
    case "null":
      return undefined;
    case "boolean":
      return "boolean";
    case "number":
      return classifyNumber(text);
    case "string": {
      const type = classifyText(text);
      return type === "date" || type === "timestamp" || type === "timestamp_ntz" ? type : "string";
    }
    case "json":
      throw new TypeError("Cannot classify an object or array as a scalar: infer its JSON type");
  }
}

/**
 * Joins the type seen so far with the type of one more value; throws
 * `InferenceError` for integers beyond int64 mixed with fractions.
 */
export function mergeTypes(seen: InferredType | undefined, next: InferredType): InferredType {
  if (seen === undefined || seen === next) return next;
  if ((seen === "long" && next === "double") || (seen === "double" && next === "long")) {
    return "double";
  }
  const a = integerPrecision(seen);
  const b = integerPrecision(next);
  if (a !== undefined && b !== undefined) return decimalType(Math.max(a, b), 0);
  if ((a !== undefined && next === "double") || (b !== undefined && seen === "double")) {
    throw new InferenceError(
      "holds integers beyond int64 and fractional numbers, and a double would round the integers",
    );
  }
  return "string";
}

/** The precision of a whole-number type for joining: a long counts as decimal(20,0), as in Spark. */
function integerPrecision(type: InferredType): number | undefined {
  if (type === "long") return 20;
  const spec = parseDecimal(type);
  return spec?.scale === 0 ? spec.precision : undefined;
}

/**
 * Accumulates the types of a sample, column by column. Columns are indexed
 * by position; names are given at the end.
 */
export class TypeSampler {
  #types: (InferredType | undefined)[] = [];

  /** Records one non-null value's type for column `index`. */
  observe(index: number, type: InferredType): void {
    this.#types[index] = mergeTypes(this.#types[index], type);
  }

  /** Returns nullable fields named `names`, string where nothing was seen. */
  fields(names: readonly string[]): Field[] {
    return names.map((name, i) => ({ name, type: this.#types[i] ?? "string", nullable: true }));
  }
}
