/**
 * `neuralake describe <table>`: version, schema, partitioning, protocol,
 * files, bytes, rows and checkpoint of a table.
 */

import { formatCount } from "../report/format.ts";
import { describeTable } from "../ops/describe.ts";
import { openTable, versionAtTime } from "../ops/table.ts";
import { typeName } from "../delta/schema.ts";
import { formatBytes } from "../util/units.ts";
import {
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  timestampFlag,
  UsageError,
} from "./args.ts";
import { formatFields, formatTable, printJson, snakeCaseKeys, write } from "./output.ts";

export const DESCRIBE_HELP = `Usage: neuralake describe <table> [--version N | --timestamp T]

Describe a table: version, schema, partitioning, protocol, number of files,
bytes, rows (from file statistics, less the rows deletion vectors delete),
deletion vectors and the last checkpoint.

Options:
  --version <N>        Describe version N instead of the latest
  --timestamp <time>   Describe the latest version committed at or before this
                       time (ISO-8601, a date, or epoch milliseconds; see
                       scan --help for how commit times are found)

${GLOBAL_HELP}`;

/** Arguments of `describe`. */
export interface DescribeArgs {
  table: string;
  version: number | undefined;
  timestamp: number | undefined;
  json: boolean;
}

/** Parses `describe` arguments. */
export function parseDescribeArgs(argv: string[]): DescribeArgs {
  const args = parseCommandArgs("describe", argv, {
    version: { type: "string" },
    timestamp: { type: "string" },
  });
  const [table] = positionals(args, ["table"], "describe");
  const version = intFlag(args, "version", "describe");
  const timestamp = timestampFlag(args, "timestamp", "describe");
  if (version !== undefined && timestamp !== undefined) {
    throw new UsageError("--version and --timestamp cannot be used together", "describe");
  }
  return {
    table: table!,
    version,
    timestamp,
    json: args.values.json === true,
  };
}

/** Runs `describe`. */
export async function runDescribe(args: DescribeArgs): Promise<number> {
  const table = await openTable(args.table);
  const at = args.timestamp === undefined ? undefined : await versionAtTime(table, args.timestamp);
  const d = await describeTable(table, at?.version ?? args.version);
  const committed = at
    ? { commitTimestamp: at.commitTimestamp, commitTimestampSource: at.source }
    : {};
  if (args.json) {
    // The schema, protocol and properties as the log holds them.
    printJson(snakeCaseKeys({ ...d, ...committed }, ["schema", "protocol", "properties"]));
    return 0;
  }
  const p = d.protocol;
  write(formatFields([
    ["table", d.uri],
    ["id", d.id],
    ...(d.name ? [["name", d.name] as [string, string]] : []),
    ["version", String(d.version)],
    ...(at
      ? [[
        "committed",
        `${new Date(at.commitTimestamp).toISOString()} (${
          at.source === "inCommitTimestamp" ? "in-commit timestamp" : "commit file time"
        })`,
      ] as [string, string]]
      : []),
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
