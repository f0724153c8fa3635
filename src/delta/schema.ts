/**
 * The table schema as Delta serialises it (`metaData.schemaString`, a subset
 * of Spark's JSON schema), and its bridge to the flat, primitive fields of a
 * column batch.
 *
 * Invariant: a parsed schema round-trips to the same JSON structure; column
 * names are unique regardless of case, as the protocol requires.
 */

import type { Field } from "../columnar/batch.ts";
import { parsePrimitiveType, type PrimitiveType } from "../columnar/types.ts";
import { UnsupportedFeatureError } from "./errors.ts";

/** A data type: a type name (primitive or not), or a nested type. */
export type DataType = string | StructType | ArrayType | MapType;

/** A struct, also the type of the whole table. */
export interface StructType {
  type: "struct";
  fields: StructField[];
}

/** A field of a struct. */
export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

/** An array type. */
export interface ArrayType {
  type: "array";
  elementType: DataType;
  containsNull: boolean;
}

/** A map type. */
export interface MapType {
  type: "map";
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}

/** Parses `metaData.schemaString`. */
export function parseSchemaString(schemaString: string): StructType {
  let value: unknown;
  try {
    value = JSON.parse(schemaString);
  } catch (error) {
    throw new Error("Cannot parse the table schema: schemaString is not JSON", { cause: error });
  }
  const schema = checkStruct(value, "schema");
  checkUniqueNames(schema);
  return schema;
}

/**
 * Parses a schema given by a user: either a Delta struct
 * (`{"type":"struct","fields":[...]}`) or a bare array of fields.
 */
export function parseSchemaJson(value: unknown, where: string): StructType {
  const struct = Array.isArray(value) ? { type: "struct", fields: value } : value;
  const schema = checkStruct(struct, where);
  checkUniqueNames(schema);
  return schema;
}

/** Serialises a schema as `schemaString`. */
export function schemaToString(schema: StructType): string {
  return JSON.stringify(schema);
}

function checkStruct(value: unknown, where: string): StructType {
  if (!isObject(value) || value.type !== "struct" || !Array.isArray(value.fields)) {
    throw new Error(`Invalid schema at ${where}: expected {"type":"struct","fields":[...]}`);
  }
  return {
    type: "struct",
    fields: value.fields.map((f, i) => checkField(f, `${where}.fields[${i}]`)),
  };
}

function checkField(value: unknown, where: string): StructField {
  if (!isObject(value) || typeof value.name !== "string" || value.name === "") {
    throw new Error(`Invalid schema at ${where}: a field needs a non-empty "name"`);
  }
  const name = value.name;
  return {
    name,
    type: checkType(value.type, `${where} ("${name}")`),
    nullable: value.nullable !== false,
    metadata: isObject(value.metadata) ? value.metadata : {},
  };
}

function checkType(value: unknown, where: string): DataType {
  if (typeof value === "string") {
    return parsePrimitiveType(value) ?? value;
  }
  if (!isObject(value)) throw new Error(`Invalid schema at ${where}: "type" is missing`);
  switch (value.type) {
    case "struct":
      return checkStruct(value, where);
    case "array":
      return {
        type: "array",
        elementType: checkType(value.elementType, `${where}.elementType`),
        containsNull: value.containsNull !== false,
      };
    case "map":
      return {
        type: "map",
        keyType: checkType(value.keyType, `${where}.keyType`),
        valueType: checkType(value.valueType, `${where}.valueType`),
        valueContainsNull: value.valueContainsNull !== false,
      };
    default:
      throw new Error(`Invalid schema at ${where}: unknown type ${JSON.stringify(value.type)}`);
  }
}

function checkUniqueNames(schema: StructType): void {
  const seen = new Set<string>();
  for (const field of schema.fields) {
    const lower = field.name.toLowerCase();
    if (seen.has(lower)) {
      throw new Error(`Invalid schema: column "${field.name}" appears twice (names ignore case)`);
    }
    seen.add(lower);
  }
}

/** Describes a data type for messages: `integer`, `struct`, `array<string>`. */
export function typeName(type: DataType): string {
  if (typeof type === "string") return type;
  if (type.type === "array") return `array<${typeName(type.elementType)}>`;
  if (type.type === "map") return `map<${typeName(type.keyType)},${typeName(type.valueType)}>`;
  return "struct";
}

/** Returns the primitive type of a field, or undefined if it is nested or unknown. */
export function primitiveTypeOf(field: StructField): PrimitiveType | undefined {
  return typeof field.type === "string" ? parsePrimitiveType(field.type) : undefined;
}

/**
 * Converts schema fields into batch fields. Nested and unknown types are
 * refused with an error that names the column and its type.
 */
export function toBatchFields(fields: readonly StructField[]): Field[] {
  return fields.map((f) => {
    const type = primitiveTypeOf(f);
    if (!type) {
      throw new UnsupportedFeatureError(
        "nestedColumns",
        `Column "${f.name}" has type ${
          typeName(f.type)
        }: neuralake reads and writes only primitive columns (nestedColumns); choose other columns with --columns`,
      );
    }
    return { name: f.name, type, nullable: f.nullable };
  });
}

/** Builds a schema from batch fields. */
export function schemaFromFields(fields: readonly Field[]): StructType {
  const schema: StructType = {
    type: "struct",
    fields: fields.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable, metadata: {} })),
  };
  checkUniqueNames(schema);
  return schema;
}

/** Finds a top-level field by exact name. */
export function fieldByName(schema: StructType, name: string): StructField | undefined {
  return schema.fields.find((f) => f.name === name);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
