/**
 * The CSV source: a file or stdin, read as a stream of records into column
 * batches of a given or inferred schema.
 *
 * How records become rows:
 * - with `header` (the default) the first record names the columns; names
 *   must be non-empty and distinct. Without it, a schema's columns are taken
 *   by position, and inferred columns are named `column_1`, `column_2`, …;
 * - with a schema, header columns are matched by name: a column the schema
 *   lacks is an error, a schema column the header lacks is null throughout
 *   (an error if it is not nullable). Batches follow the schema's order;
 * - every record must have as many fields as the header (or the first
 *   record, or the schema without a header); blank lines are skipped, so a
 *   one-column file writes a null as `""`;
 * - a field equal to one of `nullValues` is null; anything else is coerced
 *   to its column's type (`coerce.ts`), and a value that does not fit is an
 *   error naming file, line and column;
 * - without a schema the first `inferRows` records are held back, the schema
 *   is inferred from them (`infer.ts`), and they are replayed ahead of the
 *   rest, which is streamed.
 *
 * Invariant: memory holds at most the inference sample, the batches built
 * from one input chunk and the batch being filled, whatever the input size.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { InputError } from "../util/errors.ts";
import { BatchBuilder } from "./batch_builder.ts";
import { locate } from "./coerce.ts";
import { CsvRecordReader } from "./csv_records.ts";
import { classifyText, InferenceError, TypeSampler } from "./infer.ts";
import type { RecordSource } from "./source.ts";
import {
  indexByName,
  missingColumns,
  openInput,
  type ResolvedTextOptions,
  resolveTextOptions,
  type TextSourceOptions,
  unknownColumn,
} from "./text_source.ts";

/** Options of a CSV source. */
export interface CsvSourceOptions extends TextSourceOptions {
  /**
   * The field separator, such as `,`, `;` or `\t`.
   * @default {","}
   */
  delimiter?: string | undefined;
  /**
   * Whether the first record names the columns.
   * @default {true}
   */
  header?: boolean | undefined;
  /**
   * Field texts that stand for null. Give `[]` to read empty fields as empty
   * strings (and as errors in columns of other types).
   * @default {[""]}
   */
  nullValues?: string[] | undefined;
}

/**
 * Opens a CSV file, or stdin for `-`. Resolves once the schema is known: the
 * header is read and, without a schema, the inference sample too.
 *
 * @example
 * ```ts
 * const source = await openCsvSource("spikes.csv", { batchRows: 10_000 });
 * console.log(source.fields.map((f) => `${f.name}: ${f.type}`));
 * for await (const batch of source.batches()) console.log(batch.length);
 * ```
 */
export async function openCsvSource(
  input: string,
  options: CsvSourceOptions = {},
): Promise<RecordSource> {
  // Bad options are refused before the input is opened.
  checkCsvOptions(options);
  resolveTextOptions(options);
  const { name, stream } = await openInput(input);
  return await csvSourceFromStream(stream, name, options);
}

/**
 * Reads CSV from a byte stream; `name` stands for it in messages. Like
 * `openCsvSource`, for input that is not a file (a pipe, a decompressor).
 */
export async function csvSourceFromStream(
  stream: ReadableStream<Uint8Array>,
  name: string,
  options: CsvSourceOptions = {},
): Promise<RecordSource> {
  checkCsvOptions(options);
  const source = new CsvSource(stream, name, resolveTextOptions(options), options);
  await source.open();
  return source;
}

function checkCsvOptions(options: CsvSourceOptions): void {
  const delimiter = options.delimiter ?? ",";
  if ([...delimiter].length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new RangeError(
      `Cannot use delimiter ${JSON.stringify(delimiter)}: give one character other than a ` +
        "quote or line break, such as , ; or \\t",
    );
  }
}

type Phase = "header" | "sample" | "rows";

class CsvSource implements RecordSource {
  fields: Field[] = [];
  readonly #name: string;
  readonly #options: ResolvedTextOptions;
  readonly #reader: CsvRecordReader;
  readonly #emptyIsNull: boolean;
  readonly #nullSet: Set<string>;
  #phase: Phase;
  #names: string[] | undefined;
  /** Fields per record, and what set that number. */
  #width = -1;
  #widthFrom = "header";
  /** Field index of each input position. */
  #map = new Int32Array(0);
  #sample: string[][] = [];
  #sampleLines: number[] = [];
  #builder: BatchBuilder | undefined;
  #ready: ColumnBatch[] = [];
  #started = false;

  constructor(
    stream: ReadableStream<Uint8Array>,
    name: string,
    options: ResolvedTextOptions,
    csv: CsvSourceOptions,
  ) {
    this.#name = name;
    this.#options = options;
    const nullValues = csv.nullValues ?? [""];
    this.#emptyIsNull = nullValues.length === 1 && nullValues[0] === "";
    this.#nullSet = new Set(nullValues);
    this.#reader = new CsvRecordReader(
      stream,
      name,
      csv.delimiter ?? ",",
      (record, line) => this.#onRecord(record, line),
    );
    if (csv.header ?? true) {
      this.#phase = "header";
    } else if (options.schema !== undefined) {
      this.#phase = "rows";
      this.#widthFrom = "schema";
      this.#bindSchema(options.schema.map((f) => f.name), 1);
    } else {
      this.#phase = "sample";
    }
  }

  /** Reads until the schema is known. */
  async open(): Promise<void> {
    while (this.#phase !== "rows" && await this.#reader.pump());
    if (this.#phase === "header") {
      if (this.#options.schema !== undefined) {
        // Nothing at all, not even a header: no rows of the known columns.
        this.#bindSchema(this.#options.schema.map((f) => f.name), 1);
        this.#phase = "rows";
        return;
      }
      // Nothing at all and no schema: no columns and no rows, which the
      // caller treats as any input without rows (nothing to commit).
      this.#start([], undefined);
      return;
    }
    if (this.#phase === "sample") {
      if (this.#sample.length === 0 && this.#names === undefined) {
        this.#start([], undefined);
        return;
      }
      this.#inferSchema();
    }
  }

  async *batches(): AsyncGenerator<ColumnBatch> {
    if (this.#started) throw new TypeError("Cannot iterate a CSV source twice");
    this.#started = true;
    let finished = false;
    try {
      for (;;) {
        while (this.#ready.length > 0) yield this.#ready.shift()!;
        if (!await this.#reader.pump()) break;
      }
      // The end of the input may have completed batches too.
      while (this.#ready.length > 0) yield this.#ready.shift()!;
      const last = this.#builder!.take();
      if (last !== undefined) yield last;
      finished = true;
    } finally {
      if (!finished) await this.#reader.cancel();
    }
  }

  #onRecord(record: string[], line: number): void {
    if (this.#phase === "rows") this.#row(record, line);
    else if (this.#phase === "sample") this.#sampleRecord(record, line);
    else this.#header(record, line);
  }

  /** The hot path: one record into the batch being filled. */
  #row(record: string[], line: number): void {
    const n = record.length;
    if (n !== this.#width) throw this.#wrongWidth(n, line);
    const builder = this.#builder!;
    builder.line = line;
    const map = this.#map;
    const emptyIsNull = this.#emptyIsNull;
    for (let i = 0; i < n; i++) {
      const text = record[i]!;
      if (emptyIsNull ? text.length === 0 : this.#nullSet.has(text)) builder.setNull(map[i]!);
      else builder.setText(map[i]!, text);
    }
    if (builder.endRow()) this.#ready.push(builder.take()!);
  }

  #header(record: string[], line: number): void {
    const seen = new Map<string, number>();
    record.forEach((name, i) => {
      if (name.length === 0) {
        throw this.#error(`column ${i + 1} of the header has no name: name every column`, line);
      }
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        throw this.#error(
          `columns ${earlier + 1} and ${i + 1} of the header are both named ` +
            `${JSON.stringify(name)}: give every column a distinct name`,
          line,
        );
      }
      seen.set(name, i);
    });
    if (this.#options.schema !== undefined) {
      this.#bindSchema(record, line);
      this.#phase = "rows";
    } else {
      this.#names = record;
      this.#width = record.length;
      this.#phase = "sample";
    }
  }

  /** Matches input columns to the given schema and starts the rows. */
  #bindSchema(names: string[], line: number): void {
    const schema = this.#options.schema!;
    const index = indexByName(schema);
    this.#map = new Int32Array(names.length);
    const present = new Set<number>();
    names.forEach((name, i) => {
      const at = index.get(name);
      if (at === undefined) throw unknownColumn(name, this.#name, line);
      this.#map[i] = at;
      present.add(at);
    });
    const missing = schema.filter((f, i) => !f.nullable && !present.has(i)).map((f) => f.name);
    if (missing.length > 0) throw missingColumns(missing, this.#name, line);
    this.#width = names.length;
    this.#start(schema, undefined);
  }

  #sampleRecord(record: string[], line: number): void {
    if (this.#names === undefined) {
      this.#names = record.map((_, i) => `column_${i + 1}`);
      this.#width = record.length;
      this.#widthFrom = "first record";
    }
    if (record.length !== this.#width) throw this.#wrongWidth(record.length, line);
    this.#sample.push(record);
    this.#sampleLines.push(line);
    if (this.#sample.length === this.#options.inferRows) this.#inferSchema();
  }

  /** Infers the schema from the sample, then replays the sample as rows. */
  #inferSchema(): void {
    const sampler = new TypeSampler();
    const names = this.#names!;
    for (let r = 0; r < this.#sample.length; r++) {
      const record = this.#sample[r]!;
      for (let i = 0; i < record.length; i++) {
        const text = record[i]!;
        if (this.#emptyIsNull ? text.length !== 0 : !this.#nullSet.has(text)) {
          try {
            sampler.observe(i, classifyText(text));
          } catch (error) {
            if (!(error instanceof InferenceError)) throw error;
            // No type holds the column's values exactly: a schema must say.
            const where = { file: this.#name, line: this.#sampleLines[r]!, column: names[i]! };
            throw new InputError(
              locate(`${error.message}: pass a schema (--schema) for the column`, where),
              where,
              { cause: error },
            );
          }
        }
      }
    }
    this.#map = Int32Array.from(names, (_, i) => i);
    this.#start(sampler.fields(names), this.#sample.length);
    const sample = this.#sample;
    const lines = this.#sampleLines;
    this.#sample = [];
    this.#sampleLines = [];
    for (let r = 0; r < sample.length; r++) this.#row(sample[r]!, lines[r]!);
  }

  #start(fields: Field[], inferredFrom: number | undefined): void {
    this.fields = fields;
    this.#builder = new BatchBuilder(fields, {
      file: this.#name,
      capacity: this.#options.batchRows,
      inferredFrom,
    });
    this.#phase = "rows";
  }

  #wrongWidth(count: number, line: number): InputError {
    return this.#error(
      `the record has ${count} field${count === 1 ? "" : "s"}, but the ${this.#widthFrom} has ` +
        `${this.#width}: quote fields that contain the delimiter, and check the delimiter option`,
      line,
    );
  }

  #error(message: string, line: number): InputError {
    const where = { file: this.#name, line };
    return new InputError(locate(message, where), where);
  }
}
