/**
 * The table schema as Delta serialises it (`metaData.schemaString`, a subset
 * of Spark's JSON schema), and its bridge to the flat, primitive fields of a
 * column batch.
 *
 * Invariant: a parsed schema round-trips to the same JSON structure; column
 * names are unique regardless of case, as the protocol requires.
 */

import type { Field } from "../columnar/batch.ts";
import {
  type ColumnType,
  parsePrimitiveType,
  type PrimitiveType,
  variantType,
} from "../columnar/types.ts";
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

/** Describes a data type for messages: `integer`, `struct<a:long>`, `array<string>`. */
export function typeName(type: DataType): string {
  if (typeof type === "string") return type;
  if (type.type === "array") return `array<${typeName(type.elementType)}>`;
  if (type.type === "map") return `map<${typeName(type.keyType)},${typeName(type.valueType)}>`;
  return `struct<${type.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(",")}>`;
}

/** Returns the primitive type of a field, or undefined if it is nested or unknown. */
export function primitiveTypeOf(field: StructField): PrimitiveType | undefined {
  return typeof field.type === "string" ? parsePrimitiveType(field.type) : undefined;
}

/** How a table maps logical column names to the names in its data files. */
export type ColumnMappingMode = "none" | "name" | "id";

/** The metadata key of a field's physical name (column mapping). */
export const PHYSICAL_NAME_KEY = "delta.columnMapping.physicalName";
/** The metadata key of a field's column id (column mapping). */
export const COLUMN_ID_KEY = "delta.columnMapping.id";

/**
 * The column mapping mode of a table's configuration; an unknown mode is
 * refused, naming it.
 */
export function columnMappingMode(configuration: Record<string, string>): ColumnMappingMode {
  const mode = configuration["delta.columnMapping.mode"] ?? "none";
  if (mode === "none" || mode === "name" || mode === "id") return mode;
  throw new UnsupportedFeatureError(
    "columnMapping",
    `The table's delta.columnMapping.mode is "${mode}": neuralake knows none, name and id`,
  );
}

/**
 * Converts schema fields into batch fields, nested types included. With
 * column mapping, each field (at every level) carries its physical name,
 * and in id mode its field id, from its metadata. Unknown types are refused
 * with an error that names the column and its type.
 */
export function toBatchFields(
  fields: readonly StructField[],
  mode: ColumnMappingMode = "none",
): Field[] {
  return fields.map((f) => toBatchField(f, mode, f.name));
}

function toBatchField(f: StructField, mode: ColumnMappingMode, path: string): Field {
  const out: Field = { name: f.name, type: toColumnType(f.type, mode, path), nullable: f.nullable };
  if (mode !== "none") {
    const physical = f.metadata[PHYSICAL_NAME_KEY];
    if (typeof physical !== "string" || physical === "") {
      throw new Error(
        `Invalid schema: column "${path}" has no ${PHYSICAL_NAME_KEY}, which column mapping needs`,
      );
    }
    out.physicalName = physical;
    const id = f.metadata[COLUMN_ID_KEY];
    if (mode === "id") {
      if (typeof id !== "number" || !Number.isInteger(id)) {
        throw new Error(
          `Invalid schema: column "${path}" has no ${COLUMN_ID_KEY}, which column mapping by id needs`,
        );
      }
      out.fieldId = id;
    }
  }
  return out;
}

function toColumnType(type: DataType, mode: ColumnMappingMode, path: string): ColumnType {
  if (typeof type === "string") {
    // A variant is read as its Parquet group of two binaries (variantType).
    if (type === "variant") return variantType();
    const primitive = parsePrimitiveType(type);
    if (!primitive) {
      throw new UnsupportedFeatureError(
        type,
        `Column "${path}" has type ${type}, which neuralake does not read or write; choose other columns with --columns`,
      );
    }
    return primitive;
  }
  switch (type.type) {
    case "struct":
      return {
        type: "struct",
        fields: type.fields.map((f) => toBatchField(f, mode, `${path}.${f.name}`)),
      };
    case "array":
      return {
        type: "array",
        elementType: toColumnType(type.elementType, mode, `${path}.element`),
        containsNull: type.containsNull,
      };
    case "map":
      return {
        type: "map",
        keyType: toColumnType(type.keyType, mode, `${path}.key`),
        valueType: toColumnType(type.valueType, mode, `${path}.value`),
        valueContainsNull: type.valueContainsNull,
      };
  }
}

/** The batch fields of a table: its schema under its column mapping mode. */
export function tableFields(schema: StructType, configuration: Record<string, string>): Field[] {
  return toBatchFields(schema.fields, columnMappingMode(configuration));
}

/** Builds a schema from batch fields (nested types included, no column mapping). */
export function schemaFromFields(fields: readonly Field[]): StructType {
  const schema: StructType = { type: "struct", fields: fields.map(structFieldOf) };
  checkUniqueNames(schema);
  return schema;
}

function structFieldOf(f: Field): StructField {
  return { name: f.name, type: dataTypeOf(f.type), nullable: f.nullable, metadata: {} };
}

function dataTypeOf(type: ColumnType): DataType {
  if (typeof type === "string") return type;
  switch (type.type) {
    case "struct":
      if (type.variant) return "variant";
      return { type: "struct", fields: type.fields.map(structFieldOf) };
    case "array":
      return {
        type: "array",
        elementType: dataTypeOf(type.elementType),
        containsNull: type.containsNull,
      };
    case "map":
      return {
        type: "map",
        keyType: dataTypeOf(type.keyType),
        valueType: dataTypeOf(type.valueType),
        valueContainsNull: type.valueContainsNull,
      };
  }
}

/**
 * Gives every field (at every level) a physical name and a column id for a
 * new table with column mapping, numbering ids from `maxColumnId + 1`.
 * Returns the schema and the new largest id (`delta.columnMapping.maxColumnId`).
 */
export function assignColumnMapping(
  schema: StructType,
  maxColumnId = 0,
): { schema: StructType; maxColumnId: number } {
  let next = maxColumnId;
  const field = (f: StructField): StructField => {
    const metadata = { ...f.metadata };
    if (typeof metadata[COLUMN_ID_KEY] !== "number") metadata[COLUMN_ID_KEY] = ++next;
    if (typeof metadata[PHYSICAL_NAME_KEY] !== "string") {
      metadata[PHYSICAL_NAME_KEY] = `col-${crypto.randomUUID()}`;
    }
    return { ...f, type: type(f.type), metadata };
  };
  const type = (t: DataType): DataType => {
    if (typeof t === "string") return t;
    switch (t.type) {
      case "struct":
        return { type: "struct", fields: t.fields.map(field) };
      case "array":
        return { ...t, elementType: type(t.elementType) };
      case "map":
        return { ...t, keyType: type(t.keyType), valueType: type(t.valueType) };
    }
  };
  const out: StructType = { type: "struct", fields: schema.fields.map(field) };
  return { schema: out, maxColumnId: next };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
