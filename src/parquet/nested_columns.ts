/**
 * Nested columns of a batch (struct, array, map, any nesting of them) to and
 * from Parquet column chunks. Writing shreds each top-level value into its
 * leaf columns with hyparquet-writer's Dremel encoder; reading assembles rows
 * with hyparquet and converts every value into our representation (see
 * `columnar/batch.ts`). Our typed-array encoder and decoder stay for flat
 * columns: nested ones are rarer and their cost is in assembly, not pages.
 *
 * Invariants: values are matched to the file by field id when the field has
 * one, else by physical name, else by name, at every level; a struct field
 * the file lacks reads as null; in memory a struct is keyed by logical names
 * and a map is a `Map` whose keys have the key type's representation. Stats
 * are collected only for the primitive leaves reached through structs alone
 * (never inside arrays or maps), as Delta collects them.
 */

import { parquetRead, type SchemaElement, type SchemaTree } from "hyparquet";
import type { ByteWriter } from "hyparquet-writer";
import type { Field } from "../columnar/batch.ts";
import {
  type ColumnType,
  describeType,
  holdsVariant,
  type PrimitiveType,
  representationOf,
} from "../columnar/types.ts";
import { encodeNestedValues, writeColumn } from "./_hyparquet.ts";
import { asyncBufferOf } from "./byte_source.ts";
import { DECOMPRESSORS } from "./codecs.ts";
import type { WriterChunk } from "./column_writer.ts";
import type { ParquetFile, RowGroupInfo } from "./metadata.ts";
import { columnNameOf } from "./schema.ts";
import { isShredded, rawElements, unshred, withoutConversions } from "./variant_shredding.ts";
import { bigintFromBytes, type ColumnStats, compareStatValues, floorDiv } from "./stats.ts";

/** How the chunks of a nested column are written. */
export interface NestedWriteOptions {
  codec: string;
  compressors: Record<string, (input: Uint8Array) => Uint8Array>;
  pageSize: number;
}

/**
 * Writes rows [start, end) of a nested column as one chunk per leaf, and
 * returns the chunks and the column's statistics.
 */
export function writeNestedColumn(
  writer: ByteWriter,
  root: SchemaTree,
  tree: SchemaTree,
  field: Field,
  column: { values: unknown; nulls?: Uint8Array | undefined },
  start: number,
  end: number,
  options: NestedWriteOptions,
): { chunks: WriterChunk[]; stats: ColumnStats } {
  const values = column.values as unknown[];
  const nulls = column.nulls;
  const rows = new Array<unknown>(end - start);
  const physical = hasPhysicalNames(field.type);
  for (let i = start; i < end; i++) {
    const v = nulls?.[i] === 1 ? null : values[i] ?? null;
    rows[i - start] = physical ? toPhysical(v, field.type) : v;
  }
  const chunks: WriterChunk[] = [];
  for (const path of leafPaths([root, tree])) {
    const schemaPath = path.map((n) => n.element);
    const encoder = {
      columnName: schemaPath.slice(1).map((s) => s.name).join("."),
      element: schemaPath.at(-1)!,
      schemaPath,
      codec: options.codec,
      compressors: options.compressors,
      stats: true,
      statisticsTruncateLength: Infinity,
      pageSize: options.pageSize,
      columnIndex: false,
      offsetIndex: false,
    };
    let pageData;
    try {
      pageData = encodeNestedValues(path, rows);
    } catch (error) {
      throw new TypeError(
        `Cannot encode column "${field.name}" (${describeType(field.type)}): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    chunks.push(writeColumn({ writer, column: encoder, pageData }).chunk as WriterChunk);
  }
  return { chunks, stats: nestedStats(field.type, values, nulls, start, end) };
}

function leafPaths(path: SchemaTree[]): SchemaTree[][] {
  const node = path.at(-1)!;
  if (!node.children.length) return [path];
  return node.children.flatMap((c) => leafPaths([...path, c]));
}

function hasPhysicalNames(type: ColumnType): boolean {
  if (typeof type === "string") return false;
  switch (type.type) {
    case "struct":
      return type.fields.some((f) =>
        (f.physicalName !== undefined && f.physicalName !== f.name) || hasPhysicalNames(f.type)
      );
    case "array":
      return hasPhysicalNames(type.elementType);
    case "map":
      return hasPhysicalNames(type.keyType) || hasPhysicalNames(type.valueType);
  }
}

/** Re-keys structs from logical to physical names, at every level. */
function toPhysical(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined || typeof type === "string") return value;
  switch (type.type) {
    case "struct": {
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields) out[columnNameOf(f)] = toPhysical(input[f.name], f.type);
      return out;
    }
    case "array":
      return (value as unknown[]).map((v) => toPhysical(v, type.elementType));
    case "map": {
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value as Map<unknown, unknown>) {
        out.set(toPhysical(k, type.keyType), toPhysical(v, type.valueType));
      }
      return out;
    }
  }
}

/**
 * The statistics of rows [start, end) of a nested column: its own null count
 * and, for a struct, its children's by physical name (primitive leaves get
 * min and max; arrays and maps inside get nothing).
 */
export function nestedStats(
  type: ColumnType,
  values: readonly unknown[],
  nulls: Uint8Array | undefined,
  start: number,
  end: number,
): ColumnStats {
  let nullCount = 0;
  const rows: unknown[] = [];
  for (let i = start; i < end; i++) {
    const v = nulls?.[i] === 1 ? null : values[i] ?? null;
    if (v === null) nullCount++;
    rows.push(v);
  }
  const out: ColumnStats = { nullCount };
  if (typeof type !== "string" && type.type === "struct") out.fields = structStats(type, rows);
  return out;
}

function structStats(
  type: { fields: Field[] },
  rows: readonly unknown[],
): Record<string, ColumnStats> {
  const out: Record<string, ColumnStats> = {};
  for (const f of type.fields) {
    const child = rows.map((r) =>
      r === null || r === undefined ? null : (r as Record<string, unknown>)[f.name] ?? null
    );
    const key = columnNameOf(f);
    if (typeof f.type === "string") out[key] = leafStats(f.type, child);
    else if (f.type.type === "struct") {
      out[key] = {
        nullCount: child.filter((v) => v === null).length,
        fields: structStats(f.type, child),
      };
    }
  }
  return out;
}

function leafStats(type: PrimitiveType, values: readonly unknown[]): ColumnStats {
  const out: ColumnStats = { nullCount: 0 };
  const rep = representationOf(type);
  const float = rep === "float32" || rep === "float64";
  let nanCount = 0;
  for (const v of values) {
    if (v === null || v === undefined) {
      out.nullCount++;
      continue;
    }
    if (float && Number.isNaN(v)) {
      nanCount++;
      continue;
    }
    const s = v as NonNullable<ColumnStats["min"]>;
    if (out.min === undefined || compareStatValues(s, out.min) < 0) out.min = s;
    if (out.max === undefined || compareStatValues(s, out.max) > 0) out.max = s;
  }
  if (float) out.nanCount = nanCount;
  return out;
}

/** Keeps a value's leading U+FEFF, as the flat path does (plain.ts). */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => v * 1000n,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => floorDiv(v, 1000n),
  dateFromDays: (v: number) => v,
};

/** Finds the file's top-level column for a field: by field id, else by (physical) name. */
export function findColumnTree(file: ParquetFile, field: Field): SchemaTree | undefined {
  return childFor(file.schema, field);
}

function childFor(tree: SchemaTree, field: Field): SchemaTree | undefined {
  if (field.fieldId !== undefined) {
    const byId = tree.children.find((c) => c.element.field_id === field.fieldId);
    if (byId) return byId;
  }
  const name = columnNameOf(field);
  return tree.children.find((c) => c.element.name === name);
}

/**
 * Reads a nested column of the given row groups into `values` (and `nulls`)
 * from row `at`, converting every value to our representation.
 */
export async function readNestedColumn(
  file: ParquetFile,
  groups: readonly RowGroupInfo[],
  field: Field,
  tree: SchemaTree,
  target: { values: unknown[]; nulls: Uint8Array; at?: number },
): Promise<void> {
  // Decimals are read raw and converted here: hyparquet would make them floats.
  // Under a shredded variant every value is read raw (variant_shredding.ts
  // converts it), and a VARIANT group is assembled as the struct it is.
  const raw = holdsVariant(field.type) ? rawElements(tree) : undefined;
  const schema = file.metadata.schema.map((element) =>
    raw?.has(element)
      ? withoutConversions(element)
      : element.converted_type === "DECIMAL" || element.logical_type?.type === "DECIMAL"
      ? withoutDecimal(element)
      : element
  );
  const name = tree.element.name;
  let at = target.at ?? 0;
  for (const group of groups) {
    let rows: Record<string, unknown>[] = [];
    try {
      await parquetRead({
        file: asyncBufferOf(file.source),
        metadata: { ...file.metadata, schema },
        columns: [name],
        rowStart: group.rowStart,
        rowEnd: group.rowStart + group.numRows,
        compressors: DECOMPRESSORS,
        utf8: false,
        rowFormat: "object",
        parsers: PARSERS,
        onComplete: (result) => {
          rows = result as Record<string, unknown>[];
        },
      });
    } catch (error) {
      throw new Error(
        `Cannot read column "${field.name}" of ${file.name} (row group ${group.index}): ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    for (let i = 0; i < rows.length; i++) {
      const v = fromFile(rows[i]![name], field.type, tree, file.name, field.name);
      if (v === null) target.nulls[at + i] = 1;
      else target.values[at + i] = v;
    }
    at += group.numRows;
  }
}

function withoutDecimal(element: SchemaElement): SchemaElement {
  const { converted_type: _c, logical_type: _l, ...rest } = element;
  return rest;
}

/** Converts one value as hyparquet assembled it into our representation of `type`. */
function fromFile(
  value: unknown,
  type: ColumnType,
  tree: SchemaTree,
  fileName: string,
  path: string,
): unknown {
  if (value === null || value === undefined) return null;
  const fail = (what: string): never => {
    throw new TypeError(
      `Cannot read column "${path}" of ${fileName} as ${describeType(type)}: ${what}`,
    );
  };
  if (typeof type === "string") return primitiveFromFile(value, type, fail);
  switch (type.type) {
    case "struct": {
      if (typeof value !== "object" || Array.isArray(value)) return fail("it is not a struct");
      if (type.variant && isShredded(tree)) {
        try {
          return unshred(value as Record<string, unknown>, tree);
        } catch (error) {
          return fail((error as Error).message);
        }
      }
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields) {
        const child = childFor(tree, f);
        if (!child) {
          out[f.name] = null;
          continue;
        }
        out[f.name] = fromFile(
          input[child.element.name],
          f.type,
          child,
          fileName,
          `${path}.${f.name}`,
        );
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(value)) return fail("it is not a list");
      const item = listItem(tree);
      return value.map((v, i) => fromFile(v, type.elementType, item, fileName, `${path}[${i}]`));
    }
    case "map": {
      if (typeof value !== "object") return fail("it is not a map");
      const entries = tree.children[0]!;
      const keyAt = entries.children.findIndex((c) => c.element.name === "key");
      const k = keyAt < 0 ? 0 : keyAt;
      const keyTree = entries.children[k]!;
      const valueTree = entries.children[1 - k]!;
      if (typeof type.keyType !== "string") {
        return fail("maps with nested keys are not read");
      }
      const out = new Map<unknown, unknown>();
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const parsedKey = mapKey(key, type.keyType, keyTree, fail);
        out.set(parsedKey, fromFile(v, type.valueType, valueTree, fileName, `${path}[${key}]`));
      }
      return out;
    }
  }
}

/** The element node of a list node, for the three- and two-level layouts. */
function listItem(tree: SchemaTree): SchemaTree {
  const repeated = tree.children[0];
  if (!repeated) return tree;
  if (repeated.children.length === 1 && repeated.element.name !== "array") {
    return repeated.children[0]!;
  }
  return repeated;
}

/** hyparquet keys maps by the key's text: turn it back into the key type. */
function mapKey(
  key: string,
  type: PrimitiveType,
  _tree: SchemaTree,
  fail: (what: string) => never,
): unknown {
  switch (representationOf(type)) {
    case "string":
      return key;
    case "int32":
    case "float32":
    case "float64":
      return Number(key);
    case "int64":
    case "decimal":
      return BigInt(key);
    case "bool":
      return key === "true";
    default:
      return fail(`map keys of type ${type} are not read`);
  }
}

function primitiveFromFile(
  value: unknown,
  type: PrimitiveType,
  fail: (what: string) => never,
): unknown {
  switch (representationOf(type)) {
    case "int32":
      if (typeof value === "bigint") return Number(value);
      if (typeof value !== "number") fail(`a value is ${typeof value}`);
      return value;
    case "int64":
      if (typeof value === "number") return BigInt(value);
      if (typeof value !== "bigint") fail(`a value is ${typeof value}`);
      return value;
    case "float32":
    case "float64":
      if (typeof value !== "number") fail(`a value is ${typeof value}`);
      return value;
    case "bool":
      if (typeof value !== "boolean") fail(`a value is ${typeof value}`);
      return value;
    case "string":
      if (value instanceof Uint8Array) return utf8.decode(value);
      if (typeof value !== "string") fail(`a value is ${typeof value}`);
      return value;
    case "binary":
      if (typeof value === "string") return new TextEncoder().encode(value);
      if (!(value instanceof Uint8Array)) fail(`a value is ${typeof value}`);
      return value;
    case "decimal": {
      if (typeof value === "bigint") return value;
      if (typeof value === "number") return BigInt(value);
      if (value instanceof Uint8Array) return bigintFromBytes(value);
      return fail(`a value is ${typeof value}`);
    }
  }
}
