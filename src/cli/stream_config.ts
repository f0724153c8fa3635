/**
 * The flags that shape a streaming configuration, shared by `stream`, the
 * role commands and `config show`: they map onto the keys of
 * roles/config.ts, after the profile, the config file and the environment.
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { type Profile, resolveConfig, type StreamConfig } from "../roles/config.ts";
import { parseHostPort } from "../metrics/server.ts";
import { type ParsedArgs, stringFlag, UsageError } from "./args.ts";

/** Flags that set configuration keys. */
export const CONFIG_FLAGS = {
  profile: { type: "string" },
  config: { type: "string" },
  duration: { type: "string" },
  writers: { type: "string" },
  isolation: { type: "string" },
  rate: { type: "string" },
  "batch-interval": { type: "string" },
  "batch-rows": { type: "string" },
  seed: { type: "string" },
  neurons: { type: "string" },
  regions: { type: "string" },
  "partition-by": { type: "string" },
  out: { type: "string" },
  chaos: { type: "string" },
  "no-compaction": { type: "boolean" },
  "compaction-interval": { type: "string" },
  "min-files": { type: "string" },
  "target-file-size": { type: "string" },
  "checkpoint-every": { type: "string" },
  "log-retention": { type: "string" },
  "no-vacuum": { type: "boolean" },
  "vacuum-interval": { type: "string" },
  retention: { type: "string" },
  "allow-short-retention": { type: "boolean" },
  "dry-run": { type: "boolean" },
  "metrics-addr": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Help text for the configuration flags. */
export const CONFIG_HELP = `Configuration (flags beat NEURALAKE_* environment variables, which beat
the --config file, which beats the --profile defaults):
  --profile <p>              local (default: small files, short vacuum retention)
                             or production (128MiB files, 7d retention)
  --config <file>            A JSON or JSONC file of settings (see "config show")
  --duration <d>             How long writers run (default 30s)
  --writers <N>              Writer roles (default 3)
  --isolation <i>            worker (default) or process
  --rate <rows/s|max>        Total rows per second, or max (default max)
  --batch-interval <d>       Cut a batch at least this often (default 200ms)
  --batch-rows <N>           Most rows per batch (default 100000 local)
  --seed <N>                 Generator seed (default 42)
  --neurons <N>              Neurons per writer (default 1024)
  --regions <a,b,...>        Cortical regions (default M1,S1,PMd,PPC)
  --partition-by <a,b>       Partition columns of a new table
  --out <dir>                Where run directories go (default ./neuralake-data/runs)
  --chaos <mode>             Inject faults; verification must still pass:
                               kill-writers[=N]    SIGKILL writers N times (default 3)
                                 at random moments, after an upload, after a commit
                               kill-compactor[=N]  kill the compactor mid-rewrite,
                                 after a commit and at random moments
                               kill-vacuum[=N]     kill vacuum mid-delete and at random
                               storage-faults[=r]  fail a share r of storage requests
                                 (default 0.02): 5xx, connection reset, a response
                                 lost after the write applied, multi-second stalls
                               partition[=d]       cut one role off from storage for
                                 d (default 3s), as a network partition would
                               disk-full           every write fails (no space left
                                 on device) from half way into the run
                             Killed roles restart; use --isolation process for real
                             SIGKILLs
  --no-compaction            Do not run the compaction role
  --compaction-interval <d>  Time between compaction passes
  --min-files <N>            Small files in a partition that trigger compaction
  --target-file-size <size>  Size compacted files aim for
  --checkpoint-every <N>     Versions between checkpoints (default 100)
  --log-retention <d>        Age after which log files may be cleaned up
  --no-vacuum                Do not run the vacuum role
  --vacuum-interval <d>      Time between vacuum passes
  --retention <d>            Vacuum retention (default 30s local, 7d production)
  --allow-short-retention    Allow a retention below the table's (set in local)
  --dry-run                  Vacuum only reports what it would delete
  --metrics-addr <host:port> Serve /metrics (Prometheus text format) and /healthz
                             (200, or 503 with the reason) there while running`;

/** The flags that set one configuration key each, by flag name. */
export const FLAG_KEYS: Record<string, string> = {
  profile: "profile",
  duration: "durationMs",
  writers: "writers",
  isolation: "isolation",
  rate: "rate",
  "batch-interval": "batchIntervalMs",
  "batch-rows": "batchRows",
  seed: "seed",
  neurons: "neurons",
  regions: "regions",
  "partition-by": "partitionBy",
  out: "out",
  "compaction-interval": "compaction.intervalMs",
  "min-files": "compaction.minFiles",
  "target-file-size": "compaction.targetFileSize",
  "checkpoint-every": "compaction.checkpointEvery",
  "log-retention": "compaction.logRetentionMs",
  "vacuum-interval": "vacuum.intervalMs",
  retention: "vacuum.retentionMs",
};

/** The settings of a `--chaos` value, such as `kill-compactor=2` or `storage-faults=0.05`. */
export function chaosFlag(text: string, command: string): [string, string][] {
  const [mode, value] = text.split("=", 2) as [string, string | undefined];
  const valueKey: Record<string, string | undefined> = {
    "none": undefined,
    "kill-writers": "chaos.kills",
    "kill-compactor": "chaos.kills",
    "kill-vacuum": "chaos.kills",
    "storage-faults": "chaos.faultRate",
    "partition": "chaos.partitionMs",
    "disk-full": undefined,
  };
  if (!(mode in valueKey) || (value !== undefined && valueKey[mode] === undefined)) {
    throw new UsageError(
      `--chaos must be one of kill-writers[=N], kill-compactor[=N], kill-vacuum[=N], ` +
        `storage-faults[=rate], partition[=duration], disk-full or none, got "${text}"`,
      command,
    );
  }
  const out: [string, string][] = [["chaos.mode", mode]];
  if (value !== undefined) out.push([valueKey[mode]!, value]);
  return out;
}

/** The `--metrics-addr` of a command, checked, or undefined. */
export function metricsAddrFlag(args: ParsedArgs, command: string): string | undefined {
  const value = stringFlag(args, "metrics-addr");
  if (value === undefined) return undefined;
  try {
    parseHostPort(value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  return value;
}

/** Builds the configuration from parsed flags (plus the environment and config file). */
export async function configFromArgs(
  args: ParsedArgs,
  command: string,
  table: string | undefined,
  defaultProfile: Profile = "local",
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<StreamConfig> {
  const flags: [string, string][] = [];
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const value = stringFlag(args, flag);
    if (value !== undefined) flags.push([key, value]);
  }
  if (table !== undefined) flags.push(["table", table]);
  if (args.values["no-compaction"] === true) flags.push(["compaction.enabled", "false"]);
  if (args.values["no-vacuum"] === true) flags.push(["vacuum.enabled", "false"]);
  if (args.values["allow-short-retention"] === true) {
    flags.push(["vacuum.allowShortRetention", "true"]);
  }
  if (args.values["dry-run"] === true) flags.push(["vacuum.dryRun", "true"]);
  const chaos = stringFlag(args, "chaos");
  if (chaos !== undefined) flags.push(...chaosFlag(chaos, command));
  const path = stringFlag(args, "config");
  let file: { path: string; text: string } | undefined;
  if (path !== undefined) {
    try {
      file = { path, text: await Deno.readTextFile(path) };
    } catch (error) {
      throw new Error(`Cannot read the config file ${path}`, { cause: error });
    }
  }
  return resolveConfig({ profile: defaultProfile, env, flags, ...(file ? { file } : {}) });
}
