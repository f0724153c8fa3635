/**
 * The one door to hyparquet's and hyparquet-writer's private modules
 * (`src/*.js`), which their packages do not export. Everything we use from
 * them is re-exported here, typed, so that a version bump is checked in one
 * place. No other module imports a library's `src/` path (a test checks).
 */

import type { DecodedArray, SchemaTree } from "hyparquet";
import type { Writer } from "hyparquet-writer/src/types.js";
import { writeColumn as writeColumnJs } from "hyparquet-writer/src/column.js";
import { encodeNestedValues as encodeNestedValuesJs } from "hyparquet-writer/src/dremel.js";

// Reading: page headers, pages, PLAIN values, conversions, schema shapes, enums.
export { parquetHeader } from "hyparquet/src/column.js";
export { convert, convertWithDictionary, DEFAULT_PARSERS } from "hyparquet/src/convert.js";
export { decompressPage, readDataPage, readDataPageV2 } from "hyparquet/src/datapage.js";
export { readPlain } from "hyparquet/src/plain.js";
export { isListLike, isMapLike } from "hyparquet/src/schema.js";
export {
  CompressionCodecs,
  ConvertedTypes,
  Encodings,
  FieldRepetitionTypes,
  PageTypes,
  ParquetTypes,
} from "hyparquet/src/constants.js";

// Writing: page headers, DELTA_BINARY_PACKED, the pure-JS Snappy, the writer type.
export { writePageHeader } from "hyparquet-writer/src/datapage.js";
export { deltaBinaryPack } from "hyparquet-writer/src/delta.js";
export { snappyCompress } from "hyparquet-writer/src/snappy.js";
export type { Writer };

/** One leaf column's values with their definition and repetition levels. */
export interface PageData {
  values: DecodedArray;
  definitionLevels: number[];
  repetitionLevels: number[];
  maxDefinitionLevel: number;
}

/** Shreds top-level values into one leaf's values and levels (Dremel). */
export const encodeNestedValues = encodeNestedValuesJs as (
  treePath: SchemaTree[],
  rows: unknown[],
) => PageData;

/** Writes one leaf column chunk (pages, dictionary, statistics) at the writer's offset. */
export const writeColumn = writeColumnJs as unknown as (options: {
  writer: Writer;
  column: Record<string, unknown>;
  pageData: PageData;
}) => { chunk: unknown };
