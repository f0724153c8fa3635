/**
 * The neuralake command line. This file only parses the command name and
 * global flags, dispatches to one command, and turns errors into exit codes:
 * 0 success, 1 failure, 2 usage error. Only this file calls `Deno.exit`.
 */

import { errorChain, formatError, InputError, InvalidUriError } from "./src/util/errors.ts";
import { type LogLevelName, parseLogLevel, setupLogging } from "./src/util/log.ts";
import { VERSION } from "./src/version.ts";
import { closestName, UsageError } from "./src/cli/args.ts";
import { printJson } from "./src/cli/output.ts";
import { redactUserinfo } from "./src/util/redact.ts";

/** What a command module provides once loaded: its help and its entry. */
interface LoadedCommand {
  help: string;
  main(argv: string[]): Promise<number>;
}

/**
 * The commands. Each loads its module only when it runs (a literal dynamic
 * import, which `deno compile` includes), so that `neuralake scan` or
 * `neuralake --help` does not load the Kafka client, the stream's roles or
 * the report writers first.
 */
const COMMANDS: Record<
  string,
  { summary: string; hidden?: boolean; load(): Promise<LoadedCommand> }
> = {
  stream: {
    summary: "Run the streaming job: writers, compaction and vacuum, then verify",
    load: async () => {
      const m = await import("./src/cli/stream.ts");
      return {
        help: m.STREAM_HELP,
        main: (argv) => m.runStreamCommand(m.parseStreamArgs(argv)),
      };
    },
  },
  writer: {
    summary: "Run one writer role against a table",
    load: async () => {
      const m = await import("./src/cli/roles.ts");
      return {
        help: m.WRITER_HELP,
        main: (argv) => m.runRoleCommand(m.parseRoleArgs("writer", argv)),
      };
    },
  },
  compactor: {
    summary: "Run the compaction role against a table",
    load: async () => {
      const m = await import("./src/cli/roles.ts");
      return {
        help: m.COMPACTOR_HELP,
        main: (argv) => m.runRoleCommand(m.parseRoleArgs("compactor", argv)),
      };
    },
  },
  ingest: {
    summary: "Consume a Kafka topic into a table, exactly once, with a consumer group",
    load: async () => {
      const m = await import("./src/cli/ingest.ts");
      return { help: m.INGEST_HELP, main: (argv) => m.runIngestCommand(m.parseIngestArgs(argv)) };
    },
  },
  config: {
    summary: "Show the effective streaming configuration (secrets redacted)",
    load: async () => {
      const m = await import("./src/cli/config.ts");
      return { help: m.CONFIG_COMMAND_HELP, main: (argv) => m.runConfig(m.parseConfigArgs(argv)) };
    },
  },
  role: {
    summary: "Internal: run a role for an orchestrator over stdin/stdout",
    hidden: true,
    load: async () => {
      const m = await import("./src/cli/roles.ts");
      return { help: m.ROLE_HELP, main: () => m.runInternalRole() };
    },
  },
  create: {
    summary: "Create an empty table from a Delta schema",
    load: async () => {
      const m = await import("./src/cli/create.ts");
      return { help: m.CREATE_HELP, main: (argv) => m.runCreate(m.parseCreateArgs(argv)) };
    },
  },
  write: {
    summary: "Append or overwrite rows from CSV, NDJSON or Parquet",
    load: async () => {
      const m = await import("./src/cli/write.ts");
      return { help: m.WRITE_HELP, main: (argv) => m.runWrite(m.parseWriteArgs(argv)) };
    },
  },
  scan: {
    summary: "Read rows, with columns, a predicate, time travel and a limit",
    load: async () => {
      const m = await import("./src/cli/scan.ts");
      return { help: m.SCAN_HELP, main: (argv) => m.runScan(m.parseScanArgs(argv)) };
    },
  },
  history: {
    summary: "Show the commits of a table",
    load: async () => {
      const m = await import("./src/cli/history.ts");
      return { help: m.HISTORY_HELP, main: (argv) => m.runHistory(m.parseHistoryArgs(argv)) };
    },
  },
  describe: {
    summary: "Show a table's schema, partitioning, protocol, files and rows",
    load: async () => {
      const m = await import("./src/cli/describe.ts");
      return { help: m.DESCRIBE_HELP, main: (argv) => m.runDescribe(m.parseDescribeArgs(argv)) };
    },
  },
  checkpoint: {
    summary: "Write a checkpoint of the latest version",
    load: async () => {
      const m = await import("./src/cli/checkpoint.ts");
      return {
        help: m.CHECKPOINT_HELP,
        main: (argv) => m.runCheckpoint(m.parseCheckpointArgs(argv)),
      };
    },
  },
  health: {
    summary: "Check a table location: credentials, bucket, clock, conditional writes",
    load: async () => {
      const m = await import("./src/cli/health.ts");
      return { help: m.HEALTH_HELP, main: (argv) => m.runHealth(m.parseHealthArgs(argv)) };
    },
  },
  verify: {
    summary: "Check that every file, row count, commit and checkpoint is sound",
    load: async () => {
      const m = await import("./src/cli/verify.ts");
      return { help: m.VERIFY_HELP, main: (argv) => m.runVerify(m.parseVerifyArgs(argv)) };
    },
  },
  optimize: {
    summary: "Run one compaction pass (OPTIMIZE) and exit, for nightly scripts",
    load: async () => {
      const m = await import("./src/cli/optimize.ts");
      return { help: m.OPTIMIZE_HELP, main: (argv) => m.runOptimize(m.parseOptimizeArgs(argv)) };
    },
  },
  vacuum: {
    summary: "Delete unreferenced data files past retention",
    load: async () => {
      const m = await import("./src/cli/vacuum.ts");
      return { help: m.VACUUM_HELP, main: (argv) => m.runVacuum(m.parseVacuumArgs(argv)) };
    },
  },
  produce: {
    summary: "Publish generated neural rows to a Kafka topic at a given rate",
    load: async () => {
      const m = await import("./src/cli/produce.ts");
      return { help: m.PRODUCE_HELP, main: (argv) => m.runProduce(m.parseProduceArgs(argv)) };
    },
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
 * A level that is not one is a usage error naming where it came from: the
 * flag, or `NEURALAKE_LOG_LEVEL`.
 */
function logLevelOf(command: string | undefined, argv: string[]): LogLevelName {
  const parse = (text: string, from: string) => {
    try {
      return parseLogLevel(text);
    } catch (error) {
      throw new UsageError(`${from}: ${(error as Error).message}`);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--log-level") {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError("Missing a value for --log-level");
      return parse(value, `--log-level ${value}`);
    }
    if (a.startsWith("--log-level=")) {
      const value = a.slice("--log-level=".length);
      return parse(value, `--log-level ${value}`);
    }
  }
  const env = Deno.env.get("NEURALAKE_LOG_LEVEL");
  if (env !== undefined) return parse(env, `NEURALAKE_LOG_LEVEL=${env}`);
  return ["stream", "writer", "compactor", "ingest"].includes(command ?? "") ? "info" : "warning";
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes("--json");
  try {
    setupLogging(logLevelOf(command, rest), "json");
    // `neuralake help scan` is `neuralake scan --help`.
    if (command === "help" && rest[0] !== undefined && !rest[0].startsWith("-")) {
      return await main([rest[0], "--help"]);
    }
    if (command === undefined) {
      // A usage error: the help goes to stderr, as other usage errors do.
      console.error(topLevelHelp());
      return 2;
    }
    if (command === "help" || command === "--help" || command === "-h") {
      console.log(topLevelHelp());
      return 0;
    }
    if (command === "--version" || command === "version") {
      if (json) printJson({ version: VERSION });
      else console.log(`neuralake ${VERSION}`);
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) {
      const visible = Object.keys(COMMANDS).filter((c) => !COMMANDS[c]!.hidden);
      const hint = closestName(command, visible);
      throw new UsageError(
        `Unknown command "${command}"${hint !== undefined ? `; did you mean ${hint}?` : ""}`,
      );
    }
    const loaded = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(loaded.help);
      return 0;
    }
    return await loaded.main(rest);
  } catch (error) {
    return reportError(error, json, command);
  }
}

/** Whether `error` or one of its causes is a `kind`. */
function causedBy(error: unknown, kind: new (...args: never[]) => Error): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 16; depth++) {
    if (e instanceof kind) return true;
    e = (e as Error).cause;
  }
  return false;
}

function reportError(error: unknown, json: boolean, command: string | undefined): number {
  // Whoever read stdout has gone (`neuralake scan t | head`): they have all
  // they wanted, which is no failure and needs no message.
  if (error instanceof Deno.errors.BrokenPipe) return 0;
  // A table given as a file's path (`scan data.csv`) fails deep in a lookup.
  if (causedBy(error, Deno.errors.NotADirectory)) {
    error = new Error(
      `${(error as Error).message}: a file stands where a directory is expected; a table is a ` +
        `directory, so check the table path`,
      { cause: error },
    );
  }
  // A table URI that names no table is a mistake in the call, as a bad flag is.
  const usage = error instanceof UsageError || causedBy(error, InvalidUriError);
  const status = usage ? 2 : 1;
  let text = `error: ${formatError(error)}`;
  if (usage) {
    const which = (error instanceof UsageError ? error.command : undefined) ??
      (command && COMMANDS[command] ? command : undefined);
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
