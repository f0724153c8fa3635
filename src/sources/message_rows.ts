/**
 * Rows from Kafka message values: a JSON object is one row, NDJSON (one
 * object per line) is many, coerced into a table's columns exactly as
 * `write` reads NDJSON (the same scanner and `BatchBuilder`), so a value
 * that `write` would refuse is refused here with the same reason. A binary
 * neural message (neural_message.ts, as `neuralake produce` sends by
 * default) is many rows of the neural schema, taken whole into a table of
 * that schema without per-row parsing.
 *
 * Invariants:
 * - a message's rows are added all or none: a bad line rolls back the rows
 *   its message already added, so a bad message leaves nothing behind;
 * - a message is never split over two batches: `add` says when it does not
 *   fit the rows left, and the caller cuts the batch first;
 * - problems are values (`{ error }`), naming the line within the value and
 *   the column, for the dead-letter table or the stop message.
 */

import { type ColumnBatch, concatBatches, type Field } from "../columnar/batch.ts";
import { InputError } from "../util/errors.ts";
import { BatchBuilder } from "./batch_builder.ts";
import { type JsonKind, JsonLineScanner } from "./json_line.ts";
import { NEURAL_FIELDS } from "./neural.ts";
import { decodeNeuralMessage, isNeuralMessage } from "./neural_message.ts";
import { indexByName } from "./text_source.ts";

/** What became of one message. */
export type MessageOutcome =
  | { kind: "added"; rows: number }
  | { kind: "full"; lines: number }
  | { kind: "bad"; error: string };

/** The name of a message value in problems (`value:2: column "x": …`). */
const VALUE = "value";

/** A batch of rows being filled from messages, `capacity` rows at most (but see `add`). */
export class MessageRows {
  readonly fields: Field[];
  readonly capacity: number;
  readonly #index: Map<string, number>;
  readonly #nested: boolean[];
  readonly #scanner = new JsonLineScanner();
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  /** Whether the columns are the neural schema's, so binary neural messages fit. */
  readonly #neural: boolean;
  #builder: BatchBuilder;
  /** Decoded binary messages, before the builder's rows. */
  #chunks: ColumnBatch[] = [];
  #chunkRows = 0;

  constructor(fields: Field[], capacity: number) {
    this.fields = fields;
    this.capacity = capacity;
    this.#index = indexByName(fields);
    this.#nested = fields.map((f) => typeof f.type !== "string");
    this.#builder = this.#newBuilder(capacity);
    this.#neural = fields.length === NEURAL_FIELDS.length &&
      fields.every((f, i) =>
        f.name === NEURAL_FIELDS[i]!.name && f.type === NEURAL_FIELDS[i]!.type
      );
  }

  /** Rows added so far. */
  get rows(): number {
    return this.#builder.rows + this.#chunkRows;
  }

  /**
   * Adds the rows of one message value. `full`: the value has more rows than
   * are left (the caller takes the batch and adds it again; a value larger
   * than the capacity is then taken whole into an empty batch).
   */
  add(value: Uint8Array | null): MessageOutcome {
    if (value === null || value.length === 0) {
      return { kind: "bad", error: "the message has no value: send a JSON object or NDJSON" };
    }
    if (isNeuralMessage(value)) return this.#addNeural(value);
    let text: string;
    try {
      text = this.#decoder.decode(value);
    } catch {
      return { kind: "bad", error: "the value is not valid UTF-8: send JSON text" };
    }
    // One object, even spread over lines; otherwise one object per line.
    const whole = this.#scanner.scan(text) === undefined;
    const lines = whole ? [text] : splitLines(text);
    if (lines.length === 0) {
      return { kind: "bad", error: "the value holds no JSON object: send one object per line" };
    }
    if (this.rows + lines.length > this.capacity) {
      if (this.rows > 0) return { kind: "full", lines: lines.length };
      this.#builder = this.#newBuilder(lines.length);
    }
    return this.#addLines(lines, whole);
  }

  /** Takes the rows added so far as a batch (undefined if none), and starts a new one. */
  take(): ColumnBatch | undefined {
    const built = this.#builder.take();
    if (built !== undefined && built.length > this.capacity) {
      this.#builder = this.#newBuilder(this.capacity);
    }
    const parts = built === undefined ? this.#chunks : [...this.#chunks, built];
    this.#chunks = [];
    this.#chunkRows = 0;
    return parts.length === 0 ? undefined : concatBatches(parts);
  }

  #addNeural(value: Uint8Array): MessageOutcome {
    if (!this.#neural) {
      return {
        kind: "bad",
        error: "the value is a binary neural message, but the table's columns are not the " +
          "neural schema: send JSON, or ingest into a table of the neural schema",
      };
    }
    const decoded = decodeNeuralMessage(value);
    if ("error" in decoded) return { kind: "bad", error: decoded.error };
    if (this.rows > 0 && this.rows + decoded.length > this.capacity) {
      return { kind: "full", lines: decoded.length };
    }
    this.#chunks.push({ ...decoded, fields: this.fields });
    this.#chunkRows += decoded.length;
    return { kind: "added", rows: decoded.length };
  }

  #addLines(lines: string[], whole: boolean): MessageOutcome {
    const builder = this.#builder;
    const mark = builder.rows;
    const scanner = this.#scanner;
    for (let i = 0; i < lines.length; i++) {
      const line = i + 1;
      const problem = whole && i === 0 ? undefined : scanner.scan(lines[i]!);
      if (problem !== undefined) {
        builder.rollback(mark);
        return { kind: "bad", error: `${VALUE}:${line}: ${problem}` };
      }
      try {
        this.#row(scanner.keys, scanner.texts, scanner.kinds, scanner.count, line);
      } catch (error) {
        builder.rollback(mark);
        if (error instanceof InputError) return { kind: "bad", error: error.message };
        throw error;
      }
    }
    return { kind: "added", rows: lines.length };
  }

  #row(keys: string[], texts: string[], kinds: JsonKind[], count: number, line: number): void {
    const builder = this.#builder;
    builder.line = line;
    for (let k = 0; k < count; k++) {
      const key = keys[k]!;
      const at = this.#index.get(key);
      if (at === undefined) {
        throw new InputError(
          `${VALUE}:${line}: column ${JSON.stringify(key)} is not in the table's schema`,
          { file: VALUE, line, column: key },
        );
      }
      const kind = kinds[k]!;
      if (kind === "null") builder.setNull(at);
      else if (kind === "json") builder.setJson(at, texts[k]!);
      else if (this.#nested[at]) {
        throw new InputError(
          `${VALUE}:${line}: key ${JSON.stringify(key)} holds a ${kind}, but its column is ` +
            "nested: give an object or an array",
          { file: VALUE, line, column: key },
        );
      } else builder.setText(at, texts[k]!);
    }
    builder.endRow();
  }

  #newBuilder(capacity: number): BatchBuilder {
    return new BatchBuilder(this.fields, { file: VALUE, capacity });
  }
}

/** The non-blank lines of a text (a `\r` before a `\n` dropped). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const line = text.slice(start, stop);
    if (line.trim() !== "") lines.push(line);
    start = end + 1;
  }
  return lines;
}
