/**
 * The flags that shape a streaming configuration, shared by `stream`, the
 * role commands and `config show`. They are generated from the table of keys
 * (roles/config_keys.ts): each key with a flag becomes a `parseArgs` option
 * and a help line whose defaults are rendered from the profiles' values, and
 * its value is applied after the profile, the config file and the
 * environment. Only `--config` and `--metrics-addr`, which are not settings
 * of a run, are declared here.
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { resolveConfig } from "../roles/config.ts";
import {
  KEYS,
  type KeySpec,
  keySpec,
  type Profile,
  type StreamConfig,
} from "../roles/config_keys.ts";
import { parseHostPort } from "../metrics/server.ts";
import { InputError } from "../util/errors.ts";
import { formatBytesFlag, formatDurationFlag } from "../util/units.ts";
import { type ParsedArgs, stringFlag, UsageError } from "./args.ts";

/** The `parseArgs` options of the keys that have a flag. */
export function flagOptions(keys: readonly KeySpec[]): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const { flag } of keys) {
    if (flag) options[flag.name] = { type: flag.sets === undefined ? "string" : "boolean" };
  }
  return options;
}

/** Flags that shape the configuration, but are not keys of it. */
const OTHER_FLAGS = {
  config: { type: "string" },
  "metrics-addr": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Flags that set configuration keys, plus `--config` and `--metrics-addr`. */
export const CONFIG_FLAGS: ParseArgsOptionsConfig = { ...flagOptions(KEYS), ...OTHER_FLAGS };

/** A value as a flag takes it, or undefined for an empty list. */
function flagText(spec: KeySpec, value: unknown): string | undefined {
  switch (spec.kind) {
    case "duration":
      return formatDurationFlag(value as number);
    case "bytes":
      return formatBytesFlag(value as number);
    case "rate":
      return value === 0 ? "max" : String(value);
    case "list":
      return (value as string[]).length === 0 ? undefined : (value as string[]).join(",");
    default:
      return String(value);
  }
}

/** "(default 30s)", "(default 30s local, 7d production)", "(set in local)", or "". */
function defaultNote(spec: KeySpec): string {
  if (!spec.helpDefault) return "";
  const { local, production } = spec.defaults;
  if (spec.flag?.sets !== undefined) {
    const set = (["local", "production"] as const).filter((p) =>
      spec.defaults[p] === spec.flag!.sets
    );
    if (set.length === 2) return " (set by default)";
    return set.length === 1 ? ` (set in ${set[0]})` : "";
  }
  const l = flagText(spec, local);
  const p = flagText(spec, production);
  if (l === undefined) return "";
  return l === p ? ` (default ${l})` : ` (default ${l} local, ${p} production)`;
}

/** The help with `{key}` and `{production:key}` replaced by those defaults. */
function expandHelp(help: string): string {
  return help.replace(/\{(?:(production):)?([A-Za-z.]+)\}/g, (whole, production, key) => {
    const spec = keySpec(key);
    if (!spec) return whole;
    return flagText(spec, spec.defaults[production === undefined ? "local" : "production"]) ??
      "none";
  });
}

const ARG_BY_KIND: Record<KeySpec["kind"], string> = {
  string: "<text>",
  int: "<N>",
  duration: "<d>",
  bytes: "<size>",
  bool: "<true|false>",
  list: "<a,b,...>",
  rate: "<rows/s|max>",
  enum: "<value>",
  fraction: "<r>",
};

const HELP_WIDTH = 88;
const HELP_COLUMN = 29;

/** One flag's help: the flag in a column of its own, then the text, wrapped. */
function helpLines(flag: string, text: string): string[] {
  const lines: string[] = [];
  let line = `  ${flag.padEnd(HELP_COLUMN - 3)} `;
  for (const [i, segment] of text.split("\n").entries()) {
    const indent = segment.length - segment.trimStart().length;
    if (i > 0) {
      lines.push(line.trimEnd());
      line = " ".repeat(HELP_COLUMN + indent);
    }
    let fresh = true;
    for (const word of segment.trim().split(" ")) {
      if (!fresh && line.length + 1 + word.length > HELP_WIDTH) {
        lines.push(line);
        line = " ".repeat(HELP_COLUMN + indent + (indent > 0 ? 2 : 0)) + word;
      } else line += (fresh ? "" : " ") + word;
      fresh = false;
    }
  }
  lines.push(line);
  return lines;
}

/** The help lines of the keys that have a flag, in table order. */
export function flagHelp(keys: readonly KeySpec[]): string[] {
  const lines: string[] = [];
  for (const spec of keys) {
    const flag = spec.flag;
    if (!flag) continue;
    const arg = flag.sets !== undefined ? "" : ` ${flag.arg ?? ARG_BY_KIND[spec.kind]}`;
    const text = expandHelp(flag.help ?? spec.help) + defaultNote(spec);
    lines.push(...helpLines(`--${flag.name}${arg}`, text));
    if (spec.key === "profile") {
      lines.push(
        ...helpLines("--config <file>", 'A JSON or JSONC file of settings (see "config show")'),
      );
    }
  }
  return lines;
}

/** Help text for the configuration flags, less those named in `omit`. */
export function configHelp(omit: readonly string[] = []): string {
  return [
    "Configuration (flags beat NEURALAKE_* environment variables, which beat",
    "the --config file, which beats the --profile defaults):",
    ...flagHelp(KEYS.filter((k) => !k.flag || !omit.includes(k.flag.name))),
    ...helpLines(
      "--metrics-addr <host:port>",
      "Serve /metrics (Prometheus text format) and /healthz (200, or 503 with the reason) there while running (default: none, nothing is served)",
    ),
  ].join("\n");
}

/** Help text for the configuration flags. */
export const CONFIG_HELP = configHelp();

/**
 * The settings of a flag whose value may carry a parameter, such as
 * `--chaos kill-compactor=2` (chaos.mode and chaos.kills).
 */
function parameterSettings(spec: KeySpec, text: string, command: string): [string, string][] {
  const flag = spec.flag!;
  const parameters = flag.parameters ?? {};
  const [value, parameter] = text.split("=", 2) as [string, string | undefined];
  const key = parameters[value];
  if (!Object.hasOwn(parameters, value) || (parameter !== undefined && key === undefined)) {
    const placeholder: Partial<Record<KeySpec["kind"], string>> = {
      int: "N",
      fraction: "rate",
      duration: "duration",
    };
    const forms = Object.entries(parameters)
      .filter(([v]) => v !== spec.defaults.local)
      .map(([v, k]) => k === undefined ? v : `${v}[=${placeholder[keySpec(k)!.kind] ?? "value"}]`);
    throw new UsageError(
      `--${flag.name} must be one of ${forms.join(", ")} or ${spec.defaults.local}, got "${text}"`,
      command,
    );
  }
  const out: [string, string][] = [[spec.key, value]];
  if (parameter !== undefined) out.push([key!, parameter]);
  return out;
}

/** The settings of a `--chaos` value, such as `kill-compactor=2` or `storage-faults=0.05`. */
export function chaosFlag(text: string, command: string): [string, string][] {
  return parameterSettings(keySpec("chaos.mode")!, text, command);
}

/** The settings the flags of `keys` give, by dotted key, as text. */
export function flagSettings(
  keys: readonly KeySpec[],
  args: ParsedArgs,
  command: string,
): [string, string][] {
  const settings: [string, string][] = [];
  for (const spec of keys) {
    const flag = spec.flag;
    if (!flag) continue;
    if (flag.sets !== undefined) {
      if (args.values[flag.name] === true) settings.push([spec.key, String(flag.sets)]);
      continue;
    }
    const value = stringFlag(args, flag.name);
    if (value === undefined) continue;
    if (flag.parameters) settings.push(...parameterSettings(spec, value, command));
    else settings.push([spec.key, value]);
  }
  return settings;
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
  const flags = flagSettings(KEYS, args, command);
  if (table !== undefined) flags.push(["table", table]);
  const path = stringFlag(args, "config");
  let file: { path: string; text: string } | undefined;
  if (path !== undefined) {
    try {
      file = { path, text: await Deno.readTextFile(path) };
    } catch (error) {
      throw new Error(`Cannot read the config file ${path}`, { cause: error });
    }
  }
  try {
    return resolveConfig({ profile: defaultProfile, env, flags, ...(file ? { file } : {}) });
  } catch (error) {
    // A bad flag value is a usage error (exit 2), as for every other flag.
    if (error instanceof InputError && error.file?.startsWith("--")) {
      throw new UsageError(error.message, command);
    }
    throw error;
  }
}
