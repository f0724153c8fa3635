/**
 * `neuralake config show`: the effective streaming configuration after the
 * profile, config file, environment and flags, with S3 secrets redacted.
 */

import { describeConfig, getKey } from "../roles/config.ts";
import { KEYS } from "../roles/config_keys.ts";
import { redactedS3Config, resolveS3ConfigFromEnvironment } from "../storage/s3/config.ts";
import { describeStoreUri } from "../storage/open.ts";
import { GLOBAL_HELP, parseCommandArgs, type ParsedArgs, positionals, UsageError } from "./args.ts";
import { redactUserinfo } from "../util/redact.ts";
import { formatTable, snakeCaseKeys, toJson, write } from "./output.ts";
import { CONFIG_FLAGS, CONFIG_HELP, configFromArgs } from "./stream_config.ts";

export const CONFIG_COMMAND_HELP = `Usage: neuralake config show [table] [options]

Print the configuration a streaming run would use, after the --profile
defaults, the --config file, NEURALAKE_* environment variables and flags,
with the environment variable that sets each key. S3 settings come from the
AWS_* variables and ~/.aws files; secrets are always redacted.

${CONFIG_HELP}

${GLOBAL_HELP}`;

/** Arguments of `config show`. */
export interface ConfigArgs {
  args: ParsedArgs;
  table: string | undefined;
  json: boolean;
}

/** Parses `config show` arguments. */
export function parseConfigArgs(argv: string[]): ConfigArgs {
  const args = parseCommandArgs("config", argv, CONFIG_FLAGS);
  const [action, table] = positionals(args, ["action", "table"], "config", 1);
  if (action !== "show") {
    throw new UsageError(`Unknown config action "${action}": use "config show"`, "config");
  }
  return { args, table, json: args.values.json === true };
}

/** Runs `config show`. */
export async function runConfig(parsed: ConfigArgs): Promise<number> {
  const config = await configFromArgs(parsed.args, "config", parsed.table);
  const location = describeStoreUri(config.table);
  const s3 = location.kind === "s3"
    ? redactedS3Config(await resolveS3ConfigFromEnvironment())
    : undefined;
  if (parsed.json) {
    // The settings by their names, as a --config file spells them.
    show(toJson(snakeCaseKeys({ config, ...(s3 ? { s3 } : {}) }, ["config"])) + "\n");
    return 0;
  }
  const shown = describeConfig(config);
  show(formatTable(
    ["key", "value", "environment variable"],
    KEYS.map((k) => [k.key, shown[k.key] ?? String(getKey(config, k.key)), k.env]),
  ));
  if (s3) {
    show("\nS3:\n");
    for (const [k, v] of Object.entries(s3)) {
      show(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}\n`);
    }
  }
  return 0;
}

/** Prints without the user information of any URL a setting holds (an endpoint, a proxy). */
function show(text: string): void {
  write(redactUserinfo(text));
}
