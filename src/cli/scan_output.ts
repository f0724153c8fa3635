/**
 * Writing scan rows as they come, in every output format: NDJSON, CSV, an
 * aligned text table, Parquet, and the `--json` document.
 *
 * Invariants: memory is bounded by one batch plus one output chunk, never by
 * the number of rows: text is written in chunks of about 1 MiB, Parquet row
 * group by row group; a writer emits exactly what the one-shot form would,
 * except the text table, whose column widths come from its first rows.
 */

import { stringify } from "csv-stringify/sync";
import type { ColumnBatch, Field } from "../columnar/batch.ts";
import { type ColumnType, holdsVariant } from "../columnar/types.ts";
import { ParquetFileBuilder } from "../parquet/encode.ts";
import { cellAt, cellJson, cellJsonText, cellText } from "./cells.ts";
import { toJson } from "./output.ts";

/** Where output bytes go: stdout or a file. */
export interface ByteTarget {
  write(bytes: Uint8Array): Promise<number>;
}

/** Text collected into chunks and written when a chunk is full. */
export class TextSink {
  readonly #target: ByteTarget;
  readonly #chunk: number;
  readonly #encoder = new TextEncoder();
  #parts: string[] = [];
  #length = 0;

  /** `chunk` is the text length (UTF-16 units) written at once. @default 1 MiB */
  constructor(target: ByteTarget, chunk = 1 << 20) {
    this.#target = target;
    this.#chunk = chunk;
  }

  /** Adds text; true when the chunk is full and should be flushed. */
  add(text: string): boolean {
    this.#parts.push(text);
    this.#length += text.length;
    return this.#length >= this.#chunk;
  }

  /** Adds text and writes the chunk if it is full. */
  async text(text: string): Promise<void> {
    if (this.add(text)) await this.flush();
  }

  /** Writes what is collected. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const text = this.#parts.join("");
    this.#parts = [];
    this.#length = 0;
    await writeAll(this.#target, this.#encoder.encode(text));
  }
}

/** Writes every byte, however many calls it takes. */
export async function writeAll(target: ByteTarget, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await target.write(bytes.subarray(written));
}

/** Writes batches of rows in one format. */
export interface RowWriter {
  batch(batch: ColumnBatch): Promise<void>;
  /** Finishes the output (a table's last rows, a Parquet footer) and flushes. */
  end(): Promise<void>;
}

/** One JSON object per line. */
export function ndjsonWriter(sink: TextSink, fields: readonly Field[]): RowWriter {
  const line = jsonLine(fields);
  return {
    async batch(batch) {
      for (let i = 0; i < batch.length; i++) {
        if (sink.add(line(batch, i) + "\n")) await sink.flush();
      }
    },
    end: () => sink.flush(),
  };
}

/** CSV with a header line. */
export function csvWriter(sink: TextSink, fields: readonly Field[]): RowWriter {
  let header = false;
  const rowsAtOnce = 4096;
  return {
    async batch(batch) {
      if (!header) {
        header = true;
        await sink.text(stringify([fields.map((f) => f.name)]));
      }
      for (let start = 0; start < batch.length; start += rowsAtOnce) {
        await sink.text(stringify(textRows(batch, fields, start, start + rowsAtOnce)));
      }
    },
    async end() {
      if (!header) await sink.text(stringify([fields.map((f) => f.name)]));
      await sink.flush();
    },
  };
}

/**
 * An aligned text table. Widths are those of the header and the first
 * `alignRows` rows; a later, wider cell pushes the rest of its line right.
 */
export function tableWriter(sink: TextSink, fields: readonly Field[], alignRows = 1000): RowWriter {
  const header = fields.map((f) => f.name);
  let first: string[][] | undefined = [];
  let widths: number[] = [];
  const line = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd() + "\n";
  const start = async () => {
    const rows = first!;
    first = undefined;
    widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    await sink.text(line(header));
    await sink.text(line(widths.map((w) => "-".repeat(w))));
    for (const row of rows) await sink.text(line(row));
  };
  return {
    async batch(batch) {
      for (let i = 0; i < batch.length; i++) {
        const row = textRows(batch, fields, i, i + 1)[0]!;
        if (!first) {
          if (sink.add(line(row))) await sink.flush();
        } else {
          first.push(row);
          if (first.length >= alignRows) await start();
        }
      }
    },
    async end() {
      if (first) await start();
      await sink.flush();
    },
  };
}

/** A Parquet file, written row group by row group. */
export function parquetWriter(target: ByteTarget, fields: readonly Field[]): RowWriter {
  const builder = new ParquetFileBuilder(fields);
  return {
    async batch(batch) {
      builder.writeBatch(batch);
      await writeAll(target, builder.takeBytes());
    },
    async end() {
      builder.finish();
      await writeAll(target, builder.takeBytes());
    },
  };
}

/**
 * The `--json` document `{"columns": [...], "rows": [...], "stats": {...}}`
 * with rows written as they come; `end` needs the stats, so it is `finish`.
 */
export function jsonDocumentWriter(sink: TextSink, fields: readonly Field[]) {
  const line = jsonLine(fields);
  let rows = 0;
  let started = false;
  const begin = async () => {
    started = true;
    await sink.text(`{\n  "columns": ${toJson(fields.map(columnOf), 0)},\n  "rows": [`);
  };
  return {
    async batch(batch: ColumnBatch) {
      if (!started) await begin();
      for (let i = 0; i < batch.length; i++) {
        if (sink.add((rows++ === 0 ? "\n    " : ",\n    ") + line(batch, i))) await sink.flush();
      }
    },
    async finish(stats: unknown) {
      if (!started) await begin();
      await sink.text(`${rows ? "\n  " : ""}],\n  "stats": ${toJson(stats, 0)}\n}\n`);
      await sink.flush();
    },
  };
}

/** A field as `--json` lists it: a variant column's type is `variant`, at any depth. */
function columnOf(field: Field): Field | Record<string, unknown> {
  const type = (t: ColumnType): unknown => {
    if (typeof t === "string") return t;
    switch (t.type) {
      case "struct":
        return t.variant ? "variant" : { ...t, fields: t.fields.map(columnOf) };
      case "array":
        return { ...t, elementType: type(t.elementType) };
      case "map":
        return { ...t, keyType: type(t.keyType), valueType: type(t.valueType) };
    }
  };
  return typeof field.type === "string" ? field : { ...field, type: type(field.type) };
}

/** A function that prints row `i` of a batch as one JSON object. */
function jsonLine(fields: readonly Field[]): (batch: ColumnBatch, i: number) => string {
  const keys = fields.map((f, c) => (c === 0 ? "{" : ",") + JSON.stringify(f.name) + ":");
  return (batch, i) => {
    let text = "";
    for (let c = 0; c < fields.length; c++) {
      const field = fields[c]!;
      if (holdsVariant(field.type)) {
        // A variant's to_json text is its JSON value as it is, object keys in stored order.
        const cell = cellAt(batch.columns[c]!, field.type, i);
        text += keys[c]! + naming(field, () => cellJsonText(cell, field.type));
        continue;
      }
      const value = cellJson(cellAt(batch.columns[c]!, field.type, i), field.type);
      text += keys[c]! +
        (typeof value === "object" && value !== null ? toJson(value, 0) : JSON.stringify(value));
    }
    return (fields.length ? text : "{") + "}";
  };
}

function textRows(
  batch: ColumnBatch,
  fields: readonly Field[],
  start: number,
  end: number,
): string[][] {
  const rows: string[][] = [];
  for (let i = start; i < Math.min(end, batch.length); i++) {
    rows.push(fields.map((f, c) => {
      const print = () => cellText(cellAt(batch.columns[c]!, f.type, i), f.type);
      return holdsVariant(f.type) ? naming(f, print) : print();
    }));
  }
  return rows;
}

/**
 * Prints a cell of a column that holds variants, whose bytes are only
 * decoded here: a malformed one is an error that names the column.
 */
function naming<T>(field: Field, print: () => T): T {
  try {
    return print();
  } catch (error) {
    throw new Error(`Cannot print column "${field.name}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}
