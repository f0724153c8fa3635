/**
 * `neuralake describe <table>`: version, schema, partitioning, protocol,
 * files, bytes, rows and checkpoint of a table.
 */

import { formatCount } from "../report/format.ts";
import { describeTable } from "../ops/describe.ts";
import { openTable } from "../ops/table.ts";
import { typeName } from "../delta/schema.ts";
import { formatBytes } from "../util/units.ts";
import {
  AS_OF_OPTIONS,
  type AsOf,
  asOfHelp,
  commitTimeFields,
  describeCommitTime,
  parseAsOf,
  resolveAsOf,
  withAsOfFlag,
} from "./as_of.ts";
import { GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { formatFields, formatTable, printJson, snakeCaseKeys, write } from "./output.ts";

export const DESCRIBE_HELP = `Usage: neuralake describe <table> [--version N | --timestamp T]

Describe a table: version, schema, partitioning, protocol, number of files,
bytes, rows (from file statistics, less the rows deletion vectors delete),
deletion vectors and the last checkpoint.

Options:
${asOfHelp("Describe")}

${GLOBAL_HELP}`;

/** Arguments of `describe`. */
export interface DescribeArgs extends AsOf {
  table: string;
  json: boolean;
}

/** Parses `describe` arguments. */
export function parseDescribeArgs(argv: string[]): DescribeArgs {
  const args = parseCommandArgs("describe", argv, AS_OF_OPTIONS);
  const [table] = positionals(args, ["table"], "describe");
  return { table: table!, ...parseAsOf(args, "describe"), json: args.values.json === true };
}

/** Runs `describe`. */
export async function runDescribe(args: DescribeArgs): Promise<number> {
  const table = await openTable(args.table);
  const { version, at } = await resolveAsOf(table, args);
  const d = await withAsOfFlag(args, () => describeTable(table, version));
  if (args.json) {
    // The schema, protocol and properties as the log holds them.
    printJson(
      snakeCaseKeys({ ...d, ...commitTimeFields(at) }, ["schema", "protocol", "properties"]),
    );
    return 0;
  }
  const p = d.protocol;
  write(formatFields([
    ["table", d.uri],
    ["id", d.id],
    ...(d.name ? [["name", d.name] as [string, string]] : []),
    ["version", String(d.version)],
    ...(at ? [["committed", describeCommitTime(at)] as [string, string]] : []),
    ["created", d.createdTime ? new Date(d.createdTime).toISOString() : "unknown"],
    [
      "protocol",
      `reader ${p.minReaderVersion}, writer ${p.minWriterVersion}${
        p.readerFeatures?.length ? `, reader features ${p.readerFeatures.join(" ")}` : ""
      }${p.writerFeatures?.length ? `, writer features ${p.writerFeatures.join(" ")}` : ""}`,
    ],
    ["partitioned by", d.partitionColumns.join(", ") || "(none)"],
    ["files", formatCount(d.files)],
    ["bytes", `${formatCount(d.bytes)} (${formatBytes(d.bytes)})`],
    [
      "rows",
      d.rows === null
        ? `unknown (${d.filesWithoutStats} files have no stats)`
        : formatCount(d.rows),
    ],
    ...(d.deletionVectors.files
      ? [[
        "deletion vectors",
        `${formatCount(d.deletionVectors.files)} files, ${
          formatCount(d.deletionVectors.deletedRows)
        } rows deleted`,
      ] as [string, string]]
      : []),
    [
      "checkpoint",
      d.checkpointVersion === null
        ? "none"
        : `version ${d.checkpointVersion}${
          d.lastCheckpoint !== d.checkpointVersion
            ? ` (_last_checkpoint says ${d.lastCheckpoint ?? "nothing"})`
            : ""
        }`,
    ],
    ...Object.entries(d.properties).map(([k, v]) => [`property ${k}`, v] as [string, string]),
  ]));
  write(
    "\n" + formatTable(
      ["column", "type", "nullable"],
      d.schema.fields.map((f) => [f.name, typeName(f.type), f.nullable ? "yes" : "no"]),
    ),
  );
  return 0;
}
