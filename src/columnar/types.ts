/**
 * The primitive column types, named as Delta names them in a schema. Every
 * layer speaks these names: the Parquet encoder maps them to physical types,
 * the Delta schema embeds them, sources coerce text into them.
 *
 * Invariant: a decimal type is always spelled `decimal(p,s)` with no spaces,
 * 1 <= p <= 38 and 0 <= s <= p.
 */

/** The primitive type names that carry no parameters. */
export const SIMPLE_TYPES = [
  "byte",
  "short",
  "integer",
  "long",
  "float",
  "double",
  "boolean",
  "string",
  "binary",
  "date",
  "timestamp",
  "timestamp_ntz",
] as const;

/** A primitive type without parameters. */
export type SimpleType = typeof SIMPLE_TYPES[number];

/** A decimal type, such as `decimal(10,2)`. */
export type DecimalTypeName = `decimal(${number},${number})`;

/** Any primitive column type. */
export type PrimitiveType = SimpleType | DecimalTypeName;

/** Precision and scale of a decimal type. */
export interface DecimalSpec {
  precision: number;
  scale: number;
}

const SIMPLE = new Set<string>(SIMPLE_TYPES);

/** True if `name` is a simple primitive type name. */
export function isSimpleType(name: string): name is SimpleType {
  return SIMPLE.has(name);
}

/**
 * Parses a primitive type name, accepting `decimal(p, s)` with spaces and
 * returning the canonical spelling, or `undefined` if it is not primitive.
 */
export function parsePrimitiveType(name: string): PrimitiveType | undefined {
  if (isSimpleType(name)) return name;
  const spec = parseDecimal(name);
  return spec ? decimalType(spec.precision, spec.scale) : undefined;
}

/** Returns precision and scale if `name` is a decimal type. */
export function parseDecimal(name: string): DecimalSpec | undefined {
  const match = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(name);
  if (!match) return undefined;
  const precision = Number(match[1]);
  const scale = Number(match[2]);
  if (precision < 1 || precision > 38 || scale > precision) return undefined;
  return { precision, scale };
}

/** Spells a decimal type canonically. */
export function decimalType(precision: number, scale: number): DecimalTypeName {
  return `decimal(${precision},${scale})`;
}

/** The in-memory representation family that a type's values use. */
export type Representation =
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "bool"
  | "string"
  | "binary"
  | "decimal";

/** Returns how values of a type are held in memory (see `batch.ts`). */
export function representationOf(type: PrimitiveType): Representation {
  switch (type) {
    case "byte":
    case "short":
    case "integer":
    case "date":
      return "int32";
    case "long":
    case "timestamp":
    case "timestamp_ntz":
      return "int64";
    case "float":
      return "float32";
    case "double":
      return "float64";
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "binary":
      return "binary";
    default:
      return "decimal";
  }
}

/** The inclusive range of each narrow integer type. */
export const INTEGER_RANGES: Record<"byte" | "short" | "integer", [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
