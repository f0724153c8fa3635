/**
 * The neuralake command line. This file only parses the command name and
 * global flags, dispatches to one command, and turns errors into exit codes:
 * 0 success, 1 failure, 2 usage error. Only this file calls `Deno.exit`.
 */

import { errorChain, formatError, InputError } from "./src/util/errors.ts";
import { parseLogLevel, setupLogging } from "./src/util/log.ts";
import { VERSION } from "./src/version.ts";
import { UsageError } from "./src/cli/args.ts";
import { printJson } from "./src/cli/output.ts";
import { CREATE_HELP, parseCreateArgs, runCreate } from "./src/cli/create.ts";
import { HISTORY_HELP, parseHistoryArgs, runHistory } from "./src/cli/history.ts";
import { parseWriteArgs, runWrite, WRITE_HELP } from "./src/cli/write.ts";
import { parseScanArgs, runScan, SCAN_HELP } from "./src/cli/scan.ts";
import { DESCRIBE_HELP, parseDescribeArgs, runDescribe } from "./src/cli/describe.ts";
import { CHECKPOINT_HELP, parseCheckpointArgs, runCheckpoint } from "./src/cli/checkpoint.ts";
import { parseVerifyArgs, runVerify, VERIFY_HELP } from "./src/cli/verify.ts";
import { parseVacuumArgs, runVacuum, VACUUM_HELP } from "./src/cli/vacuum.ts";
import { OPTIMIZE_HELP, parseOptimizeArgs, runOptimize } from "./src/cli/optimize.ts";
import { parseStreamArgs, runStreamCommand, STREAM_HELP } from "./src/cli/stream.ts";
import {
  COMPACTOR_HELP,
  parseRoleArgs,
  ROLE_HELP,
  runInternalRole,
  runRoleCommand,
  WRITER_HELP,
} from "./src/cli/roles.ts";
import { CONFIG_COMMAND_HELP, parseConfigArgs, runConfig } from "./src/cli/config.ts";
import { HEALTH_HELP, parseHealthArgs, runHealth } from "./src/cli/health.ts";
import { INGEST_HELP, parseIngestArgs, runIngestCommand } from "./src/cli/ingest.ts";
import { parseProduceArgs, PRODUCE_HELP, runProduce } from "./src/cli/produce.ts";
import { redactUserinfo } from "./src/util/redact.ts";

const COMMANDS: Record<
  string,
  { summary: string; help: string; hidden?: boolean; main(argv: string[]): Promise<number> }
> = {
  stream: {
    summary: "Run the streaming job: writers, compaction and vacuum, then verify",
    help: STREAM_HELP,
    main: (argv) => runStreamCommand(parseStreamArgs(argv)),
  },
  writer: {
    summary: "Run one writer role against a table",
    help: WRITER_HELP,
    main: (argv) => runRoleCommand(parseRoleArgs("writer", argv)),
  },
  compactor: {
    summary: "Run the compaction role against a table",
    help: COMPACTOR_HELP,
    main: (argv) => runRoleCommand(parseRoleArgs("compactor", argv)),
  },
  ingest: {
    summary: "Consume a Kafka topic into a table, exactly once, with a consumer group",
    help: INGEST_HELP,
    main: (argv) => runIngestCommand(parseIngestArgs(argv)),
  },
  config: {
    summary: "Show the effective streaming configuration (secrets redacted)",
    help: CONFIG_COMMAND_HELP,
    main: (argv) => runConfig(parseConfigArgs(argv)),
  },
  role: {
    summary: "Internal: run a role for an orchestrator over stdin/stdout",
    help: ROLE_HELP,
    hidden: true,
    main: () => runInternalRole(),
  },
  create: {
    summary: "Create an empty table from a Delta schema",
    help: CREATE_HELP,
    main: (argv) => runCreate(parseCreateArgs(argv)),
  },
  write: {
    summary: "Append or overwrite rows from CSV, NDJSON or Parquet",
    help: WRITE_HELP,
    main: (argv) => runWrite(parseWriteArgs(argv)),
  },
  scan: {
    summary: "Read rows, with columns, a predicate, time travel and a limit",
    help: SCAN_HELP,
    main: (argv) => runScan(parseScanArgs(argv)),
  },
  history: {
    summary: "Show the commits of a table",
    help: HISTORY_HELP,
    main: (argv) => runHistory(parseHistoryArgs(argv)),
  },
  describe: {
    summary: "Show a table's schema, partitioning, protocol, files and rows",
    help: DESCRIBE_HELP,
    main: (argv) => runDescribe(parseDescribeArgs(argv)),
  },
  checkpoint: {
    summary: "Write a checkpoint of the latest version",
    help: CHECKPOINT_HELP,
    main: (argv) => runCheckpoint(parseCheckpointArgs(argv)),
  },
  health: {
    summary: "Check a table location: credentials, bucket, clock, conditional writes",
    help: HEALTH_HELP,
    main: (argv) => runHealth(parseHealthArgs(argv)),
  },
  verify: {
    summary: "Check that every file, row count, commit and checkpoint is sound",
    help: VERIFY_HELP,
    main: (argv) => runVerify(parseVerifyArgs(argv)),
  },
  optimize: {
    summary: "Run one compaction pass (OPTIMIZE) and exit, for nightly scripts",
    help: OPTIMIZE_HELP,
    main: (argv) => runOptimize(parseOptimizeArgs(argv)),
  },
  vacuum: {
    summary: "Delete unreferenced data files past retention",
    help: VACUUM_HELP,
    main: (argv) => runVacuum(parseVacuumArgs(argv)),
  },
  produce: {
    summary: "Publish generated neural rows to a Kafka topic at a given rate",
    help: PRODUCE_HELP,
    main: (argv) => runProduce(parseProduceArgs(argv)),
  },
};

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS)
    .filter(([, c]) => !c.hidden)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `neuralake ${VERSION}: stream neural recordings into Delta Lake tables

Usage: neuralake <command> [options]

Commands:
${lines.join("\n")}

Run "neuralake <command> --help" for a command's options.
Tables are paths, file:// URIs or s3://bucket/prefix (S3 settings come from
the AWS_* environment variables and ~/.aws files).`;
}

/**
 * Pulls `--log-level` out early so that logging is set up before the command
 * runs. Long-running commands log at info by default; the others at warning.
 */
function logLevelOf(command: string | undefined, argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--log-level") return argv[i + 1] ?? "warning";
    if (a.startsWith("--log-level=")) return a.slice("--log-level=".length);
  }
  return Deno.env.get("NEURALAKE_LOG_LEVEL") ??
    (["stream", "writer", "compactor", "ingest"].includes(command ?? "") ? "info" : "warning");
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes("--json");
  try {
    setupLogging(parseLogLevel(logLevelOf(command, rest)), "json");
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      console.log(topLevelHelp());
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "version") {
      console.log(`neuralake ${VERSION}`);
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) throw new UsageError(`Unknown command "${command}"`);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(entry.help);
      return 0;
    }
    return await entry.main(rest);
  } catch (error) {
    return reportError(error, json, command);
  }
}

function reportError(error: unknown, json: boolean, command: string | undefined): number {
  const usage = error instanceof UsageError;
  const status = error instanceof UsageError ? 2 : 1;
  let text = `error: ${formatError(error)}`;
  if (error instanceof UsageError) {
    const which = error.command ?? (command && COMMANDS[command] ? command : undefined);
    text += which
      ? `\nRun "neuralake ${which} --help" for usage.`
      : `\nRun "neuralake --help" for the commands.`;
  }
  // An error may quote a URL that carries a password (an endpoint that
  // cannot be parsed, a proxy); nothing printed shows it.
  console.error(redactUserinfo(text));
  if (json) {
    const [message, ...causes] = errorChain(error).map(redactUserinfo);
    const where = error instanceof InputError
      ? { file: error.file, line: error.line, column: error.column }
      : {};
    printJson({ ok: false, error: { message, causes, usage, ...where } });
  }
  return status;
}

if (import.meta.main) {
  const status = await main(Deno.args);
  Deno.exit(status);
}
