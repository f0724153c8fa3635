/**
 * What the text sources (CSV, NDJSON) share: opening a path or stdin as a
 * byte stream, the options they both take, checking those options, and
 * matching input column names against a given schema.
 *
 * Invariant: input is only ever opened as a `ReadableStream`, never read
 * whole, so a source's memory does not grow with the size of its input.
 */

import type { Field } from "../columnar/batch.ts";
import { parsePrimitiveType } from "../columnar/types.ts";
import { InputError, messageOf } from "../util/errors.ts";
import { locate } from "./coerce.ts";
import { DEFAULT_BATCH_ROWS, STDIN } from "./source.ts";

/** Options that every text source takes. */
export interface TextSourceOptions {
  /**
   * The columns to produce. Input columns are matched to it by name; when it
   * is absent the schema is inferred from the first `inferRows` records (see
   * `infer.ts`), and a later value that does not fit an inferred type is an
   * error that says where it is.
   */
  schema?: Field[] | undefined;
  /**
   * Rows per batch, at most.
   * @default {65536}
   */
  batchRows?: number | undefined;
  /**
   * Records to infer a schema from, when no schema is given.
   * @default {1000}
   */
  inferRows?: number | undefined;
}

/** Records sampled for inference when no `inferRows` is given. */
export const DEFAULT_INFER_ROWS = 1000;

/** An opened input: its name for messages and its bytes. */
export interface TextInput {
  /** The path as given, or `-` for stdin. */
  name: string;
  /** The bytes, read lazily. */
  stream: ReadableStream<Uint8Array>;
}

/**
 * Opens a file, or stdin for `-`, as a byte stream.
 * Throws `InputError` if the file cannot be opened.
 */
export async function openInput(input: string): Promise<TextInput> {
  if (input === STDIN) return { name: STDIN, stream: Deno.stdin.readable };
  try {
    const file = await Deno.open(input, { read: true });
    // A directory opens, and fails only at the first read, without a name.
    if ((await file.stat()).isDirectory) {
      file.close();
      throw new Deno.errors.IsADirectory("it is a directory, not a file");
    }
    return { name: input, stream: file.readable };
  } catch (error) {
    throw new InputError(
      `Cannot open ${input}: ${messageOf(error)}: check the path, or give - to read stdin`,
      { file: input },
      { cause: error },
    );
  }
}

/** The checked options of a text source, with defaults filled in. */
export interface ResolvedTextOptions {
  schema: Field[] | undefined;
  batchRows: number;
  inferRows: number;
}

/** Checks the shared options, throwing `RangeError` or `TypeError` for bad ones. */
export function resolveTextOptions(options: TextSourceOptions): ResolvedTextOptions {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const inferRows = options.inferRows ?? DEFAULT_INFER_ROWS;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`Cannot use batchRows ${batchRows}: give a whole number of at least 1`);
  }
  if (!Number.isSafeInteger(inferRows) || inferRows < 1) {
    throw new RangeError(`Cannot use inferRows ${inferRows}: give a whole number of at least 1`);
  }
  if (options.schema !== undefined) checkSchema(options.schema);
  return { schema: options.schema, batchRows, inferRows };
}

function checkSchema(schema: Field[]): void {
  const names = new Set<string>();
  for (const field of schema) {
    if (typeof field.type === "string" && parsePrimitiveType(field.type) !== field.type) {
      throw new TypeError(
        `Cannot use schema column "${field.name}": unknown type "${field.type}"`,
      );
    }
    if (names.has(field.name)) {
      throw new TypeError(`Cannot use schema: column "${field.name}" appears twice`);
    }
    names.add(field.name);
  }
}

/** Maps each schema column name to its index. */
export function indexByName(fields: readonly Field[]): Map<string, number> {
  return new Map(fields.map((f, i) => [f.name, i]));
}

/**
 * The error for an input column that the schema does not have. `inferred` is
 * the number of sampled records when the schema was inferred.
 */
export function unknownColumn(
  name: string,
  file: string,
  line: number,
  inferred?: number,
): InputError {
  const advice = inferred === undefined
    ? "remove it from the input, or add it to the schema"
    : `it did not occur in the first ${inferred} records that the schema was inferred ` +
      "from: pass a schema, or infer from more records";
  return new InputError(
    locate(`column ${JSON.stringify(name)} is not in the schema: ${advice}`, { file, line }),
    { file, line, column: name },
  );
}

/**
 * The error for schema columns that are not nullable but absent from the
 * input's columns.
 */
export function missingColumns(names: string[], file: string, line: number): InputError {
  const list = names.map((n) => JSON.stringify(n)).join(", ");
  return new InputError(
    locate(
      `the input has no column ${list}, which the schema requires (not nullable): add the ` +
        "column, or make it nullable in the schema",
      { file, line },
    ),
    { file, line, column: names[0]! },
  );
}
