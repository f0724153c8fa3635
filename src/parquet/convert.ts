/**
 * Which stored Parquet types can be read as which of our types (exact
 * conversions and the widenings Delta allows), and the schema element the
 * decoder plans from: annotations are removed where the value is read raw
 * (decimals, timestamps in other units, text that is not UTF-8). The
 * conversions themselves are `fastPlanOf`'s (`physical.ts`).
 *
 * Invariants: every conversion is exact (timestamps are floored to
 * microseconds, as Spark does); a pair of types with no exact conversion is
 * refused by `planConversion` before any data is read.
 */

import type { SchemaElement } from "hyparquet";
import type { Field } from "../columnar/batch.ts";
import { parseDecimal, representationOf } from "../columnar/types.ts";
import { describeElement, type LeafKind } from "./schema.ts";

/** How one file column becomes one wanted field. */
export interface ConversionPlan {
  /** The element the decoder reads (annotations removed as needed). */
  element: SchemaElement;
}

/** Integer digits each integer type needs, for widening to decimals. */
const INTEGER_DIGITS: Record<string, number> = { byte: 3, short: 5, integer: 10, long: 19 };

/**
 * Plans reading a file column as `field`, or throws an error naming the
 * column, the file and both types.
 */
export function planConversion(
  element: SchemaElement,
  kind: LeafKind,
  field: Field,
  fileName: string,
): ConversionPlan {
  const plan = plan0(element, kind, field);
  if (!plan) {
    throw new TypeError(
      `Cannot read column "${element.name}" of ${fileName} as ${field.type}: the file stores it as ${
        describeElement(element)
      }${kind.type ? ` (${kind.type})` : ""}`,
    );
  }
  return plan;
}

function raw(element: SchemaElement): SchemaElement {
  const { converted_type: _c, logical_type: _l, ...rest } = element;
  return rest;
}

/** Keeps a UTF-8 annotation (hyparquet decodes those); other text is decoded by us. */
function utf8Element(element: SchemaElement): SchemaElement {
  const utf8 = element.converted_type === "UTF8" || element.logical_type?.type === "STRING";
  return utf8 ? element : raw(element);
}

function plan0(element: SchemaElement, kind: LeafKind, field: Field): ConversionPlan | undefined {
  const from = kind.type;
  const to = field.type;
  if (from === undefined || typeof to !== "string") return undefined;
  const source = representationOf(from);
  // Same type: copy.
  if (from === to) {
    if (from === "timestamp" || from === "timestamp_ntz") return timestampPlan(element, kind);
    if (source === "decimal") return decimalPlan(element);
    if (source === "string") return { element: utf8Element(element) };
    if (source === "binary") return { element: raw(element) };
    if (source === "bool") return { element };
    // Unsigned 32-bit values keep their annotation so they decode unsigned.
    const ints = kind.signed === false ? element : raw(element);
    return { element: ints };
  }
  if (to === "string" && from === "binary") return { element: raw(element) };
  if (to === "binary" && from === "string") return { element: raw(element) };
  const intRank = ["byte", "short", "integer", "long"];
  const fi = intRank.indexOf(from);
  const ti = intRank.indexOf(to);
  const ints = kind.signed === false ? element : raw(element);
  if (fi >= 0 && ti > fi) {
    return { element: ints };
  }
  if (to === "double" && (from === "float" || (fi >= 0 && fi < 3))) {
    return { element: ints };
  }
  if (to === "timestamp_ntz" && from === "date") {
    return { element: raw(element) };
  }
  const wanted = parseDecimal(to);
  if (wanted) {
    const have = parseDecimal(from);
    if (have) {
      const up = wanted.scale - have.scale;
      if (up >= 0 && wanted.precision - wanted.scale >= have.precision - have.scale) {
        return decimalPlan(element);
      }
      return undefined;
    }
    if (fi >= 0 && wanted.precision - wanted.scale >= INTEGER_DIGITS[from]!) {
      return decimalPlan(element);
    }
  }
  return undefined;
}

function timestampPlan(element: SchemaElement, kind: LeafKind): ConversionPlan {
  // INT96 keeps its element: the decoder reads it as a timestamp only without annotations.
  return { element: kind.timestampUnit === "INT96" ? element : raw(element) };
}

function decimalPlan(element: SchemaElement): ConversionPlan {
  return { element: raw(element) };
}
