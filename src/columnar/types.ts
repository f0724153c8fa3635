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

/** A field of a struct type, and of a column batch. */
export interface ColumnField {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /**
   * The name the field has in data files, when it differs from `name`
   * (Delta column mapping); `name` is always the logical name.
   */
  physicalName?: string | undefined;
  /** The Parquet field id of the field in data files (Delta column mapping, id mode). */
  fieldId?: number | undefined;
}

/** A struct: named fields, each maybe null. */
export interface StructColumnType {
  type: "struct";
  fields: ColumnField[];
  /**
   * True for a Delta `variant` column: the struct is its Parquet group of
   * two binaries, `value` and `metadata` (`variantType()`), and its values
   * print as the variant they encode (`variant.ts`).
   */
  variant?: true | undefined;
}

/**
 * The batch type of a Delta `variant` column: the unshredded Parquet group
 * of VariantEncoding.md, two required binaries matched by name.
 */
export function variantType(): StructColumnType {
  return {
    type: "struct",
    variant: true,
    fields: [
      { name: "value", type: "binary", nullable: false },
      { name: "metadata", type: "binary", nullable: false },
    ],
  };
}

/** True if `type` is or holds (at any depth) a variant. */
export function holdsVariant(type: ColumnType): boolean {
  if (typeof type === "string") return false;
  switch (type.type) {
    case "struct":
      return type.variant === true || type.fields.some((f) => holdsVariant(f.type));
    case "array":
      return holdsVariant(type.elementType);
    case "map":
      return holdsVariant(type.keyType) || holdsVariant(type.valueType);
  }
}

/** True if `type` is a variant column's type (see `variantType`). */
export function isVariant(type: ColumnType): type is StructColumnType & { variant: true } {
  return typeof type !== "string" && type.type === "struct" && type.variant === true;
}

/** An array of elements of one type. */
export interface ArrayColumnType {
  type: "array";
  elementType: ColumnType;
  containsNull: boolean;
  /** The Parquet field id of the element (column mapping, id mode). */
  elementFieldId?: number | undefined;
}

/** A map from keys of one type to values of another. */
export interface MapColumnType {
  type: "map";
  keyType: ColumnType;
  valueType: ColumnType;
  valueContainsNull: boolean;
  /** The Parquet field ids of the key and the value (column mapping, id mode). */
  keyFieldId?: number | undefined;
  valueFieldId?: number | undefined;
}

/** A nested type, shaped as Delta's schema JSON shapes it. */
export type NestedType = StructColumnType | ArrayColumnType | MapColumnType;

/** The type of a column: primitive or nested. */
export type ColumnType = PrimitiveType | NestedType;

/** Describes a column type for messages: `integer`, `array<struct<a:long>>`. */
export function describeType(type: ColumnType): string {
  if (typeof type === "string") return type;
  switch (type.type) {
    case "array":
      return `array<${describeType(type.elementType)}>`;
    case "map":
      return `map<${describeType(type.keyType)},${describeType(type.valueType)}>`;
    case "struct":
      if (type.variant) return "variant";
      return `struct<${type.fields.map((f) => `${f.name}:${describeType(f.type)}`).join(",")}>`;
  }
}

/** True if two column types are the same (names, types and nullability). */
export function sameType(a: ColumnType, b: ColumnType): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.type === "array" && b.type === "array") {
    return a.containsNull === b.containsNull && sameType(a.elementType, b.elementType);
  }
  if (a.type === "map" && b.type === "map") {
    return a.valueContainsNull === b.valueContainsNull && sameType(a.keyType, b.keyType) &&
      sameType(a.valueType, b.valueType);
  }
  if (a.type === "struct" && b.type === "struct") {
    if (a.variant !== b.variant) return false;
    return a.fields.length === b.fields.length && a.fields.every((f, i) => {
      const g = b.fields[i]!;
      return f.name === g.name && f.nullable === g.nullable && sameType(f.type, g.type);
    });
  }
  return false;
}

/**
 * True if every value of type `have` is a value of type `want`: the same
 * shape and names, where `have` may forbid nulls that `want` allows.
 */
export function fitsType(have: ColumnType, want: ColumnType): boolean {
  if (typeof have === "string" || typeof want === "string") return have === want;
  if (have.type === "array" && want.type === "array") {
    return (want.containsNull || !have.containsNull) &&
      fitsType(have.elementType, want.elementType);
  }
  if (have.type === "map" && want.type === "map") {
    return (want.valueContainsNull || !have.valueContainsNull) &&
      fitsType(have.keyType, want.keyType) && fitsType(have.valueType, want.valueType);
  }
  if (have.type === "struct" && want.type === "struct") {
    if (have.variant !== want.variant) return false;
    return have.fields.length === want.fields.length && have.fields.every((f, i) => {
      const g = want.fields[i]!;
      return f.name === g.name && (g.nullable || !f.nullable) && fitsType(f.type, g.type);
    });
  }
  return false;
}

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
  | "decimal"
  | "nested";

/** Returns how values of a type are held in memory (see `batch.ts`). */
export function representationOf(type: PrimitiveType): Exclude<Representation, "nested">;
export function representationOf(type: ColumnType): Representation;
export function representationOf(type: ColumnType): Representation {
  if (typeof type !== "string") return "nested";
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
