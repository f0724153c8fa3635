/**
 * The role commands: `neuralake writer <table>` and `neuralake compactor
 * <table>` run one role on this machine (many machines can run them against
 * one S3 table), and the internal `neuralake role`, which the orchestrator
 * spawns for `--isolation process` and drives over stdin/stdout.
 */

import type { Report, RoleKind, RoleSpec } from "../roles/messages.ts";
import { processChannel } from "../roles/process_channel.ts";
import { ChannelState, fatalReport, runRole } from "../roles/run_role.ts";
import { sleep } from "../util/backoff.ts";
import { log } from "../util/log.ts";
import {
  GLOBAL_HELP,
  parseCommandArgs,
  type ParsedArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { snakeCaseKeys, toJson, write } from "./output.ts";
import { CONFIG_FLAGS, configFromArgs, configHelp, metricsAddrFlag } from "./stream_config.ts";
import { PROFILES } from "../roles/config_keys.ts";
import { formatDurationFlag } from "../util/units.ts";
import { JobMonitor } from "../metrics/monitor.ts";
import { stampEvent } from "../metrics/events.ts";
import { describeStoreUri } from "../storage/open.ts";

const ROLE_FLAGS = {
  ...CONFIG_FLAGS,
  id: { type: "string" },
  session: { type: "string" },
} as const;

/** Flags of stream that a run of the whole job needs, and no single role. */
const JOB_ONLY = [
  "out",
  "run-files-max",
  "writers",
  "source",
  "brokers",
  "topic",
  "group",
  "until-idle",
  "broker-timeout",
  "dead-letter",
  "isolation",
  "no-compaction",
  "no-vacuum",
  "vacuum-interval",
  "dry-run",
];

/**
 * The flags a role command refuses by name: they set nothing it does, and a
 * flag is honoured or refused, never ignored.
 */
const NOT_FOR: Partial<Record<RoleKind, readonly string[]>> = {
  writer: [
    ...JOB_ONLY,
    "compaction-interval",
    "min-files",
    "target-file-size",
    "settle-after",
  ],
  compactor: [
    ...JOB_ONLY,
    "session",
    "rate",
    "batch-interval",
    "batch-rows",
    "neurons",
    "regions",
  ],
};

function roleHelp(kind: RoleKind, what: string): string {
  return `Usage: neuralake ${kind === "vacuum" ? "vacuum --every <d>" : kind} <table> [options]

${what}

It runs until --duration is up (default ${
    formatDurationFlag(PROFILES.production.durationMs)
  }), or forever with --duration 0,
and stops gracefully on SIGINT or SIGTERM. Events are printed as JSON lines.
Settings default to the production profile (pass --profile local for demos).

Options:
${
    kind === "writer"
      ? `  --id <id>          This writer's id (default writer-<hostname>-<pid>), its
                     idempotency key: reuse it after a restart to resume after
                     its last committed batch
  --session <id>     The session id written into rows (default <id>-<start time>)`
      : `  --id <id>          This instance's id in events and metrics (default
                     ${kind}-<hostname>-<pid>)`
  }

${configHelp(NOT_FOR[kind] ?? [])}

${GLOBAL_HELP}`;
}

export const WRITER_HELP = roleHelp(
  "writer",
  "Run one writer role: generate neural data and append it in batches, each one\nParquet file and one commit with an idempotent txn marker.",
);

export const COMPACTOR_HELP = roleHelp(
  "compactor",
  "Run the compaction role: bin-pack small files into large ones (copying big\nrow groups byte for byte), checkpoint every N versions and clean up the log.",
);

/** Arguments of a role command. */
export interface RoleArgs {
  kind: RoleKind;
  args: ParsedArgs;
  table: string;
  json: boolean;
}

/** Parses the arguments of `writer` or `compactor`. */
export function parseRoleArgs(kind: RoleKind, argv: string[]): RoleArgs {
  const args = parseCommandArgs(kind, argv, ROLE_FLAGS);
  for (const flag of NOT_FOR[kind] ?? []) {
    if (args.values[flag] !== undefined) {
      throw new UsageError(
        `--${flag} does not apply to the ${kind} command${
          JOB_ONLY.includes(flag) ? " (it is an option of neuralake stream)" : ""
        }`,
        kind,
      );
    }
  }
  const [table] = positionals(args, ["table"], kind);
  return { kind, args, table: table!, json: args.values.json === true };
}

/** Runs a role on its own, printing its events as JSON lines. */
export async function runRoleCommand(parsed: RoleArgs): Promise<number> {
  // A role on its own usually serves a real table: production settings by default.
  const config = await configFromArgs(parsed.args, parsed.kind, parsed.table, "production");
  const id = stringFlag(parsed.args, "id") ?? `${parsed.kind}-${Deno.hostname()}-${Deno.pid}`;
  if (parsed.kind === "writer" && !/^[A-Za-z0-9_.:-]+$/.test(id)) {
    throw new UsageError(
      `--id may hold letters, digits and _ . : - only, got "${id}"`,
      parsed.kind,
    );
  }
  const started = Date.now();
  const spec: RoleSpec = {
    kind: parsed.kind,
    id,
    config: { ...config, writers: parsed.kind === "writer" ? 1 : config.writers },
    sessionId: stringFlag(parsed.args, "session") ?? `${id}-${new Date(started).toISOString()}`,
    runStartMs: started,
  };
  const metricsAddr = metricsAddrFlag(parsed.args, parsed.kind);
  const monitor = new JobMonitor(describeStoreUri(config.table).uri, parsed.kind, id);
  if (metricsAddr !== undefined) {
    const server = monitor.serve(metricsAddr);
    log(parsed.kind).info("Serving /metrics and /healthz on {address}", {
      address: `${server.hostname}:${server.port}`,
    });
  }
  const state = new ChannelState();
  let failed = false;
  const debug = Deno.env.get("NEURALAKE_LOG_LEVEL") === "debug" ||
    parsed.args.values["log-level"] === "debug";
  const channel = state.channel((report: Report) => {
    if (report.type === "event") monitor.observe(stampEvent(started, report.at, report.event));
    if (report.type === "fatal") {
      failed = true;
      // The stack trace is for --log-level debug only.
      if (!debug) delete report.debug;
    }
    // An event's fields are the metrics schema's, snake_case already.
    write(toJson(snakeCaseKeys({ t_ms: Date.now() - started, ...report }, ["event"]), 0) + "\n");
  }, () => {
    // Dying at an armed chaos point is a crash, as in the orchestrator's roles.
    Deno.kill(Deno.pid, "SIGKILL");
    throw new Error("unreachable");
  });
  const stop = () => state.requestStop();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  if (config.durationMs > 0) sleep(config.durationMs).then(stop);
  try {
    await runRole(spec, channel);
  } finally {
    await monitor.close();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  log(parsed.kind).info("{id} stopped", { id });
  return failed ? 1 : 0;
}

export const ROLE_HELP = `Usage: neuralake role

Internal: runs one role for an orchestrator, reading commands as JSON lines
on stdin and writing reports as JSON lines on stdout.

${GLOBAL_HELP}`;

/** Runs the internal `role` command. */
export async function runInternalRole(): Promise<number> {
  const { channel, spec, flush } = processChannel();
  let failed = false;
  try {
    await runRole(await spec, channel);
  } catch (error) {
    failed = true;
    const s = await spec.catch(() => undefined);
    channel.send(fatalReport(s?.id ?? "unknown", error));
  } finally {
    flush();
  }
  return failed ? 1 : 0;
}
