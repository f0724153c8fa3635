/**
 * Nested values from JSON text: an NDJSON member holding an object or an
 * array, or a CSV cell holding JSON. `readJsonValue` checks a value against
 * a nested column type and converts it into our representation (see
 * `columnar/batch.ts`); `inferJsonType` says which type a sampled value
 * suggests.
 *
 * Rules: a struct is a JSON object whose keys are its fields (a missing key
 * is null, an unknown key an error); an array a JSON array; a map a JSON
 * object whose keys are read as the key type. Primitive values inside follow
 * the flat rules (a number is read exactly as written, a long takes `42` and
 * `"42"`, a timestamp an ISO-8601 string). A null where the type forbids one
 * is an error. A map may also be given as `[key, value]` pairs (the form
 * `scan` prints). Every error names the path inside the value
 * (`waveform[3]`, `meta.gain`).
 *
 * Inference: an object is a struct (fields in the order first seen, merged
 * over the sample), an array an array of its elements' merged type; nulls
 * are allowed everywhere; a path with no value seen is string. An object
 * and an array, or a nested value and a scalar, at the same path is an error
 * that asks for a schema.
 */

import type { Field } from "../columnar/batch.ts";
import {
  type ColumnType,
  describeType,
  INTEGER_RANGES,
  type NestedType,
  parseDecimal,
  type PrimitiveType,
} from "../columnar/types.ts";
import {
  readBase64,
  readBoolean,
  readDecimal,
  readDouble,
  readFloat,
  readInt,
  readLong,
} from "./coerce.ts";
import { readDate, readDateTime } from "./coerce_time.ts";
import { classifyJson, type InferredType, mergeTypes } from "./infer.ts";

/** A JSON number, kept as written so that longs and decimals stay exact. */
class JsonNumber {
  constructor(readonly text: string) {}
}

/** Why a value does not fit: where inside it, and what is wrong. */
export interface JsonValueProblem {
  path: string;
  problem: string;
}

/** Parses JSON text, keeping numbers as written; undefined if it is not JSON. */
export function parseJsonText(text: string): { value: unknown } | { error: string } {
  try {
    const value = JSON.parse(
      text,
      (_key, value, context?: { source?: string }) =>
        typeof value === "number" ? new JsonNumber(context?.source ?? String(value)) : value,
    );
    return { value };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Reads JSON text as a value of a nested type. `name` is the column, the
 * start of every path in problems.
 */
export function readJsonValue(
  text: string,
  type: NestedType,
  name: string,
): { value: unknown } | JsonValueProblem {
  const parsed = parseJsonText(text);
  if ("error" in parsed) return { path: name, problem: `it is not valid JSON: ${parsed.error}` };
  try {
    return { value: convert(parsed.value, type, name) };
  } catch (error) {
    if (error instanceof ValueProblem) return { path: error.path, problem: error.message };
    throw error;
  }
}

class ValueProblem extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof JsonNumber) return `the number ${value.text}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "boolean") return String(value);
  return "an object";
}

function convert(value: unknown, type: ColumnType, path: string): unknown {
  if (value === null) return null;
  if (typeof type === "string") {
    const text = value instanceof JsonNumber
      ? value.text
      : typeof value === "string"
      ? value
      : typeof value === "boolean"
      ? String(value)
      : undefined;
    const out = text === undefined ? undefined : readPrimitive(text, type);
    if (out === undefined) throw new ValueProblem(path, `cannot read ${kindOf(value)} as ${type}`);
    return out;
  }
  switch (type.type) {
    case "struct": {
      if (!isObject(value)) {
        throw new ValueProblem(
          path,
          `expected an object for ${describeType(type)}, got ${kindOf(value)}`,
        );
      }
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!type.fields.some((f) => f.name === key)) {
          throw new ValueProblem(
            `${path}.${key}`,
            `the struct has no field "${key}"; its fields are: ${
              type.fields.map((f) => f.name).join(", ")
            }`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const f of type.fields) {
        out[f.name] = nonNull(convert(input[f.name] ?? null, f.type, `${path}.${f.name}`), f, path);
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(value)) {
        throw new ValueProblem(
          path,
          `expected an array for ${describeType(type)}, got ${kindOf(value)}`,
        );
      }
      return value.map((v, i) => {
        const out = convert(v, type.elementType, `${path}[${i}]`);
        if (out === null && !type.containsNull) {
          throw new ValueProblem(`${path}[${i}]`, "is null, but the array holds no nulls");
        }
        return out;
      });
    }
    case "map": {
      // An object keyed by the keys' text, or `[key, value]` pairs (as scan prints maps).
      let entries: [unknown, unknown, string][];
      const keyText = isObject(value);
      if (keyText) {
        entries = Object.entries(value as Record<string, unknown>).map((
          [k, v],
        ) => [k, v, `${path}[${JSON.stringify(k)}]`]);
      } else if (Array.isArray(value) && value.every((e) => Array.isArray(e) && e.length === 2)) {
        entries = (value as [unknown, unknown][]).map(([k, v], i) => [k, v, `${path}[${i}]`]);
      } else {
        throw new ValueProblem(
          path,
          `expected an object or [key, value] pairs for ${describeType(type)}, got ${
            kindOf(value)
          }`,
        );
      }
      const out = new Map<unknown, unknown>();
      for (const [key, v, at] of entries) {
        if (keyText && typeof type.keyType !== "string") {
          throw new ValueProblem(at, `map keys of type ${describeType(type.keyType)} need pairs`);
        }
        const k = keyText && typeof type.keyType === "string"
          ? readPrimitive(key as string, type.keyType)
          : convert(key, type.keyType, `${at}.key`);
        if (k === undefined || k === null) {
          throw new ValueProblem(at, `cannot read the key as ${describeType(type.keyType)}`);
        }
        const converted = convert(v, type.valueType, at);
        if (converted === null && !type.valueContainsNull) {
          throw new ValueProblem(at, "is null, but the map holds no null values");
        }
        out.set(k, converted);
      }
      return out;
    }
  }
}

function nonNull(value: unknown, field: Field, path: string): unknown {
  if (value === null && !field.nullable) {
    throw new ValueProblem(
      `${path}.${field.name}`,
      "is null or missing, but the field is not nullable",
    );
  }
  return value;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof JsonNumber);
}

/** Reads text as one value of a primitive type (booleans as true/false), or undefined. */
export function readPrimitive(text: string, type: PrimitiveType): unknown {
  switch (type) {
    case "byte":
    case "short":
    case "integer": {
      const [min, max] = INTEGER_RANGES[type];
      return readInt(text, min, max);
    }
    case "long": {
      const v = readLong(text);
      return v === undefined ? undefined : BigInt(v);
    }
    case "timestamp":
    case "timestamp_ntz": {
      const v = readDateTime(text, type === "timestamp" ? "required" : "forbidden");
      return v === undefined ? undefined : BigInt(v);
    }
    case "float":
      return readFloat(text);
    case "double":
      return readDouble(text);
    case "boolean": {
      const v = readBoolean(text);
      return v < 0 ? undefined : v === 1;
    }
    case "date":
      return readDate(text);
    case "string":
      return text;
    case "binary":
      return readBase64(text);
    default: {
      const spec = parseDecimal(type);
      return spec ? readDecimal(text, spec.precision, spec.scale) : undefined;
    }
  }
}

/** What inference found at one path: a type, nothing yet (all null), or a clash. */
export type Inferred = ColumnType | undefined;

/** Thrown when a sample holds values of incompatible shapes at one path. */
export class ShapeClash extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** The type a parsed JSON value suggests, or undefined for null. */
export function inferJsonType(value: unknown, path: string): Inferred {
  if (value === null || value === undefined) return undefined;
  if (value instanceof JsonNumber) return classifyJson("number", value.text);
  if (typeof value === "string") return classifyJson("string", value);
  if (typeof value === "boolean") return "boolean";
  if (Array.isArray(value)) {
    let element: Inferred;
    value.forEach((v, i) => {
      element = mergeInferred(element, inferJsonType(v, `${path}[${i}]`), `${path}[${i}]`);
    });
    return { type: "array", elementType: element ?? PENDING, containsNull: true };
  }
  const fields: Field[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const t = inferJsonType(v, `${path}.${key}`);
    fields.push({ name: key, type: t ?? PENDING, nullable: true });
  }
  return { type: "struct", fields };
}

/**
 * A placeholder for a path where only nulls were seen so far; it becomes
 * string when inference ends (`settle`).
 */
const PENDING = "pending" as unknown as PrimitiveType;

/** Joins two inferred types at `path`; throws `ShapeClash` if they cannot join. */
export function mergeInferred(a: Inferred, b: Inferred, path: string): Inferred {
  if (a === undefined || a === PENDING) return b ?? a;
  if (b === undefined || b === PENDING) return a;
  if (typeof a === "string" && typeof b === "string") {
    return mergeTypes(a as InferredType, b as InferredType);
  }
  const shape = (t: ColumnType) =>
    typeof t === "string" ? "a scalar" : t.type === "array" ? "an array" : "an object";
  if (typeof a === "string" || typeof b === "string" || a.type !== b.type) {
    throw new ShapeClash(path, `holds ${shape(a)} in one record and ${shape(b)} in another`);
  }
  if (a.type === "array" && b.type === "array") {
    return {
      type: "array",
      elementType: mergeInferred(a.elementType, b.elementType, `${path}[]`) ?? PENDING,
      containsNull: true,
    };
  }
  if (a.type === "struct" && b.type === "struct") {
    const fields = a.fields.map((f) => ({ ...f }));
    for (const g of b.fields) {
      const f = fields.find((x) => x.name === g.name);
      if (f) f.type = mergeInferred(f.type, g.type, `${path}.${g.name}`) ?? PENDING;
      else fields.push({ ...g });
    }
    return { type: "struct", fields };
  }
  return a;
}

/**
 * Replaces the placeholders of paths that only ever held null by string;
 * throws `ShapeClash` for a struct that never had a field.
 */
export function settle(type: Inferred, path: string): ColumnType {
  if (type === undefined || type === PENDING) return "string";
  if (typeof type === "string") return type;
  switch (type.type) {
    case "struct":
      if (!type.fields.length) {
        throw new ShapeClash(path, "holds only empty objects, which make no struct");
      }
      return {
        type: "struct",
        fields: type.fields.map((f) => ({ ...f, type: settle(f.type, `${path}.${f.name}`) })),
      };
    case "array":
      return { ...type, elementType: settle(type.elementType, `${path}[]`) };
    case "map":
      return {
        ...type,
        keyType: settle(type.keyType, `${path}.key`),
        valueType: settle(type.valueType, `${path}.value`),
      };
  }
}
