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

// Reading: page headers (Thrift) and the footer's enums; pages and values are our own.
export { parquetHeader } from "hyparquet/src/column.js";
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
