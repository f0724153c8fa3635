/**
 * Fills column batches from text values, one record at a time: the shared
 * back end of the CSV and NDJSON sources.
 *
 * Invariants:
 * - values go straight into pre-sized typed arrays (`allocateValues`) of
 *   `capacity` rows; a null bitmap is allocated only for a column that meets
 *   a null, so the hot path allocates nothing per row but the values
 *   themselves (strings, bigints beyond 2^53, binary);
 * - every field of a record is set exactly once: a field not set by
 *   `endRow()` is null, or an error if it is not nullable; setting one twice
 *   is an error;
 * - every error is an `InputError` naming the file, the record's line and the
 *   column.
 */

import {
  allocateValues,
  type ColumnBatch,
  type ColumnValues,
  type Field,
} from "../columnar/batch.ts";
import { type ColumnType, describeType, INTEGER_RANGES, parseDecimal } from "../columnar/types.ts";
import { InputError } from "../util/errors.ts";
import {
  cannotRead,
  locate,
  readBase64,
  readBoolean,
  readDecimal,
  readDouble,
  readFloat,
  readInt,
  readLong,
} from "./coerce.ts";
import { readDate, readDateTime } from "./coerce_time.ts";
import { readJsonValue } from "./json_value.ts";

/** Stores one text value at a row; false if the text does not fit the type. */
type Writer = (text: string, row: number) => boolean;

/** Options of a `BatchBuilder`. */
export interface BatchBuilderOptions {
  /** The input's name for messages (`-` for stdin). */
  file: string;
  /** Rows per batch. */
  capacity: number;
  /**
   * Set when the fields were inferred, to the number of records they were
   * inferred from; it turns up in the advice of value errors.
   */
  inferredFrom?: number | undefined;
}

/** Builds batches of `fields` from text values, `capacity` rows at a time. */
export class BatchBuilder {
  /** The columns of every batch. */
  readonly fields: Field[];
  /** The 1-based line of the record being set, for messages. */
  line = 0;
  readonly #file: string;
  readonly #capacity: number;
  readonly #advice: string | undefined;
  #rows = 0;
  #serial = 1;
  #values: ColumnValues[] = [];
  #nulls: (Uint8Array | undefined)[] = [];
  #writers: Writer[] = [];
  /** The serial of the last record that set each field. */
  readonly #setIn: Float64Array;

  constructor(fields: Field[], options: BatchBuilderOptions) {
    this.fields = fields;
    this.#file = options.file;
    this.#capacity = options.capacity;
    this.#advice = options.inferredFrom === undefined ? undefined : `the type was inferred ` +
      `from the first ${options.inferredFrom} records: pass a schema, or infer from more records`;
    this.#setIn = new Float64Array(fields.length);
    this.#allocate();
  }

  /** Rows set so far in the current batch. */
  get rows(): number {
    return this.#rows;
  }

  /** Sets field `index` of the current record from text. */
  setText(index: number, text: string): void {
    this.#claim(index);
    if (!this.#writers[index]!(text, this.#rows)) {
      const where = { file: this.#file, line: this.line, column: this.fields[index]!.name };
      const type = this.fields[index]!.type;
      if (typeof type !== "string") throw new TypeError("Nested writers report their own errors");
      throw cannotRead(text, type, where, this.#advice);
    }
  }

  /**
   * Sets field `index` of the current record from the JSON text of an
   * object or array, which only a nested column takes.
   */
  setJson(index: number, text: string): void {
    const type = this.fields[index]!.type;
    if (typeof type === "string") {
      this.#claim(index);
      const what = text.startsWith("[") ? "an array" : "an object";
      throw new InputError(
        locate(
          `holds ${what}, but the column is ${type}: give a ${type} value, or make the ` +
            "column nested in the schema",
          this.#where(index),
        ),
        this.#where(index),
      );
    }
    this.setText(index, text);
  }

  /** Sets field `index` of the current record to null. */
  setNull(index: number): void {
    this.#claim(index);
    this.#setNull(index);
  }

  /**
   * Ends the current record, setting the fields it did not set to null.
   * Returns true when the batch is full and should be taken.
   */
  endRow(): boolean {
    const serial = this.#serial;
    const setIn = this.#setIn;
    for (let i = 0; i < setIn.length; i++) {
      if (setIn[i] !== serial) this.#setNull(i);
    }
    this.#serial++;
    return ++this.#rows === this.#capacity;
  }

  /**
   * Drops the rows after the first `rows` and the record being set, so that
   * a message that turned out bad leaves nothing behind (Kafka ingest adds a
   * message's rows all or none).
   */
  rollback(rows: number): void {
    if (rows < 0 || rows > this.#rows) throw new RangeError(`Cannot roll back to row ${rows}`);
    for (const nulls of this.#nulls) nulls?.fill(0, rows, this.#rows + 1);
    this.#rows = rows;
    this.#serial++;
  }

  /** Returns the rows so far as a batch, or undefined if there are none, and starts anew. */
  take(): ColumnBatch | undefined {
    const length = this.#rows;
    if (length === 0) return undefined;
    const full = length === this.#capacity;
    const columns = this.#values.map((values, i) => {
      const nulls = this.#nulls[i];
      return full
        ? { values, nulls }
        : { values: truncate(values, length), nulls: nulls?.subarray(0, length) };
    });
    this.#allocate();
    return { fields: this.fields, columns, length };
  }

  #claim(index: number): void {
    if (this.#setIn[index] === this.#serial) {
      throw new InputError(
        locate(`appears twice in one record: keep one value per column`, this.#where(index)),
        this.#where(index),
      );
    }
    this.#setIn[index] = this.#serial;
  }

  #setNull(index: number): void {
    if (!this.fields[index]!.nullable) {
      throw new InputError(
        locate(
          "no value, and the column is not nullable: give a value, or make the column " +
            "nullable in the schema",
          this.#where(index),
        ),
        this.#where(index),
      );
    }
    let nulls = this.#nulls[index];
    if (nulls === undefined) this.#nulls[index] = nulls = new Uint8Array(this.#capacity);
    nulls[this.#rows] = 1;
  }

  #where(index: number): { file: string; line: number; column: string } {
    return { file: this.#file, line: this.line, column: this.fields[index]!.name };
  }

  #allocate(): void {
    this.#rows = 0;
    this.#values = this.fields.map((f) => allocateValues(f.type, this.#capacity));
    this.#nulls = this.fields.map(() => undefined);
    this.#writers = this.fields.map((f, i) =>
      typeof f.type === "string"
        ? writerFor(f.type, this.#values[i]!)
        : this.#nestedWriter(i, this.#values[i] as unknown[])
    );
  }

  /** A writer that reads JSON text as a nested value, naming the path of a problem. */
  #nestedWriter(index: number, out: unknown[]): Writer {
    const field = this.fields[index]!;
    const type = field.type as Exclude<ColumnType, string>;
    return (text, row) => {
      const read = readJsonValue(text, type, field.name);
      if ("value" in read) {
        out[row] = read.value;
        return true;
      }
      const tail = this.#advice === undefined ? "" : `; ${this.#advice}`;
      throw new InputError(
        locate(
          `${read.path}: ${read.problem} (the column is ${describeType(type)})${tail}`,
          this.#where(index),
        ),
        this.#where(index),
      );
    };
  }
}

function truncate(values: ColumnValues, length: number): ColumnValues {
  if (Array.isArray(values)) {
    values.length = length;
    return values;
  }
  return (values as Int32Array).subarray(0, length) as ColumnValues;
}

/** Makes the writer that coerces text of `type` into `values`. */
function writerFor(type: Exclude<ColumnType, object>, values: ColumnValues): Writer {
  switch (type) {
    case "byte":
    case "short":
    case "integer": {
      const out = values as Int32Array;
      const [min, max] = INTEGER_RANGES[type];
      return (text, row) => {
        const value = readInt(text, min, max);
        if (value === undefined) return false;
        out[row] = value;
        return true;
      };
    }
    case "long": {
      const out = values as BigInt64Array;
      return (text, row) => {
        const value = readLong(text);
        if (value === undefined) return false;
        out[row] = typeof value === "number" ? BigInt(value) : value;
        return true;
      };
    }
    case "timestamp":
    case "timestamp_ntz": {
      const out = values as BigInt64Array;
      const zone = type === "timestamp" ? "required" : "forbidden";
      return (text, row) => {
        const value = readDateTime(text, zone);
        if (value === undefined) return false;
        out[row] = typeof value === "number" ? BigInt(value) : value;
        return true;
      };
    }
    case "float":
    case "double": {
      const out = values as Float32Array | Float64Array;
      const read = type === "float" ? readFloat : readDouble;
      return (text, row) => {
        const value = read(text);
        if (value === undefined) return false;
        out[row] = value;
        return true;
      };
    }
    case "boolean": {
      const out = values as Uint8Array;
      return (text, row) => {
        const value = readBoolean(text);
        if (value < 0) return false;
        out[row] = value;
        return true;
      };
    }
    case "date": {
      const out = values as Int32Array;
      return (text, row) => {
        const value = readDate(text);
        if (value === undefined) return false;
        out[row] = value;
        return true;
      };
    }
    case "string": {
      const out = values as string[];
      return (text, row) => {
        out[row] = text;
        return true;
      };
    }
    case "binary": {
      const out = values as Uint8Array[];
      return (text, row) => {
        const value = readBase64(text);
        if (value === undefined) return false;
        out[row] = value;
        return true;
      };
    }
    default: {
      const spec = parseDecimal(type);
      if (spec === undefined) throw new TypeError(`Unknown column type ${type}`);
      const out = values as bigint[];
      return (text, row) => {
        const value = readDecimal(text, spec.precision, spec.scale);
        if (value === undefined) return false;
        out[row] = value;
        return true;
      };
    }
  }
}
