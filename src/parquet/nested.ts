/**
 * Nested Parquet for Delta checkpoints: a small `NestedField` schema (structs,
 * string-keyed maps, lists and our primitive types) and `encodeRecords`, which
 * writes JS records through hyparquet-writer's Dremel encoder.
 *
 * The layout is the one Spark and delta-rs write and read: a map is an
 * annotated group holding a repeated `key_value` group of a required `key`
 * and an optional `value`; a list is an annotated group holding a repeated
 * `list` group of one `element`. Fields are OPTIONAL unless `nullable` is
 * false. Values are normalized before encoding (numbers to bigint for 64-bit
 * columns and back), so callers may pass either.
 */

import type { SchemaElement } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { type PrimitiveType, representationOf } from "../columnar/types.ts";
import { type Codec, CODECS, compressorFor } from "./codecs.ts";
import { schemaElementOf } from "./schema.ts";

/** The type of a nested field. */
export type NestedType =
  | PrimitiveType
  | { struct: NestedField[] }
  | { map: { key: PrimitiveType; value: NestedType; valueNullable?: boolean } }
  | { list: NestedType; elementNullable?: boolean };

/** A named field of a nested schema. */
export interface NestedField {
  name: string;
  type: NestedType;
  /** @default true */
  nullable?: boolean;
}

/** How nested records are encoded. */
export interface NestedEncodeOptions {
  /** @default "SNAPPY" */
  codec?: Codec;
  /** Compression level for ZSTD and GZIP. */
  level?: number;
  /** @default 100_000 */
  rowGroupRows?: number;
  /** @default "neuralake" */
  createdBy?: string;
}

/** Returns the schema elements of a nested schema, root first. */
export function nestedSchema(fields: readonly NestedField[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: "root", num_children: fields.length }];
  for (const field of fields) addField(out, field.name, field.type, field.nullable ?? true);
  return out;
}

function addField(out: SchemaElement[], name: string, type: NestedType, nullable: boolean): void {
  const repetition_type = nullable ? "OPTIONAL" : "REQUIRED";
  if (typeof type === "string") {
    out.push(schemaElementOf({ name, type, nullable }));
  } else if ("struct" in type) {
    out.push({ name, repetition_type, num_children: type.struct.length });
    for (const child of type.struct) addField(out, child.name, child.type, child.nullable ?? true);
  } else if ("map" in type) {
    out.push({
      name,
      repetition_type,
      converted_type: "MAP",
      logical_type: { type: "MAP" },
      num_children: 1,
    });
    out.push({ name: "key_value", repetition_type: "REPEATED", num_children: 2 });
    addField(out, "key", type.map.key, false);
    addField(out, "value", type.map.value, type.map.valueNullable ?? true);
  } else {
    out.push({
      name,
      repetition_type,
      converted_type: "LIST",
      logical_type: { type: "LIST" },
      num_children: 1,
    });
    out.push({ name: "list", repetition_type: "REPEATED", num_children: 1 });
    addField(out, "element", type.list, type.elementNullable ?? true);
  }
}

/**
 * Encodes records as nested Parquet. Maps may be given as `Map`s or plain
 * objects; 64-bit columns accept bigint or safe-integer numbers.
 *
 * @example
 * ```ts
 * const bytes = encodeRecords(
 *   [{ name: "add", type: { struct: [
 *     { name: "path", type: "string" },
 *     { name: "partitionValues", type: { map: { key: "string", value: "string" } } },
 *   ] } }],
 *   [{ add: { path: "part-0.parquet", partitionValues: { day: "2024-01-01" } } }],
 * ).bytes;
 * ```
 */
export function encodeRecords(
  schema: NestedField[],
  records: Record<string, unknown>[],
  options: NestedEncodeOptions = {},
): { bytes: Uint8Array; numRows: number } {
  const codec = options.codec ?? "SNAPPY";
  if (!CODECS.includes(codec)) {
    throw new RangeError(
      `Cannot encode records with codec "${codec}": use one of ${CODECS.join(", ")}`,
    );
  }
  const compress = compressorFor(codec, options.level);
  const columnData = schema.map((field) => ({
    name: field.name,
    data: records.map((record, row) =>
      normalize(record[field.name], field.type, field.nullable ?? true, field.name, row)
    ),
  }));
  const writer = new ByteWriter();
  const pq = new ParquetWriter({
    writer,
    schema: nestedSchema(schema) as ParquetWriter["schema"],
    codec,
    ...(compress ? { compressors: { [codec]: compress } } : {}),
    createdBy: options.createdBy ?? "neuralake",
  });
  try {
    pq.write({ columnData, rowGroupSize: options.rowGroupRows ?? 100_000 });
    pq.finish();
  } catch (error) {
    throw new Error(`Cannot encode records as Parquet: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { bytes: writer.getBytes().slice(), numRows: records.length };
}

/** Checks and converts one value for its type; `path` names it in errors. */
function normalize(
  value: unknown,
  type: NestedType,
  nullable: boolean,
  path: string,
  row: number,
): unknown {
  if (value === null || value === undefined) {
    if (!nullable) throw new TypeError(`Cannot encode record ${row}: ${path} is required but null`);
    return null;
  }
  const fail = (what: string): never => {
    throw new TypeError(
      `Cannot encode record ${row}: ${path} must be ${what}, got ${describe(value)}`,
    );
  };
  if (typeof type === "string") return primitive(value, type, fail);
  if ("struct" in type) {
    if (typeof value !== "object" || Array.isArray(value)) fail("an object");
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const child of type.struct) {
      out[child.name] = normalize(
        input[child.name],
        child.type,
        child.nullable ?? true,
        `${path}.${child.name}`,
        row,
      );
    }
    return out;
  }
  if ("map" in type) {
    let entries: [unknown, unknown][];
    if (value instanceof Map) entries = [...value.entries()];
    else if (typeof value === "object" && !Array.isArray(value)) entries = Object.entries(value);
    else return fail("a Map or an object");
    const { key, value: valueType, valueNullable } = type.map;
    return entries.map(([k, v]) => ({
      key: normalize(k, key, false, `${path}.key`, row),
      value: normalize(v, valueType, valueNullable ?? true, `${path}[${String(k)}]`, row),
    }));
  }
  if (!Array.isArray(value)) fail("an array");
  return (value as unknown[]).map((v, i) =>
    normalize(v, type.list, type.elementNullable ?? true, `${path}[${i}]`, row)
  );
}

function primitive(value: unknown, type: PrimitiveType, fail: (what: string) => never): unknown {
  switch (representationOf(type)) {
    case "int32":
      if (typeof value === "bigint") return Number(value);
      if (typeof value !== "number" || !Number.isInteger(value)) fail("an integer");
      return value;
    case "int64":
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value !== "bigint") fail("a bigint or safe integer");
      return value;
    case "float32":
    case "float64":
      if (typeof value !== "number") fail("a number");
      return value;
    case "bool":
      if (typeof value !== "boolean") fail("a boolean");
      return value;
    case "string":
      if (typeof value !== "string") fail("a string");
      return value;
    case "binary":
      if (!(value instanceof Uint8Array)) fail("a Uint8Array");
      return value;
    case "decimal":
      if (typeof value !== "bigint") fail("an unscaled bigint");
      return value;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
