/**
 * The shape that every input source shares (CSV, NDJSON, Parquet, the
 * synthetic generator): a schema known up front and a stream of column
 * batches.
 *
 * Invariants of a `RecordSource`:
 * - `fields` is final when the source is returned and every batch uses it;
 * - no batch is empty or longer than the source's `batchRows`;
 * - `batches()` may be iterated once; the input is read as the batches are
 *   consumed, so memory stays bounded by a few batches whatever the input
 *   size, and breaking out of the loop closes the input.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";

/** Rows per batch when a source is given no `batchRows`. */
export const DEFAULT_BATCH_ROWS = 65_536;

/** The name that stands for standard input, in arguments and in messages. */
export const STDIN = "-";

/** A schema and the rows that follow it, as column batches. */
export interface RecordSource {
  /** The columns of every batch, in order. */
  readonly fields: Field[];
  /**
   * The rows, at most `batchRows` per batch. Iterate once: a second call
   * throws. Malformed input rejects with an `InputError` saying where.
   */
  batches(): AsyncIterable<ColumnBatch>;
}
