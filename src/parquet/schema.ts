/**
 * The mapping between our primitive column types and Parquet schema elements,
 * in both directions: `schemaElementOf` says how a field is written (exactly as
 * Spark and delta-rs write it), `inferPrimitiveType` says which of our types a
 * column of an existing file holds.
 *
 * Invariants: a non-nullable field is REQUIRED, a nullable one OPTIONAL; a
 * decimal of precision p is INT32 when p <= 9, INT64 when p <= 18, and
 * otherwise FIXED_LEN_BYTE_ARRAY of `decimalByteLength(p)` bytes.
 */

import type { SchemaElement, SchemaTree } from "hyparquet";
import type { Field } from "../columnar/batch.ts";
import {
  type ColumnType,
  decimalType,
  describeType,
  parseDecimal,
  type PrimitiveType,
} from "../columnar/types.ts";

/** The name of the root schema element of the files we write. */
export const ROOT_NAME = "root";

/**
 * The fewest bytes that hold every unscaled value of a decimal of
 * `precision` digits in two's complement, as Spark sizes them.
 */
export function decimalByteLength(precision: number): number {
  const limit = 10n ** BigInt(precision);
  let bytes = 1;
  while (1n << BigInt(8 * bytes - 1) < limit) bytes++;
  return bytes;
}

/** The name of a field's column in data files: its physical name, or its name. */
export function columnNameOf(field: Field): string {
  return field.physicalName ?? field.name;
}

/**
 * Returns the Parquet schema element that a primitive field is written as,
 * under its physical name and with its field id when it has them.
 */
export function schemaElementOf(field: Field): SchemaElement {
  const element = primitiveElement(field);
  return field.fieldId === undefined ? element : { ...element, field_id: field.fieldId };
}

/**
 * Returns the schema elements of a field, itself first, then its children
 * depth first. Structs are groups; arrays and maps take the three-level
 * LIST and MAP layouts that Spark and delta-rs write (`list` / `element`,
 * `key_value` / `key` / `value`).
 */
export function elementsOf(field: Field): SchemaElement[] {
  const type = field.type;
  if (typeof type === "string") return [schemaElementOf(field)];
  const repetition_type = field.nullable ? "OPTIONAL" : "REQUIRED";
  const head: SchemaElement = { name: columnNameOf(field), repetition_type };
  if (field.fieldId !== undefined) head.field_id = field.fieldId;
  switch (type.type) {
    case "struct":
      if (!type.fields.length) {
        throw new TypeError(`Cannot write column "${field.name}": a struct needs a field`);
      }
      return [
        { ...head, num_children: type.fields.length },
        ...type.fields.flatMap(elementsOf),
      ];
    case "array":
      return [
        { ...head, converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        ...elementsOf({
          name: "element",
          type: type.elementType,
          nullable: type.containsNull,
          fieldId: type.elementFieldId,
        }),
      ];
    case "map":
      return [
        { ...head, converted_type: "MAP", logical_type: { type: "MAP" }, num_children: 1 },
        { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
        ...elementsOf({
          name: "key",
          type: type.keyType,
          nullable: false,
          fieldId: type.keyFieldId,
        }),
        ...elementsOf({
          name: "value",
          type: type.valueType,
          nullable: type.valueContainsNull,
          fieldId: type.valueFieldId,
        }),
      ];
  }
}

function primitiveElement(field: Field): SchemaElement {
  const repetition_type = field.nullable ? "OPTIONAL" : "REQUIRED";
  const name = columnNameOf(field);
  const type = field.type;
  if (typeof type !== "string") {
    throw new TypeError(
      `Cannot write column "${field.name}" as one leaf: it is ${describeType(type)}`,
    );
  }
  switch (type) {
    // Only the converted type: readers derive INTEGER(8|16, signed) from it,
    // and hyparquet-writer would serialize the logical type's i8 bit width as
    // an i32, which other readers reject.
    case "byte":
      return { name, repetition_type, type: "INT32", converted_type: "INT_8" };
    case "short":
      return { name, repetition_type, type: "INT32", converted_type: "INT_16" };
    case "integer":
      return { name, repetition_type, type: "INT32" };
    case "long":
      return { name, repetition_type, type: "INT64" };
    case "float":
      return { name, repetition_type, type: "FLOAT" };
    case "double":
      return { name, repetition_type, type: "DOUBLE" };
    case "boolean":
      return { name, repetition_type, type: "BOOLEAN" };
    case "string":
      return {
        name,
        repetition_type,
        type: "BYTE_ARRAY",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
    case "binary":
      return { name, repetition_type, type: "BYTE_ARRAY" };
    case "date":
      return {
        name,
        repetition_type,
        type: "INT32",
        converted_type: "DATE",
        logical_type: { type: "DATE" },
      };
    case "timestamp":
      return {
        name,
        repetition_type,
        type: "INT64",
        converted_type: "TIMESTAMP_MICROS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "timestamp_ntz":
      // The converted type TIMESTAMP_MICROS means "adjusted to UTC", so a
      // local timestamp carries only the logical type.
      return {
        name,
        repetition_type,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" },
      };
    default: {
      const spec = parseDecimal(type);
      if (!spec) throw new TypeError(`Cannot write column "${name}": unknown type ${type}`);
      const { precision, scale } = spec;
      const decimal = {
        name,
        repetition_type,
        converted_type: "DECIMAL",
        precision,
        scale,
        logical_type: { type: "DECIMAL", precision, scale },
      } as const;
      if (precision <= 9) return { ...decimal, type: "INT32" };
      if (precision <= 18) return { ...decimal, type: "INT64" };
      return {
        ...decimal,
        type: "FIXED_LEN_BYTE_ARRAY",
        type_length: decimalByteLength(precision),
      };
    }
  }
}

/** Returns the whole flat schema (root first) for a list of fields. */
export function schemaOf(fields: readonly Field[]): SchemaElement[] {
  return [
    { name: ROOT_NAME, num_children: fields.length },
    ...fields.flatMap(elementsOf),
  ];
}

/** Describes a schema element for messages: `INT64 TIMESTAMP(MICROS, UTC)`. */
export function describeElement(element: SchemaElement): string {
  const parts: string[] = [element.type ?? "group"];
  if (element.type === "FIXED_LEN_BYTE_ARRAY") parts[0] += `(${element.type_length})`;
  const logical = element.logical_type;
  if (logical) {
    switch (logical.type) {
      case "TIMESTAMP":
      case "TIME":
        parts.push(
          `${logical.type}(${logical.unit}, ${logical.isAdjustedToUTC ? "UTC" : "local"})`,
        );
        break;
      case "DECIMAL":
        parts.push(`DECIMAL(${logical.precision},${logical.scale})`);
        break;
      case "INTEGER":
        parts.push(`INTEGER(${logical.bitWidth}, ${logical.isSigned ? "signed" : "unsigned"})`);
        break;
      default:
        parts.push(logical.type);
    }
  } else if (element.converted_type) {
    parts.push(
      element.converted_type === "DECIMAL"
        ? `DECIMAL(${element.precision},${element.scale})`
        : element.converted_type,
    );
  }
  return parts.join(" ");
}

/** The unit of a timestamp column, or undefined if it is not a timestamp. */
export type TimestampUnit = "MILLIS" | "MICROS" | "NANOS" | "INT96";

/** What a leaf column of a file holds, in our terms. */
export interface LeafKind {
  /** The type we read it as by default, or undefined if we have none. */
  type: PrimitiveType | undefined;
  /** The timestamp unit as stored, for conversion to microseconds. */
  timestampUnit?: TimestampUnit;
  /** True for a TIMESTAMP adjusted to UTC (or a legacy UTC timestamp). */
  utc?: boolean;
  /** Integer width and signedness as stored, for INT32/INT64 integers. */
  bitWidth?: number;
  signed?: boolean;
}

/** Classifies a primitive (leaf) schema element. */
export function leafKind(element: SchemaElement): LeafKind {
  const { type, converted_type: ctype, logical_type: ltype } = element;
  if (ctype === "DECIMAL" || ltype?.type === "DECIMAL") {
    const precision = ltype?.type === "DECIMAL" ? ltype.precision : element.precision;
    const scale = ltype?.type === "DECIMAL" ? ltype.scale : element.scale ?? 0;
    if (precision === undefined || precision < 1 || precision > 38) return { type: undefined };
    return { type: decimalType(precision, scale ?? 0) };
  }
  switch (type) {
    case "BOOLEAN":
      return { type: "boolean" };
    case "FLOAT":
      return { type: "float" };
    case "DOUBLE":
      return { type: "double" };
    case "INT96":
      return { type: "timestamp", timestampUnit: "INT96", utc: true };
    case "BYTE_ARRAY":
      if (
        ctype === "UTF8" || ctype === "ENUM" || ctype === "JSON" ||
        ltype?.type === "STRING" || ltype?.type === "ENUM" || ltype?.type === "JSON"
      ) return { type: "string" };
      if (ltype || ctype) return { type: undefined };
      return { type: "binary" };
    case "FIXED_LEN_BYTE_ARRAY":
      if (ltype?.type === "UUID" || (!ltype && !ctype)) return { type: "binary" };
      return { type: undefined };
    case "INT32": {
      if (ctype === "DATE" || ltype?.type === "DATE") return { type: "date" };
      const int = integerAnnotation(element, 32);
      if (!int) return { type: undefined };
      const { bitWidth, signed } = int;
      let t: PrimitiveType | undefined;
      if (signed) t = bitWidth <= 8 ? "byte" : bitWidth <= 16 ? "short" : "integer";
      else t = bitWidth <= 8 ? "short" : bitWidth <= 16 ? "integer" : "long";
      return { type: t, bitWidth, signed };
    }
    case "INT64": {
      if (ltype?.type === "TIMESTAMP") {
        const utc = ltype.isAdjustedToUTC;
        return { type: utc ? "timestamp" : "timestamp_ntz", timestampUnit: ltype.unit, utc };
      }
      if (ctype === "TIMESTAMP_MICROS" || ctype === "TIMESTAMP_MILLIS") {
        const unit = ctype === "TIMESTAMP_MICROS" ? "MICROS" : "MILLIS";
        return { type: "timestamp", timestampUnit: unit, utc: true };
      }
      const int = integerAnnotation(element, 64);
      if (!int || !int.signed) return { type: undefined, ...int };
      return { type: "long", bitWidth: 64, signed: true };
    }
    default:
      return { type: undefined };
  }
}

function integerAnnotation(
  element: SchemaElement,
  physicalBits: number,
): { bitWidth: number; signed: boolean } | undefined {
  const { converted_type: ctype, logical_type: ltype } = element;
  if (ltype?.type === "INTEGER") return { bitWidth: ltype.bitWidth, signed: ltype.isSigned };
  if (ltype) return undefined;
  if (!ctype) return { bitWidth: physicalBits, signed: true };
  const match = /^(U?)INT_(8|16|32|64)$/.exec(ctype);
  if (!match) return undefined;
  return { bitWidth: Number(match[2]), signed: match[1] === "" };
}

/**
 * Infers our fields from a file's top-level columns, nested ones included
 * (groups as structs, LIST and MAP annotated groups, and bare repeated fields
 * as arrays). Columns we have no type for (such as TIME or unsigned 64-bit
 * integers) are refused with an error that names them and their path.
 */
export function inferFields(root: SchemaTree, fileName: string): Field[] {
  return root.children.map((child) => {
    const element = child.element;
    const repeated = element.repetition_type === "REPEATED";
    const type = typeOfTree(child, fileName, [element.name]);
    return {
      name: element.name,
      // A bare repeated field is a required list of required elements.
      type: repeated ? { type: "array", elementType: type, containsNull: false } : type,
      nullable: element.repetition_type === "OPTIONAL",
    };
  });
}

/**
 * The fields of the group at `path` below the root (such as a checkpoint's
 * `add.stats_parsed.minValues`), inferred as `inferFields` infers columns;
 * a field with no matching type is left out rather than refused. Empty when
 * there is no such group.
 */
export function groupFields(root: SchemaTree, path: readonly string[], fileName: string): Field[] {
  let node: SchemaTree | undefined = root;
  for (const name of path) node = node?.children.find((c) => c.element.name === name);
  if (!node?.children.length) return [];
  return node.children.flatMap((child) => {
    try {
      return inferFields({ ...node, children: [child] }, fileName);
    } catch {
      return [];
    }
  });
}

/** Our type for a schema node, ignoring its own repetition. */
function typeOfTree(tree: SchemaTree, fileName: string, path: string[]): ColumnType {
  const element = tree.element;
  const where = () => `Cannot read column "${path.join(".")}" of ${fileName}`;
  if (!tree.children.length) {
    const type = element.type ? leafKind(element).type : undefined;
    if (!type) {
      throw new TypeError(`${where()}: ${describeElement(element)} has no matching column type`);
    }
    return type;
  }
  const annotation = element.logical_type?.type ?? element.converted_type;
  const only = tree.children.length === 1 ? tree.children[0]! : undefined;
  if (annotation === "LIST" && only && only.element.repetition_type === "REPEATED") {
    // The three-level layout, or a legacy two-level one whose repeated field
    // is the element itself (a primitive, or a group of several fields).
    const threeLevel = only.children.length === 1 && only.element.name !== "array" &&
      only.element.name !== `${element.name}_tuple`;
    const item = threeLevel ? only.children[0]! : only;
    const elementType = threeLevel ? typeOfTree(item, fileName, [...path, "element"]) : typeOfTree(
      { ...only, element: { ...only.element, repetition_type: "REQUIRED" } },
      fileName,
      [
        ...path,
        "element",
      ],
    );
    const out: ColumnType = {
      type: "array",
      elementType,
      containsNull: threeLevel ? item.element.repetition_type !== "REQUIRED" : false,
    };
    if (threeLevel && item.element.field_id !== undefined) {
      out.elementFieldId = item.element.field_id;
    }
    return out;
  }
  if (
    (annotation === "MAP" || annotation === "MAP_KEY_VALUE") && only &&
    only.element.repetition_type === "REPEATED" && only.children.length === 2
  ) {
    const [key, value] = only.children as [SchemaTree, SchemaTree];
    const out: ColumnType = {
      type: "map",
      keyType: typeOfTree(key, fileName, [...path, "key"]),
      valueType: typeOfTree(value, fileName, [...path, "value"]),
      valueContainsNull: value.element.repetition_type !== "REQUIRED",
    };
    if (key.element.field_id !== undefined) out.keyFieldId = key.element.field_id;
    if (value.element.field_id !== undefined) out.valueFieldId = value.element.field_id;
    return out;
  }
  return {
    type: "struct",
    fields: tree.children.map((c) => {
      const repeated = c.element.repetition_type === "REPEATED";
      const type = typeOfTree(c, fileName, [...path, c.element.name]);
      const field: Field = {
        name: c.element.name,
        type: repeated ? { type: "array", elementType: type, containsNull: false } : type,
        nullable: c.element.repetition_type === "OPTIONAL",
      };
      if (c.element.field_id !== undefined) field.fieldId = c.element.field_id;
      return field;
    }),
  };
}

/** True if two schema elements describe the same physical and logical column. */
export function sameElement(a: SchemaElement, b: SchemaElement): boolean {
  return a.name === b.name &&
    a.type === b.type &&
    (a.field_id ?? -1) === (b.field_id ?? -1) &&
    (a.type_length ?? 0) === (b.type_length ?? 0) &&
    (a.repetition_type ?? "REQUIRED") === (b.repetition_type ?? "REQUIRED") &&
    (a.num_children ?? 0) === (b.num_children ?? 0) &&
    (a.converted_type ?? "") === (b.converted_type ?? "") &&
    (a.scale ?? 0) === (b.scale ?? 0) &&
    (a.precision ?? 0) === (b.precision ?? 0) &&
    logicalKey(a.logical_type) === logicalKey(b.logical_type);
}

function logicalKey(logical: SchemaElement["logical_type"]): string {
  if (!logical) return "";
  const l = logical as Record<string, unknown>;
  return [l.type, l.precision, l.scale, l.unit, l.isAdjustedToUTC, l.bitWidth, l.isSigned].join(
    "|",
  );
}
