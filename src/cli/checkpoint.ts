/**
 * `neuralake checkpoint <table>`: write a checkpoint of the latest version.
 */

import { formatCount } from "../report/format.ts";
import { formatBytes } from "../util/units.ts";
import { checkpointTable } from "../ops/checkpoint.ts";
import { openTable } from "../ops/table.ts";
import { GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { formatFields, printJson, snakeCaseKeys, write } from "./output.ts";

export const CHECKPOINT_HELP = `Usage: neuralake checkpoint <table>

Write a checkpoint of the latest version and point _delta_log/_last_checkpoint
at it, so that readers start there instead of replaying every JSON commit. A
hint that points at a newer checkpoint that exists is kept; one that points
at nothing is replaced, even if that moves it back.

${GLOBAL_HELP}`;

/** Arguments of `checkpoint`. */
export interface CheckpointArgs {
  table: string;
  json: boolean;
}

/** Parses `checkpoint` arguments. */
export function parseCheckpointArgs(argv: string[]): CheckpointArgs {
  const args = parseCommandArgs("checkpoint", argv, {});
  const [table] = positionals(args, ["table"], "checkpoint");
  return { table: table!, json: args.values.json === true };
}

/** Runs `checkpoint`. */
export async function runCheckpoint(args: CheckpointArgs): Promise<number> {
  const table = await openTable(args.table);
  const hint = await checkpointTable(table);
  if (args.json) {
    // A v2 checkpoint's actions and sidecars as the log holds them.
    printJson(
      snakeCaseKeys({ table: table.uri, ...hint }, ["nonFileActions", "sidecarFiles"]),
    );
  } else {
    write(formatFields([
      ["table", table.uri],
      ["checkpoint", `version ${hint.version}`],
      ["actions", formatCount(hint.size)],
      ["files", formatCount(hint.numOfAddFiles)],
      [
        "bytes",
        hint.sizeInBytes === undefined
          ? "unknown"
          : `${formatCount(hint.sizeInBytes)} (${formatBytes(hint.sizeInBytes)})`,
      ],
    ]));
  }
  return 0;
}
