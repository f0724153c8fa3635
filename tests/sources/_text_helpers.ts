/**
 * Helpers for the text source tests: temporary input files, streams that
 * count what was pulled from them, and batches turned back into rows.
 */

import { type ColumnBatch, isNull } from "../../src/columnar/batch.ts";
import type { RecordSource } from "../../src/sources/source.ts";
import { InputError } from "../../src/util/errors.ts";
import { assert } from "../_helpers/assert.ts";

let tempDir: string | undefined;

/**
 * Writes `text` (or bytes) to a new temporary file and returns its path. The
 * files share one directory, removed when the test module ends.
 */
export async function tempFile(content: string | Uint8Array, suffix: string): Promise<string> {
  if (tempDir === undefined) {
    const dir = tempDir = await Deno.makeTempDir({ prefix: "neuralake-source-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  }
  const path = await Deno.makeTempFile({ dir: tempDir, suffix });
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/** Reads every batch of a source. */
export async function allBatches(source: RecordSource): Promise<ColumnBatch[]> {
  const batches: ColumnBatch[] = [];
  for await (const batch of source.batches()) batches.push(batch);
  return batches;
}

/** Turns batches back into rows of plain values, null where null. */
export function toRows(batches: ColumnBatch[]): unknown[][] {
  const rows: unknown[][] = [];
  for (const batch of batches) {
    for (let r = 0; r < batch.length; r++) {
      rows.push(batch.columns.map((column) => {
        if (isNull(column, r)) return null;
        return (column.values as ArrayLike<unknown>)[r];
      }));
    }
  }
  return rows;
}

/** Reads a whole source as rows. */
export async function readRows(source: RecordSource): Promise<unknown[][]> {
  return toRows(await allBatches(source));
}

/** Resolves with the error that `promise` rejects with, or fails. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`);
  }
  throw new Error("expected an error, but none was thrown");
}

/**
 * A byte stream of `total` generated lines that is pulled lazily, one small
 * chunk at a time, and counts how many lines it has handed out so far.
 */
export class CountingStream {
  /** Lines handed to the reader so far. */
  produced = 0;
  cancelled = false;
  readonly stream: ReadableStream<Uint8Array>;

  constructor(header: string | undefined, total: number, line: (i: number) => string) {
    const encoder = new TextEncoder();
    let headerSent = header === undefined;
    this.stream = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(`${header}\n`));
          return;
        }
        if (this.produced >= total) {
          controller.close();
          return;
        }
        let text = "";
        const end = Math.min(total, this.produced + 100);
        for (let i = this.produced; i < end; i++) text += `${line(i)}\n`;
        this.produced = end;
        controller.enqueue(encoder.encode(text));
      },
      cancel: () => {
        this.cancelled = true;
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * The message of the error a source raises reading `input` from stdin, in a
 * child `deno eval` (whose stdin is its own): `open` is a call of `name`,
 * exported by `module` (a path relative to this folder), that opens `-`.
 */
export async function stdinErrorMessage(
  module: string,
  name: string,
  open: string,
  input: string,
): Promise<string> {
  const href = JSON.stringify(new URL(module, import.meta.url).href);
  const script = `import { ${name} } from ${href};
try {
  const source = await ${open};
  for await (const _ of source.batches());
} catch (error) {
  console.log(error.message);
}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--quiet",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      script,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  return new TextDecoder().decode(output.stdout).trim();
}

/**
 * Writes `text` to a temporary file, opens it with `open` and reads it all;
 * returns the InputError that fails with, checked to name the file first.
 */
export async function inputErrorOf(
  open: (path: string, options: object) => Promise<RecordSource>,
  text: string | Uint8Array,
  suffix: string,
  options: object = {},
): Promise<InputError> {
  const path = await tempFile(text, suffix);
  const error = await failure((async () => {
    const source = await open(path, options);
    await allBatches(source);
  })());
  assert(error instanceof InputError, `expected an InputError, got ${error}`);
  assert(error.file === path, `the error names the file: ${error.message}`);
  assert(error.message.startsWith(`${path}:`), error.message);
  return error;
}
