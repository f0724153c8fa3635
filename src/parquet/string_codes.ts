/**
 * String columns held as codes: an `Int32Array` of ids into a dictionary
 * that grows as values are met (`StringCodes`). Merging many small files
 * whose string columns are dictionary-encoded reads each file's dictionary
 * page into ids once and its index runs straight into the codes, and the
 * encoder writes the codes back as dictionary indexes: no string per row is
 * gathered, kept in a million-entry array, or hashed again.
 *
 * Invariants: ids are dense, 0..size-1, in first-seen order; equal strings
 * have one id; a coded column's `values[i]` is the id of row i (null rows
 * hold an id of 0 that no reader looks at).
 */

import type { Column } from "../columnar/batch.ts";

/** A dictionary of distinct strings, each with a dense id in first-seen order. */
export class StringCodes {
  /** The strings, by id. */
  readonly values: string[] = [];
  readonly #ids = new Map<string, number>();

  /** Distinct strings so far. */
  get size(): number {
    return this.values.length;
  }

  /** The id of `value`, given a new one if it was not met before. */
  intern(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.#ids.set(value, id);
    }
    return id;
  }
}

/** A string column held as codes. */
export interface CodedColumn extends Column {
  values: Int32Array;
  codes: StringCodes;
}

/** Whether a column holds its strings as codes. */
export function isCoded(column: Column): column is CodedColumn {
  return (column as Partial<CodedColumn>).codes instanceof StringCodes;
}

/** The strings of rows [0, length) of a coded column, as a plain string column's values. */
export function decodeStrings(column: CodedColumn, length: number): string[] {
  const out = new Array<string>(length);
  const { values, codes } = column;
  const strings = codes.values;
  for (let i = 0; i < length; i++) out[i] = strings[values[i]!] ?? "";
  return out;
}
