/**
 * Checks that a schema may define a new table, before version 0 is
 * committed: a table whose schema names a type nothing can write fails every
 * later write, so `create` refuses it and names the column and the type.
 *
 * Reading stays lenient (`schema.ts` keeps unknown type names, so tables of
 * other engines open); these checks apply only to tables neuralake creates.
 *
 * Invariants: every type is a Delta primitive (decimals with
 * 1 <= precision <= 38 and 0 <= scale <= precision) or a struct, array or map
 * of such; every struct has fields, with names unique regardless of case;
 * errors name the column by its path (`a.b`, `tags.element`, `m.key`).
 */

import { parseDecimal, parsePrimitiveType } from "../columnar/types.ts";
import type { DataType, StructType } from "./schema.ts";

/** Type names people write for Delta's, with the Delta name. */
const ALIASES: Record<string, string> = {
  int: "integer",
  int32: "integer",
  bigint: "long",
  int64: "long",
  smallint: "short",
  int16: "short",
  tinyint: "byte",
  int8: "byte",
  bool: "boolean",
  str: "string",
  text: "string",
  varchar: "string",
  float32: "float",
  real: "float",
  float64: "double",
  datetime: "timestamp",
  bytes: "binary",
  decimal: "decimal(10,0)",
};

/** Delta types that exist but that neuralake cannot create a table with. */
const UNSUPPORTED = new Set(["variant", "void", "interval", "char", "geometry", "geography"]);

/**
 * Throws if `schema` cannot define a new table. `where` names the schema's
 * origin in messages (a file name).
 *
 * @example
 * ```ts
 * checkNewSchema({ type: "struct", fields: [{ name: "a", type: "weird", nullable: true, metadata: {} }] });
 * // throws: Invalid schema: column "a" has unknown type "weird"
 * ```
 */
export function checkNewSchema(schema: StructType, where?: string): void {
  const fail = (message: string): never => {
    throw new TypeError(`Invalid schema${where ? ` in ${where}` : ""}: ${message}`);
  };
  if (schema.fields.length === 0) fail("a table needs at least one column");
  checkStruct(schema, "", fail);
}

function checkStruct(struct: StructType, path: string, fail: (message: string) => never): void {
  if (path && struct.fields.length === 0) {
    fail(`column "${path}" is a struct without fields: give it at least one`);
  }
  const seen = new Map<string, string>();
  for (const field of struct.fields) {
    const name = path ? `${path}.${field.name}` : field.name;
    const lower = field.name.toLowerCase();
    const earlier = seen.get(lower);
    if (earlier !== undefined) {
      fail(
        `columns "${path ? `${path}.${earlier}` : earlier}" and "${name}" have the same name ` +
          "(Delta column names ignore case)",
      );
    }
    seen.set(lower, field.name);
    checkType(field.type, name, fail);
  }
}

function checkType(type: DataType, path: string, fail: (message: string) => never): void {
  if (typeof type !== "string") {
    if (type.type === "struct") return checkStruct(type, path, fail);
    if (type.type === "array") return checkType(type.elementType, `${path}.element`, fail);
    checkType(type.keyType, `${path}.key`, fail);
    return checkType(type.valueType, `${path}.value`, fail);
  }
  if (parsePrimitiveType(type)) return;
  const lower = type.trim().toLowerCase();
  if (/^decimal\s*\(/.test(lower) && !parseDecimal(lower)) {
    fail(
      `column "${path}" has type "${type}": a decimal(p,s) needs 1 <= p <= 38 and 0 <= s <= p`,
    );
  }
  if (parsePrimitiveType(lower)) {
    fail(`column "${path}" has type "${type}": type names are lower case, "${lower}"`);
  }
  if (UNSUPPORTED.has(lower.replace(/\(.*$/, ""))) {
    fail(`column "${path}" has type "${type}", which neuralake cannot create a table with`);
  }
  const alias = ALIASES[lower];
  fail(
    `column "${path}" has unknown type "${type}": ${
      alias
        ? `did you mean "${alias}"?`
        : "use byte, short, integer, long, float, double, boolean, string, binary, date, timestamp, timestamp_ntz, decimal(p,s), or a struct, array or map"
    }`,
  );
}

/**
 * Checks the JSON shape of a schema a person wrote, before it is parsed:
 * `nullable`, `containsNull` and `valueContainsNull` must be booleans and
 * `metadata` an object where given (parsing would otherwise read a string
 * "false" as true), and every field needs a name and a type.
 */
export function checkSchemaJson(value: unknown, where: string): void {
  const fail = (path: string, message: string): never => {
    throw new TypeError(
      `Invalid schema in ${where}: ${path ? `column "${path}" ` : ""}${message}`,
    );
  };
  const fieldsOf = (v: unknown, path: string): unknown[] => {
    if (Array.isArray(v)) return v;
    if (isObject(v) && v.type === "struct" && Array.isArray(v.fields)) return v.fields;
    return fail(path, `is not a struct: expected {"type":"struct","fields":[...]}`);
  };
  const flag = (v: Record<string, unknown>, key: string, path: string) => {
    if (key in v && typeof v[key] !== "boolean") {
      fail(path, `has "${key}": ${JSON.stringify(v[key])}; it must be true or false`);
    }
  };
  const type = (t: unknown, path: string): void => {
    if (typeof t === "string") return;
    if (!isObject(t)) return fail(path, `has "type": ${JSON.stringify(t) ?? "missing"}`);
    if (t.type === "struct") return struct(t, path);
    if (t.type === "array") {
      flag(t, "containsNull", path);
      if (!("elementType" in t)) fail(path, `is an array without "elementType"`);
      return type(t.elementType, `${path}.element`);
    }
    if (t.type === "map") {
      flag(t, "valueContainsNull", path);
      if (!("keyType" in t) || !("valueType" in t)) {
        fail(path, `is a map without "keyType" and "valueType"`);
      }
      type(t.keyType, `${path}.key`);
      return type(t.valueType, `${path}.value`);
    }
    fail(path, `has unknown type ${JSON.stringify(t.type)}: use struct, array or map`);
  };
  const struct = (v: unknown, path: string): void => {
    fieldsOf(v, path).forEach((f, i) => {
      if (!isObject(f) || typeof f.name !== "string" || f.name === "") {
        return fail(path, `field ${i + 1} needs a non-empty "name"`);
      }
      const name = path ? `${path}.${f.name}` : f.name;
      if (!("type" in f)) fail(name, `has no "type"`);
      flag(f, "nullable", name);
      if ("metadata" in f && !isObject(f.metadata)) {
        fail(name, `has "metadata": ${JSON.stringify(f.metadata)}; it must be an object`);
      }
      type(f.type, name);
    });
  };
  struct(value, "");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
