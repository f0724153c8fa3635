/**
 * `neuralake write <table> --input <file|->`: append or overwrite rows from
 * CSV, NDJSON or Parquet, creating the table if it is missing.
 */

import { formatCount } from "../report/format.ts";
import type { Field } from "../columnar/batch.ts";
import { toBatchFields } from "../delta/schema.ts";
import { openCsvSource } from "../sources/csv.ts";
import { openNdjsonSource } from "../sources/ndjson.ts";
import { openParquetSource } from "../sources/parquet_file.ts";
import type { RecordSource } from "../sources/source.ts";
import { openTable } from "../ops/table.ts";
import { DEFAULT_TARGET_FILE_SIZE, TableDefinitionMismatch, writeTable } from "../ops/write.ts";
import { formatBytes } from "../util/units.ts";
import {
  boolFlag,
  bytesFlag,
  commaList,
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { parseProperties, readSchemaFile } from "./create.ts";
import { formatFields, printJson, snakeCaseKeys, write } from "./output.ts";

export const WRITE_HELP = `Usage: neuralake write <table> --input <file|-> [options]

Append rows to a table (or replace its contents) in one commit. The table is
created if it is missing, with the --schema given or one inferred from the
input. Large inputs are streamed and split into files of --target-file-size.
Nothing is committed if any record is bad; the error names the file, line and
column.

An input without rows (an empty file or stdin, a CSV with only its header, a
Parquet file of zero rows) commits nothing, creates no table and, with
--mode overwrite, removes nothing. It exits 0; with --json the result says
"committed": false and "empty_input": true.

NDJSON may hold nested values: objects for structs (and maps), arrays for
arrays; CSV cells of nested columns hold JSON. Without a schema, objects are
inferred as structs and arrays as arrays.

Inferred numbers are long, double, or, for integers beyond the range of a
long, decimal(p,0) as Spark infers them. An integer of more than 38 digits,
or integers beyond a long in a column that also holds fractions, would be
rounded by a double: the write refuses them, naming the line and column, and
a --schema decides.

Options:
  --input <file|->           The input file, or - for stdin
  --format <f>               csv, ndjson or parquet (default: from the file name)
  --mode <m>                 append (default) or overwrite
  --schema <schema.json>     The schema of a new table (default: inferred); on an
                             existing table it must be the table's schema
  --partition-by <a,b>       The partition columns of a new table (or the table's;
                             default: none for a new table)
  --property <k=v>           A property of a new table (repeatable); on an existing
                             table it must be the value the table has
  --target-file-size <size>  Size a data file aims for (default 128MiB)
  --codec <c>                zstd (default), snappy, gzip or uncompressed
  --delimiter <c>            CSV field separator: one character, or \\t or tab
                             for a tab (default ,)
  --no-header                The CSV has no header row (columns come from --schema)
  --app-id <id>              Idempotent writes: the application id...
  --app-version <N>          ...and its version; a version already committed is skipped
  --no-checkpoint            Do not write the automatic checkpoint

${GLOBAL_HELP}

Example:
  neuralake write ./signals --input recording.csv --partition-by region`;

/** Arguments of `write`. */
export interface WriteArgs {
  table: string;
  input: string;
  format: "csv" | "ndjson" | "parquet";
  mode: "append" | "overwrite";
  schemaFile: string | undefined;
  partitionBy: string[] | undefined;
  properties: Record<string, string>;
  targetFileSize: number;
  codec: "SNAPPY" | "ZSTD" | "GZIP" | "UNCOMPRESSED";
  delimiter: string | undefined;
  header: boolean;
  appTxn: { appId: string; version: number } | undefined;
  checkpoint: boolean;
  json: boolean;
}

const CODECS = {
  snappy: "SNAPPY",
  zstd: "ZSTD",
  gzip: "GZIP",
  uncompressed: "UNCOMPRESSED",
} as const;

/** Parses `write` arguments. */
export function parseWriteArgs(argv: string[]): WriteArgs {
  const args = parseCommandArgs("write", argv, {
    input: { type: "string", short: "i" },
    format: { type: "string" },
    mode: { type: "string" },
    schema: { type: "string" },
    "partition-by": { type: "string" },
    property: { type: "string", multiple: true },
    "target-file-size": { type: "string" },
    codec: { type: "string" },
    delimiter: { type: "string" },
    "no-header": { type: "boolean" },
    "app-id": { type: "string" },
    "app-version": { type: "string" },
    "no-checkpoint": { type: "boolean" },
  });
  const [table] = positionals(args, ["table"], "write");
  const input = stringFlag(args, "input");
  if (!input) throw new UsageError("Missing --input <file|->", "write");
  const format = stringFlag(args, "format") ?? formatFromName(input);
  if (format !== "csv" && format !== "ndjson" && format !== "parquet") {
    throw new UsageError(`--format must be csv, ndjson or parquet, got "${format}"`, "write");
  }
  const mode = stringFlag(args, "mode") ?? "append";
  if (mode !== "append" && mode !== "overwrite") {
    throw new UsageError(`--mode must be append or overwrite, got "${mode}"`, "write");
  }
  const codecName = (stringFlag(args, "codec") ?? "zstd").toLowerCase();
  const codec = CODECS[codecName as keyof typeof CODECS];
  if (!codec) throw new UsageError(`--codec must be zstd, snappy, gzip or uncompressed`, "write");
  const appId = stringFlag(args, "app-id");
  const appVersion = intFlag(args, "app-version", "write");
  if ((appId === undefined) !== (appVersion === undefined)) {
    throw new UsageError("--app-id and --app-version go together", "write");
  }
  const targetFileSize = bytesFlag(args, "target-file-size", "write") ?? DEFAULT_TARGET_FILE_SIZE;
  if (targetFileSize < 1024) {
    throw new UsageError("--target-file-size must be at least 1KiB", "write");
  }
  const partition = stringFlag(args, "partition-by");
  return {
    table: table!,
    input,
    format,
    mode,
    schemaFile: stringFlag(args, "schema"),
    partitionBy: partition === undefined ? undefined : commaList(partition),
    properties: parseProperties(args, "write"),
    targetFileSize,
    codec,
    delimiter: delimiterFlag(stringFlag(args, "delimiter")),
    header: !boolFlag(args, "no-header"),
    appTxn: appId !== undefined ? { appId, version: appVersion! } : undefined,
    checkpoint: !boolFlag(args, "no-checkpoint"),
    json: args.values.json === true,
  };
}

/** The CSV separator: exactly one character (`\t` and `tab` name the tab). */
function delimiterFlag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text === "\\t" || text.toLowerCase() === "tab") return "\t";
  if ([...text].length !== 1 || /["\r\n]/.test(text)) {
    throw new UsageError(
      `--delimiter must be one character other than a quote or line break, such as , ; | or tab, got ${
        JSON.stringify(text)
      }`,
      "write",
    );
  }
  return text;
}

function formatFromName(input: string): string {
  if (input === "-") {
    throw new UsageError("Reading stdin needs --format csv, ndjson or parquet", "write");
  }
  const lower = input.toLowerCase();
  if (lower.endsWith(".csv") || lower.endsWith(".tsv")) return "csv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl") || lower.endsWith(".json")) {
    return "ndjson";
  }
  if (lower.endsWith(".parquet")) return "parquet";
  throw new UsageError(
    `Cannot tell the format of "${input}" from its name: pass --format`,
    "write",
  );
}

/** Runs `write`. */
export async function runWrite(args: WriteArgs): Promise<number> {
  const table = await openTable(args.table);
  const schema = args.schemaFile ? await readSchemaFile(args.schemaFile) : undefined;
  const opener = async (tableFields: Field[] | undefined): Promise<RecordSource> => {
    const fields = tableFields ?? (schema ? toBatchFields(schema.fields) : undefined);
    if (args.format === "parquet") {
      if (args.input === "-") {
        throw new UsageError("Parquet input must be a file, not stdin", "write");
      }
      return await openParquetSource(args.input);
    }
    if (args.format === "csv") {
      if (!args.header && !fields) {
        throw new UsageError(
          "--no-header needs the columns: give --schema or write to an existing table",
          "write",
        );
      }
      return await openCsvSource(args.input, {
        schema: fields,
        delimiter: args.delimiter,
        header: args.header,
      });
    }
    return await openNdjsonSource(args.input, { schema: fields });
  };
  const started = performance.now();
  let files = 0;
  const showProgress = !args.json && Deno.stderr.isTerminal();
  // The first SIGINT or SIGTERM stops the write before its commit and
  // deletes what it uploaded; a second one ends the process at once.
  const interrupt = new AbortController();
  const signals = ["SIGINT", "SIGTERM"] as const;
  const listeners = signals.map((signal) => {
    const listener = () => {
      for (const [i, s] of signals.entries()) Deno.removeSignalListener(s, listeners[i]!);
      interrupt.abort(
        new Error(
          `Interrupted by ${signal}: nothing was committed to ${table.uri}, and the data files ` +
            `this write had uploaded were deleted`,
        ),
      );
    };
    Deno.addSignalListener(signal, listener);
    return listener;
  });
  const result = await writeTable(table, opener, {
    signal: interrupt.signal,
    mode: args.mode,
    ...(schema ? { schema } : {}),
    ...(args.partitionBy ? { partitionBy: args.partitionBy } : {}),
    properties: args.properties,
    targetFileSize: args.targetFileSize,
    encode: { codec: args.codec },
    ...(args.appTxn ? { appTxn: args.appTxn } : {}),
    autoCheckpoint: args.checkpoint,
    sourceName: args.input === "-" ? "stdin" : args.input,
    onFile: ({ rows, bytes }) => {
      files++;
      if (showProgress) {
        Deno.stderr.writeSync(
          new TextEncoder().encode(
            `\ruploaded ${formatCount(files)} files (last: ${formatCount(rows)} rows, ${
              formatBytes(bytes)
            })`,
          ),
        );
      }
    },
  }).catch((error) => {
    if (!(error instanceof TableDefinitionMismatch)) throw error;
    const flag = error.option === "schema"
      ? `--schema ${args.schemaFile}`
      : error.option === "partitionBy"
      ? `--partition-by ${args.partitionBy?.join(",")}`
      : "--property";
    throw new Error(
      `Cannot write with ${flag}: ${error.message}. Nothing was committed`,
      { cause: error },
    );
  }).finally(() => {
    if (interrupt.signal.aborted) return;
    for (const [i, s] of signals.entries()) Deno.removeSignalListener(s, listeners[i]!);
  });
  if (showProgress && files > 0) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  const seconds = (performance.now() - started) / 1000;
  if (args.json) {
    printJson(snakeCaseKeys({ ...result, seconds: Math.round(seconds * 1000) / 1000 }));
  } else if (result.emptyInput) {
    write(
      `Nothing written: ${
        args.input === "-" ? "stdin" : args.input
      } has no rows, so nothing was committed to ${result.table}\n`,
    );
  } else if (result.alreadyCommitted) {
    write(
      `Nothing written: ${args.appTxn?.appId} version ${args.appTxn?.version} is already in ${result.table}\n`,
    );
  } else {
    write(formatFields([
      ["table", result.table],
      ["version", `${result.version}${result.created ? " (created)" : ""}`],
      ["rows", formatCount(result.rows)],
      ["files added", `${formatCount(result.filesAdded)} (${formatBytes(result.bytes)})`],
      ...(result.filesRemoved
        ? [["files removed", formatCount(result.filesRemoved)] as [string, string]]
        : []),
      ["time", `${seconds.toFixed(2)} s`],
    ]));
  }
  return 0;
}
