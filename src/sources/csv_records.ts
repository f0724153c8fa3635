/**
 * CSV records from a byte stream, one input chunk at a time: csv-parse in
 * streaming mode, driven so that records arrive synchronously through its
 * `on_record` hook with their line numbers, and one `await` moves a whole
 * chunk (not one record) through the parser.
 *
 * Invariants:
 * - bytes reach csv-parse only after UTF-8 validation, so invalid UTF-8 is an
 *   error at its line instead of a silent U+FFFD;
 * - each record is handed over with the 1-based line it starts on, counting
 *   blank lines (which are skipped) and newlines inside quoted fields;
 * - every parse failure becomes an `InputError` saying where and what to do;
 * - a record may not exceed `MAX_RECORD_CHARS`, so an unclosed quote cannot
 *   make the parser hold the rest of a large file in memory.
 */

import { CsvError, type InfoRecord, parse } from "csv-parse/stream";
import { InputError } from "../util/errors.ts";
import { locate } from "./coerce.ts";
import { Utf8Validator } from "./utf8.ts";

/** The longest record accepted, in characters. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

/** Receives one record and the line it starts on. */
export type RecordHandler = (record: string[], line: number) => void;

/** Reads CSV records from a stream, pushing them to a handler chunk by chunk. */
export class CsvRecordReader {
  readonly #name: string;
  readonly #delimiter: string;
  readonly #input: ReadableStreamDefaultReader<Uint8Array>;
  readonly #parser: WritableStreamDefaultWriter<Uint8Array>;
  readonly #utf8 = new Utf8Validator();
  readonly #handler: RecordHandler;
  /** The line the last record ended on, and the blank lines seen by then. */
  #lastEnd = 0;
  #lastEmpty = 0;
  #done = false;

  constructor(
    stream: ReadableStream<Uint8Array>,
    name: string,
    delimiter: string,
    handler: RecordHandler,
  ) {
    this.#name = name;
    this.#delimiter = delimiter;
    this.#handler = handler;
    this.#input = stream.getReader();
    const transform = parse({
      delimiter,
      bom: true,
      columns: false,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_CHARS,
      // `context.lines` is the line the record ends on; blank lines before it
      // are counted in `empty_lines`.
      on_record: (record: string[], context: InfoRecord) => {
        const line = this.#lastEnd + 1 + (context.empty_lines - this.#lastEmpty);
        this.#lastEnd = context.lines;
        this.#lastEmpty = context.empty_lines;
        this.#handler(record, line);
        return null; // consumed here: nothing is queued in the stream
      },
    });
    // The readable side stays unread: `on_record` consumes every record.
    this.#parser = transform.writable.getWriter();
  }

  /**
   * Reads one chunk of input and parses it, calling the handler for every
   * record it completes. Returns false once the input is exhausted (after the
   * last record has been handled).
   */
  async pump(): Promise<boolean> {
    if (this.#done) return false;
    const { value, done } = await this.#input.read();
    try {
      if (done) {
        this.#done = true;
        if (!this.#utf8.complete()) throw this.#badUtf8(this.#utf8.line);
        await this.#parser.close();
        return false;
      }
      const bad = this.#utf8.check(value);
      if (bad >= 0) {
        // Records before the bad byte are still handled, so errors come in order.
        if (bad > 0) await this.#write(value.subarray(0, bad));
        throw this.#badUtf8(this.#utf8.line);
      }
      await this.#write(value);
      return true;
    } catch (error) {
      this.#done = true;
      await this.cancel();
      throw this.#translate(error);
    }
  }

  /**
   * Parses a chunk. The parser reports an error by erroring its stream, which
   * may leave this write resolved, so the stream's state is checked after it.
   */
  async #write(bytes: Uint8Array): Promise<void> {
    await this.#parser.write(bytes);
    if (this.#parser.desiredSize === null) await this.#parser.ready;
  }

  /** Stops reading and releases the input. Safe to call more than once. */
  async cancel(): Promise<void> {
    this.#done = true;
    await this.#input.cancel().catch(() => {});
    await this.#parser.abort().catch(() => {});
  }

  #badUtf8(line: number): InputError {
    const where = { file: this.#name, line };
    return new InputError(
      locate("the input is not valid UTF-8: convert the file to UTF-8 first", where),
      where,
    );
  }

  /** Turns a csv-parse error into an `InputError` at the record's line. */
  #translate(error: unknown): unknown {
    if (!(error instanceof CsvError)) return error;
    const context = error as CsvError & Partial<Pick<InfoRecord, "lines" | "empty_lines">>;
    const start = this.#lastEnd + 1 + ((context.empty_lines ?? this.#lastEmpty) - this.#lastEmpty);
    const current = context.lines ?? start;
    let line = start;
    let message: string;
    switch (error.code) {
      case "CSV_QUOTE_NOT_CLOSED":
        message = "a quoted field starts in this record and is never closed: close the " +
          "quote, and double any quote inside a quoted field";
        break;
      case "CSV_MAX_RECORD_SIZE":
        message = `the record is longer than ${MAX_RECORD_CHARS} characters: an unclosed ` +
          "quote is the likely cause; close it, and double any quote inside a quoted field";
        break;
      case "CSV_INVALID_CLOSING_QUOTE":
        line = current;
        message = `a quoted field is followed by text instead of the delimiter ` +
          `${JSON.stringify(this.#delimiter)} or a line end: double a quote inside a quoted ` +
          "field";
        break;
      case "INVALID_OPENING_QUOTE":
        line = current;
        message = "a quote appears inside an unquoted field: quote the whole field, and " +
          "double the quotes inside it";
        break;
      default:
        line = current;
        message = `cannot parse CSV: ${error.message}`;
    }
    const where = { file: this.#name, line };
    return new InputError(locate(message, where), where, { cause: error });
  }
}
