/**
 * `neuralake history <table>`: the commits of a table, newest first, all of
 * them or those up to a version (`--version`, `--timestamp`).
 */

import { readHistory } from "../ops/history.ts";
import { openTable } from "../ops/table.ts";
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
import { GLOBAL_HELP, intFlag, parseCommandArgs, positionals } from "./args.ts";
import { formatTable, printJson, snakeCaseKeys, write } from "./output.ts";

export const HISTORY_HELP =
  `Usage: neuralake history <table> [--limit N] [--version N | --timestamp T]

Show the commits of a table, newest first: version, time, operation, and
the actions each commit holds.

Options:
  --limit <N>          Show at most N commits (default: all)
${asOfHelp("Show the commits up to")}

A version before the earliest one that can be reconstructed (the oldest
checkpoint, once older commits are cleaned up) or after the latest, and a
time before the first commit, are errors. With either flag, the first line
names the version shown up to (and, with --timestamp, when it was committed).

${GLOBAL_HELP}`;

/** Arguments of `history`. */
export interface HistoryArgs extends AsOf {
  table: string;
  limit: number | undefined;
  json: boolean;
}

/** Parses `history` arguments. */
export function parseHistoryArgs(argv: string[]): HistoryArgs {
  const args = parseCommandArgs("history", argv, {
    limit: { type: "string" },
    ...AS_OF_OPTIONS,
  });
  const [table] = positionals(args, ["table"], "history");
  return {
    table: table!,
    limit: intFlag(args, "limit", "history"),
    ...parseAsOf(args, "history"),
    json: args.values.json === true,
  };
}

/** Runs `history`. */
export async function runHistory(args: HistoryArgs): Promise<number> {
  const table = await openTable(args.table);
  const { version, at } = await resolveAsOf(table, args);
  const entries = await withAsOfFlag(
    args,
    () =>
      readHistory(table, {
        ...(args.limit !== undefined ? { limit: args.limit } : {}),
        ...(version !== undefined ? { version } : {}),
      }),
  );
  if (args.json) {
    // A commit's operationParameters as the log holds them; actions by their
    // names in the log (add, metaData, commitInfo).
    printJson(
      snakeCaseKeys({
        table: table.uri,
        ...(version !== undefined ? { version } : {}),
        ...commitTimeFields(at),
        commits: entries,
      }, ["operationParameters", "actions"]),
    );
    return 0;
  }
  // Which version the flags chose, as verify and describe say it: with
  // --timestamp, the version is not what the user typed.
  const header = version === undefined
    ? ""
    : `${table.uri} up to version ${version}${
      at ? `, committed at ${describeCommitTime(at)}` : ""
    }\n`;
  write(
    header + formatTable(
      ["version", "time (UTC)", "operation", "actions", "engine"],
      entries.map((e) => [
        String(e.version),
        new Date(e.timestamp).toISOString().replace("T", " ").slice(0, 19),
        e.operation ?? "",
        Object.entries(e.actions).map(([k, n]) => `${n} ${k}`).join(", "),
        e.engineInfo ?? "",
      ]),
    ) +
      (entries.length === 0
        ? "no commits left: the log starts at a checkpoint, and the commits it replaces were cleaned up\n"
        : ""),
  );
  return 0;
}
