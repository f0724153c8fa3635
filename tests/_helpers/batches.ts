/**
 * Builds column batches from row objects, for tests. Values use the column
 * representations of `src/columnar/batch.ts` (bigint for int64 types and
 * decimals, numbers of days for dates, booleans for booleans).
 */

import { allocateValues, type ColumnBatch, type Field } from "../../src/columnar/batch.ts";
import { type Scalar, setScalar } from "../../src/columnar/scalar.ts";
import type { RecordSource } from "../../src/sources/source.ts";

/** A batch with the given fields holding the given rows. */
export function batchOf(fields: Field[], rows: Record<string, Scalar | undefined>[]): ColumnBatch {
  return {
    fields,
    length: rows.length,
    columns: fields.map((field) => {
      const values = allocateValues(field.type, rows.length);
      let nulls: Uint8Array | undefined;
      rows.forEach((row, i) => {
        const v = row[field.name];
        if (v === null || v === undefined) {
          nulls ??= new Uint8Array(rows.length);
          nulls[i] = 1;
        } else setScalar(values, i, v);
      });
      return { values, nulls };
    }),
  };
}

/** A record source over batches already in memory. */
export function sourceOf(...batches: ColumnBatch[]): RecordSource {
  return {
    fields: batches[0]!.fields,
    async *batches() {
      for (const b of batches) yield b;
    },
  };
}
