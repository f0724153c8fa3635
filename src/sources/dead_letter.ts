/**
 * The dead-letter table of Kafka ingest (its rows; the role writes them): one row per message that could not
 * be parsed or did not fit the table's schema, with where it came from
 * (topic, partition, offset), its key and value byte for byte, and why.
 *
 * Invariant: a dead letter is written exactly once, like a row. Its batch is
 * committed to the dead-letter table with the same `txn` appId as the
 * partition's rows (`<group>:<topic>:<partition>`), before the rows, at the
 * batch's last offset; a batch read again after a crash skips the letters at
 * or below that version (`lettersToWrite`).
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";

/** The columns of a dead-letter table. */
export const DEAD_LETTER_FIELDS: Field[] = [
  { name: "topic", type: "string", nullable: false },
  { name: "partition", type: "integer", nullable: false },
  { name: "offset", type: "long", nullable: false },
  { name: "timestamp", type: "timestamp", nullable: true },
  { name: "key", type: "binary", nullable: true },
  { name: "value", type: "binary", nullable: true },
  { name: "error", type: "string", nullable: false },
  { name: "dead_lettered_at", type: "timestamp", nullable: false },
];

/** A message that did not become rows, and why. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: bigint;
  /** The message's time stamp, in ms since the epoch, if it has one. */
  timestamp: bigint | undefined;
  key: Uint8Array | null;
  value: Uint8Array | null;
  error: string;
}

/**
 * The letters still to write: those after the version the dead-letter
 * table's marker for the partition holds (all of them without a marker).
 */
export function lettersToWrite(
  letters: readonly DeadLetter[],
  deadLettered: number | undefined,
): DeadLetter[] {
  if (deadLettered === undefined) return [...letters];
  const after = BigInt(deadLettered);
  return letters.filter((l) => l.offset > after);
}

/** The letters as a batch of the dead-letter table's columns, stamped `nowMs`. */
export function deadLetterBatch(letters: readonly DeadLetter[], nowMs: number): ColumnBatch {
  const n = letters.length;
  const partition = new Int32Array(n);
  const offset = new BigInt64Array(n);
  const timestamp = new BigInt64Array(n);
  const timestampNulls = new Uint8Array(n);
  const keyNulls = new Uint8Array(n);
  const valueNulls = new Uint8Array(n);
  const at = new BigInt64Array(n).fill(BigInt(nowMs) * 1000n);
  letters.forEach((l, i) => {
    partition[i] = l.partition;
    offset[i] = l.offset;
    if (l.timestamp === undefined) timestampNulls[i] = 1;
    else timestamp[i] = l.timestamp * 1000n;
    if (l.key === null) keyNulls[i] = 1;
    if (l.value === null) valueNulls[i] = 1;
  });
  const empty = new Uint8Array(0);
  return {
    fields: DEAD_LETTER_FIELDS,
    length: n,
    columns: [
      { values: letters.map((l) => l.topic) },
      { values: partition },
      { values: offset },
      { values: timestamp, nulls: timestampNulls },
      { values: letters.map((l) => l.key ?? empty), nulls: keyNulls },
      { values: letters.map((l) => l.value ?? empty), nulls: valueNulls },
      { values: letters.map((l) => l.error) },
      { values: at },
    ],
  };
}
