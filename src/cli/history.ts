/**
 * `neuralake history <table>`: the commits of a table, newest first.
 */

import { readHistory } from "../ops/history.ts";
import { openTable } from "../ops/table.ts";
import { GLOBAL_HELP, intFlag, parseCommandArgs, positionals } from "./args.ts";
import { formatTable, printJson, snakeCaseKeys, write } from "./output.ts";

export const HISTORY_HELP = `Usage: neuralake history <table> [--limit N]

Show the commits of a table, newest first: version, time, operation, and
the actions each commit holds.

Options:
  --limit <N>   Show at most N commits (default: all)

${GLOBAL_HELP}`;

/** Arguments of `history`. */
export interface HistoryArgs {
  table: string;
  limit: number | undefined;
  json: boolean;
}

/** Parses `history` arguments. */
export function parseHistoryArgs(argv: string[]): HistoryArgs {
  const args = parseCommandArgs("history", argv, { limit: { type: "string" } });
  const [table] = positionals(args, ["table"], "history");
  return {
    table: table!,
    limit: intFlag(args, "limit", "history"),
    json: args.values.json === true,
  };
}

/** Runs `history`. */
export async function runHistory(args: HistoryArgs): Promise<number> {
  const table = await openTable(args.table);
  const entries = await readHistory(table, args.limit);
  if (args.json) {
    // A commit's operationParameters as the log holds them; actions by their
    // names in the log (add, metaData, commitInfo).
    printJson(
      snakeCaseKeys({ table: table.uri, commits: entries }, ["operationParameters", "actions"]),
    );
    return 0;
  }
  write(formatTable(
    ["version", "time (UTC)", "operation", "actions", "engine"],
    entries.map((e) => [
      String(e.version),
      new Date(e.timestamp).toISOString().replace("T", " ").slice(0, 19),
      e.operation ?? "",
      Object.entries(e.actions).map(([k, n]) => `${n} ${k}`).join(", "),
      e.engineInfo ?? "",
    ]),
  ));
  return 0;
}
