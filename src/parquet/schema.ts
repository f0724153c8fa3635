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
import { decimalType, parseDecimal, type PrimitiveType } from "../columnar/types.ts";

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

/** Returns the Parquet schema element that a field is written as. */
export function schemaElementOf(field: Field): SchemaElement {
  const repetition_type = field.nullable ? "OPTIONAL" : "REQUIRED";
  const name = field.name;
  switch (field.type) {
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
      const spec = parseDecimal(field.type);
      if (!spec) throw new TypeError(`Cannot write column "${name}": unknown type ${field.type}`);
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
    ...fields.map(schemaElementOf),
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
 * Infers our fields from a file's top-level columns. Nested columns are
 * refused with an error that names them; so are primitive columns we have no
 * type for (such as TIME or unsigned 64-bit integers).
 */
export function inferFields(root: SchemaTree, fileName: string): Field[] {
  return root.children.map((child) => {
    const element = child.element;
    const name = element.name;
    if (child.children.length || !element.type || element.repetition_type === "REPEATED") {
      throw new TypeError(
        `Cannot read column "${name}" of ${fileName}: it is nested (${
          describeElement(element)
        }); only primitive columns can be read as rows`,
      );
    }
    const type = leafKind(element).type;
    if (!type) {
      throw new TypeError(
        `Cannot read column "${name}" of ${fileName}: ${
          describeElement(element)
        } has no matching column type`,
      );
    }
    return { name, type, nullable: element.repetition_type !== "REQUIRED" };
  });
}

/** True if two schema elements describe the same physical and logical column. */
export function sameElement(a: SchemaElement, b: SchemaElement): boolean {
  return a.name === b.name &&
    a.type === b.type &&
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
