/**
 * The NDJSON source: one flat JSON object per line, from a file or stdin,
 * into column batches of a given or inferred schema.
 *
 * How lines become rows:
 * - lines end at `\n` (a `\r` before it is dropped); blank lines are skipped
 *   but counted, so messages give the line as an editor shows it;
 * - each other line must be a JSON object; its values are strings, numbers,
 *   booleans, null, or objects and arrays for nested columns (struct, array,
 *   map; see `json_value.ts`), refused for flat ones, naming the key;
 * - values are read through their text: a string by its content, a number
 *   exactly as written (so longs and decimals are never rounded), a boolean as
 *   `true` / `false`. So a long column takes `42` and `"42"`, a timestamp
 *   column takes `"2024-05-01T12:00:00Z"`, and binary is base64 text;
 * - with a schema, keys are matched by name: a key the schema lacks is an
 *   error, a missing key or `null` is null (an error if not nullable);
 * - without a schema the first `inferRows` records are held back and the
 *   schema is inferred from them (`infer.ts`): columns in the order their keys
 *   first appear, JSON numbers as long or double, strings as date, timestamp,
 *   timestamp_ntz or string, objects as structs and arrays as arrays. A later
 *   key or value that does not fit is an error naming the line.
 *
 * Invariants: input is decoded as strict UTF-8 (an invalid byte is an error at
 * its line); memory holds at most the inference sample, one input chunk and
 * the batches built from it, and a line of at most `MAX_LINE_BYTES`.
 */

import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { InputError } from "../util/errors.ts";
import { BatchBuilder } from "./batch_builder.ts";
import { locate } from "./coerce.ts";
import { classifyJson, InferenceError } from "./infer.ts";
import {
  inferJsonType,
  type Inferred,
  mergeInferred,
  parseJsonText,
  settle,
  ShapeClash,
} from "./json_value.ts";
import { type JsonKind, JsonLineScanner } from "./json_line.ts";
import type { RecordSource } from "./source.ts";
import {
  indexByName,
  openInput,
  type ResolvedTextOptions,
  resolveTextOptions,
  type TextSourceOptions,
  unknownColumn,
} from "./text_source.ts";

/** The longest line accepted, in bytes. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Options of an NDJSON source. */
export type NdjsonSourceOptions = TextSourceOptions;

/**
 * Opens an NDJSON file, or stdin for `-`. Resolves once the schema is known
 * (given, or inferred from the first `inferRows` records).
 *
 * @example
 * ```ts
 * const source = await openNdjsonSource("events.ndjson");
 * for await (const batch of source.batches()) console.log(batch.length);
 * ```
 */
export async function openNdjsonSource(
  input: string,
  options: NdjsonSourceOptions = {},
): Promise<RecordSource> {
  resolveTextOptions(options); // bad options are refused before the input is opened
  const { name, stream } = await openInput(input);
  return await ndjsonSourceFromStream(stream, name, options);
}

/**
 * Reads NDJSON from a byte stream; `name` stands for it in messages. Like
 * `openNdjsonSource`, for input that is not a file.
 */
export async function ndjsonSourceFromStream(
  stream: ReadableStream<Uint8Array>,
  name: string,
  options: NdjsonSourceOptions = {},
): Promise<RecordSource> {
  const source = new NdjsonSource(stream, name, resolveTextOptions(options));
  await source.open();
  return source;
}

/** One sampled record, held until the schema is inferred. */
interface SampledRecord {
  line: number;
  keys: string[];
  texts: string[];
  kinds: JsonKind[];
}

class NdjsonSource implements RecordSource {
  fields: Field[] = [];
  readonly #name: string;
  readonly #options: ResolvedTextOptions;
  readonly #input: ReadableStreamDefaultReader<Uint8Array>;
  // Each call decodes whole lines on its own, so a byte order mark is dropped by hand,
  // once, at the start of the input.
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #atStart = true;
  readonly #scanner = new JsonLineScanner();
  /** Bytes of a line not yet ended, and the line number of the next line. */
  #carry: Uint8Array = new Uint8Array(0);
  #line = 1;
  #inputDone = false;
  #sample: SampledRecord[] | undefined;
  #index = new Map<string, number>();
  /** Which fields are nested (they take objects and arrays only). */
  #nested: boolean[] = [];
  #inferredFrom: number | undefined;
  #builder: BatchBuilder | undefined;
  #ready: ColumnBatch[] = [];
  #started = false;

  constructor(stream: ReadableStream<Uint8Array>, name: string, options: ResolvedTextOptions) {
    this.#name = name;
    this.#options = options;
    this.#input = stream.getReader();
    if (options.schema !== undefined) this.#start(options.schema, undefined);
    else this.#sample = [];
  }

  /** Reads until the schema is known. */
  async open(): Promise<void> {
    try {
      while (this.#sample !== undefined && await this.#pump());
      if (this.#sample !== undefined) {
        // No records and no schema: no columns and no rows, which the
        // caller treats as any input without rows (nothing to commit).
        if (this.#sample.length === 0) {
          this.#sample = undefined;
          this.#start([], undefined);
        } else this.#inferSchema();
      }
    } catch (error) {
      await this.#input.cancel().catch(() => {});
      throw error;
    }
  }

  async *batches(): AsyncGenerator<ColumnBatch> {
    if (this.#started) throw new TypeError("Cannot iterate an NDJSON source twice");
    this.#started = true;
    let finished = false;
    try {
      for (;;) {
        while (this.#ready.length > 0) yield this.#ready.shift()!;
        if (!await this.#pump()) break;
      }
      // The end of the input may have completed batches too.
      while (this.#ready.length > 0) yield this.#ready.shift()!;
      const last = this.#builder!.take();
      if (last !== undefined) yield last;
      finished = true;
    } finally {
      if (!finished) await this.#input.cancel().catch(() => {});
    }
  }

  /** Reads one chunk and handles the lines it completes; false at the end. */
  async #pump(): Promise<boolean> {
    if (this.#inputDone) return false;
    const { value, done } = await this.#input.read();
    if (done) {
      this.#inputDone = true;
      if (this.#carry.length > 0) this.#lines(this.#carry, true);
      this.#carry = new Uint8Array(0);
      return false;
    }
    const last = value.lastIndexOf(10);
    if (last < 0) {
      this.#carry = concat(this.#carry, value, value.length);
      if (this.#carry.length > MAX_LINE_BYTES) {
        throw this.#error(
          `the line is longer than ${MAX_LINE_BYTES} bytes: write one object per line`,
          this.#line,
        );
      }
      return true;
    }
    const complete = concat(this.#carry, value, last + 1);
    this.#carry = value.slice(last + 1);
    this.#lines(complete, false);
    return true;
  }

  /** Decodes whole lines (ending in `\n`, unless `final`) and handles each. */
  #lines(bytes: Uint8Array, final: boolean): void {
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch (error) {
      throw this.#badUtf8(bytes, error);
    }
    let start = 0;
    if (this.#atStart) {
      this.#atStart = false;
      if (text.charCodeAt(0) === 0xfeff) start = 1;
    }
    for (;;) {
      const newline = text.indexOf("\n", start);
      if (newline < 0 && !final) break;
      const end = newline < 0 ? text.length : newline;
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      this.#record(text.slice(start, stop));
      this.#line++;
      if (newline < 0) break;
      start = newline + 1;
    }
  }

  /** Handles one line: scans it and routes it to the sample or the batch. */
  #record(line: string): void {
    if (isBlank(line)) return;
    const scanner = this.#scanner;
    const problem = scanner.scan(line);
    if (problem !== undefined) throw this.#error(problem, this.#line);
    if (this.#sample === undefined) {
      this.#row(scanner.keys, scanner.texts, scanner.kinds, scanner.count, this.#line);
      return;
    }
    const n = scanner.count;
    this.#sample.push({
      line: this.#line,
      keys: scanner.keys.slice(0, n),
      texts: scanner.texts.slice(0, n),
      kinds: scanner.kinds.slice(0, n),
    });
    if (this.#sample.length === this.#options.inferRows) this.#inferSchema();
  }

  /** The hot path: one scanned object into the batch being filled. */
  #row(keys: string[], texts: string[], kinds: JsonKind[], count: number, line: number): void {
    const builder = this.#builder!;
    builder.line = line;
    const index = this.#index;
    for (let k = 0; k < count; k++) {
      const key = keys[k]!;
      const at = index.get(key);
      if (at === undefined) throw unknownColumn(key, this.#name, line, this.#inferredFrom);
      const kind = kinds[k]!;
      if (kind === "null") builder.setNull(at);
      else if (kind === "json") builder.setJson(at, texts[k]!);
      else if (this.#nested[at]) {
        throw this.#error(
          `key ${JSON.stringify(key)} holds a ${kind}, but its column is nested: give an ` +
            "object or an array",
          line,
        );
      } else builder.setText(at, texts[k]!);
    }
    if (builder.endRow()) this.#ready.push(builder.take()!);
  }

  /** Infers the schema from the sample, then replays the sample as rows. */
  #inferSchema(): void {
    const sample = this.#sample!;
    const order = new Map<string, number>();
    const types: Inferred[] = [];
    for (const record of sample) {
      for (let k = 0; k < record.keys.length; k++) {
        const key = record.keys[k]!;
        let at = order.get(key);
        if (at === undefined) order.set(key, at = order.size);
        const kind = record.kinds[k]!;
        const text = record.texts[k]!;
        try {
          let type: Inferred;
          if (kind === "json") {
            const parsed = parseJsonText(text);
            if ("error" in parsed) {
              throw this.#error(
                `key ${JSON.stringify(key)} is not valid JSON: ${parsed.error}`,
                record.line,
              );
            }
            type = inferJsonType(parsed.value, key);
          } else type = classifyJson(kind, text);
          types[at] = mergeInferred(types[at], type, key);
        } catch (error) {
          if (error instanceof InferenceError) {
            // No type holds the key's values exactly: a schema must say.
            const where = { file: this.#name, line: record.line, column: key };
            throw new InputError(
              locate(`${error.message}: pass a schema (--schema) for the key`, where),
              where,
              { cause: error },
            );
          }
          if (!(error instanceof ShapeClash)) throw error;
          throw this.#error(`${error.path} ${error.message}: pass a schema`, record.line);
        }
      }
    }
    const fields = [...order.keys()].map((name, i): Field => {
      let type;
      try {
        type = settle(types[i], name);
      } catch (error) {
        if (!(error instanceof ShapeClash)) throw error;
        throw this.#error(`${error.path} ${error.message}: pass a schema`, this.#line);
      }
      return { name, type, nullable: true };
    });
    this.#sample = undefined;
    this.#start(fields, sample.length);
    for (const r of sample) this.#row(r.keys, r.texts, r.kinds, r.keys.length, r.line);
  }

  #start(fields: Field[], inferredFrom: number | undefined): void {
    this.fields = fields;
    this.#nested = fields.map((f) => typeof f.type !== "string");
    this.#index = indexByName(fields);
    this.#inferredFrom = inferredFrom;
    this.#builder = new BatchBuilder(fields, {
      file: this.#name,
      capacity: this.#options.batchRows,
      inferredFrom,
    });
  }

  /** Finds the line that holds invalid UTF-8. */
  #badUtf8(bytes: Uint8Array, cause: unknown): InputError {
    const strict = new TextDecoder("utf-8", { fatal: true });
    let line = this.#line;
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(10, start);
      const stop = end < 0 ? bytes.length : end;
      try {
        strict.decode(bytes.subarray(start, stop));
      } catch {
        break;
      }
      line++;
      start = stop + 1;
    }
    const where = { file: this.#name, line };
    return new InputError(
      locate("the input is not valid UTF-8: convert the file to UTF-8 first", where),
      where,
      { cause },
    );
  }

  #error(message: string, line: number): InputError {
    const where = { file: this.#name, line };
    return new InputError(locate(message, where), where);
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Joins `head` and the first `length` bytes of `tail` into a new array. */
function concat(head: Uint8Array, tail: Uint8Array, length: number): Uint8Array {
  if (head.length === 0) return tail.subarray(0, length);
  const out = new Uint8Array(head.length + length);
  out.set(head);
  out.set(tail.subarray(0, length), head.length);
  return out;
}
