/**
 * `neuralake verify <table>`: check that a table, or one of its versions
 * (`--version`, `--timestamp`), is whole; exit 1 if not.
 */

import { formatCount } from "../report/format.ts";
import { verifyTable } from "../ops/verify.ts";
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
import { GLOBAL_HELP, parseCommandArgs, positionals } from "./args.ts";
import { printJson, write } from "./output.ts";
import { progressLine } from "./progress.ts";

export const VERIFY_HELP = `Usage: neuralake verify <table> [--version N | --timestamp T]

Check that a table is whole: every referenced file exists with its logged
size, row counts in the files match their statistics, the log has no gaps,
_last_checkpoint points at a checkpoint that exists (other engines refuse a
table whose hint points at nothing; \`neuralake checkpoint\` repairs it), and
the newest checkpoint agrees with a replay of the commits. Exits with status
1 if any check fails. A _last_checkpoint that cannot be read (empty, not
JSON) or that names a deleted checkpoint with a newer one after it is a
warning (WARN): readers list the log instead, and so does verify.

Options:
${asOfHelp("Verify")}

An older version is checked as a reader of it would find it: the files it
references (vacuum may have deleted them since), the commits up to it, and
the newest checkpoint at or before it. A version before the earliest one
that can be reconstructed or after the latest, and a time before the first
commit, are errors.

${GLOBAL_HELP}`;

/** Arguments of `verify`. */
export interface VerifyArgs extends AsOf {
  table: string;
  json: boolean;
}

/** Parses `verify` arguments. */
export function parseVerifyArgs(argv: string[]): VerifyArgs {
  const args = parseCommandArgs("verify", argv, AS_OF_OPTIONS);
  const [table] = positionals(args, ["table"], "verify");
  return { table: table!, ...parseAsOf(args, "verify"), json: args.values.json === true };
}

/** Runs `verify`. */
export async function runVerify(args: VerifyArgs): Promise<number> {
  const table = await openTable(args.table);
  const { version, at } = await resolveAsOf(table, args);
  // On a terminal, a progress line while the data files' footers are read.
  const progress = progressLine(args.json);
  let report;
  try {
    report = await withAsOfFlag(args, () =>
      verifyTable(table, {
        ...(version !== undefined ? { version } : {}),
        onFile: (done, total) =>
          progress.update(
            `verify: read ${formatCount(done)} of ${formatCount(total)} files`,
            done === total,
          ),
      }));
  } finally {
    progress.clear();
  }
  if (args.json) printJson({ ...report, ...commitTimeFields(at) });
  else {
    let text = `${report.table} at version ${report.version}${
      at ? `, committed at ${describeCommitTime(at)}` : ""
    } (${report.files} files)\n`;
    for (const c of report.checks) {
      const mark = c.skipped ? "SKIP" : !c.passed ? "FAIL" : c.warning ? "WARN" : "ok  ";
      text += `  ${mark} ${c.name}: ${c.detail}\n`;
      for (const p of c.problems) text += `         ${p}\n`;
    }
    text += report.passed ? "verify: PASSED\n" : "verify: FAILED\n";
    write(text);
  }
  return report.passed ? 0 : 1;
}
