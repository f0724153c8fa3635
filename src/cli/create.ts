/**
 * `neuralake create <table> --schema <schema.json>`: create an empty table.
 */

import { parseSchemaJson } from "../delta/schema.ts";
import { checkNewSchema, checkSchemaJson } from "../delta/schema_check.ts";
import { createTable } from "../ops/create.ts";
import { openTable } from "../ops/table.ts";
import { parseJsonDocument } from "../roles/config.ts";
import { InputError } from "../util/errors.ts";
import {
  commaList,
  GLOBAL_HELP,
  listFlag,
  parseCommandArgs,
  type ParsedArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { formatFields, printJson, snakeCaseKeys, write } from "./output.ts";

export const CREATE_HELP = `Usage: neuralake create <table> --schema <schema.json> [options]

Create an empty Delta table (protocol reader 1, writer 2).

Arguments:
  <table>                 A path, file:// URI or s3://bucket/prefix

Options:
  --schema <file>         A Delta schema as JSON: {"type":"struct","fields":[...]}
                          or a bare array of fields ("-" reads stdin)
  --partition-by <a,b>    Partition columns, in directory order (default: none)
  --property <k=v>        A table property, such as delta.checkpointInterval=100
                          (repeatable)
  --name <name>           The table's name
  --description <text>    The table's description

${GLOBAL_HELP}

Example:
  neuralake create ./signals --schema schema.json --partition-by region`;

/** Arguments of `create`. */
export interface CreateArgs {
  table: string;
  schemaFile: string;
  partitionBy: string[];
  properties: Record<string, string>;
  name: string | undefined;
  description: string | undefined;
  json: boolean;
}

/** Parses and validates `create` arguments. */
export function parseCreateArgs(argv: string[]): CreateArgs {
  const args = parseCommandArgs("create", argv, {
    schema: { type: "string" },
    "partition-by": { type: "string" },
    property: { type: "string", multiple: true },
    name: { type: "string" },
    description: { type: "string" },
  });
  const [table] = positionals(args, ["table"], "create");
  const schemaFile = stringFlag(args, "schema");
  if (!schemaFile) throw new UsageError("Missing --schema <schema.json>", "create");
  return {
    table: table!,
    schemaFile,
    partitionBy: commaList(stringFlag(args, "partition-by")),
    properties: parseProperties(args, "create"),
    name: stringFlag(args, "name"),
    description: stringFlag(args, "description"),
    json: args.values.json === true,
  };
}

/** Parses repeated `--property k=v` flags. */
export function parseProperties(args: ParsedArgs, command: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of listFlag(args, "property")) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`--property must look like key=value, got "${item}"`, command);
    }
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** Reads a schema file (or stdin for "-"). */
export async function readSchemaFile(path: string) {
  let text: string;
  try {
    text = path === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read the schema file ${path}`, { cause: error });
  }
  const value = parseJsonDocument(text, path, "the schema file");
  try {
    checkSchemaJson(value, path);
    const schema = parseSchemaJson(value, path);
    checkNewSchema(schema, path);
    return schema;
  } catch (error) {
    // The message names the column; `--json` gets the file as a field too.
    throw new InputError((error as Error).message, { file: path }, { cause: error });
  }
}

/** Runs `create`. */
export async function runCreate(args: CreateArgs): Promise<number> {
  const schema = await readSchemaFile(args.schemaFile);
  // A partition column the schema lacks is a mistake in the call: name the flag.
  const missing = args.partitionBy.find((c) => !schema.fields.some((f) => f.name === c));
  if (missing !== undefined) {
    throw new UsageError(
      `--partition-by ${args.partitionBy.join(",")}: column "${missing}" is not in the schema ` +
        `${args.schemaFile}; its columns are: ${schema.fields.map((f) => f.name).join(", ")}`,
      "create",
    );
  }
  const table = await openTable(args.table);
  const metadata = await createTable(table, {
    schema,
    partitionColumns: args.partitionBy,
    properties: args.properties,
    ...(args.name !== undefined ? { name: args.name } : {}),
    ...(args.description !== undefined ? { description: args.description } : {}),
  });
  const result = {
    table: table.uri,
    version: 0,
    id: metadata.id,
    columns: schema.fields.length,
    partitionColumns: args.partitionBy,
  };
  if (args.json) printJson(snakeCaseKeys(result));
  else {
    write(formatFields([
      ["created", table.uri],
      ["version", "0"],
      ["columns", schema.fields.map((f) => f.name).join(", ")],
      ["partitioned by", args.partitionBy.join(", ") || "(none)"],
    ]));
  }
  return 0;
}
