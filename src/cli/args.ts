/**
 * Argument parsing for every command, on `node:util` `parseArgs` in strict
 * mode, with the global flags (`--json`, `--help`, `--log-level`) added to
 * each command's own. Parse errors become `UsageError`, which the entry
 * point turns into exit status 2.
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { parseBytes, parseDuration } from "../util/units.ts";
import { readDateTime } from "../columnar/text_values.ts";

/** A mistake in how a command was called: exit status 2. */
export class UsageError extends Error {
  /** The command whose usage to show, if known. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The flags every command accepts. */
export const GLOBAL_OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "log-level": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** The global flags' help text, appended to each command's help. */
export const GLOBAL_HELP = `Global options:
  --json               Print one machine-readable JSON document on stdout
  --log-level <level>  trace, debug, info, warning (default), error or off; logs go to stderr
  -h, --help           Show this help`;

/** Parsed arguments: flag values and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses `argv` for `command` with its options plus the global ones. */
export function parseCommandArgs(
  command: string,
  argv: string[],
  options: ParseArgsOptionsConfig,
): ParsedArgs {
  const all: ParseArgsOptionsConfig = { ...GLOBAL_OPTIONS, ...options };
  checkOptionNames(command, argv, all);
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(argv, all),
      options: all,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/**
 * `--limit -1` as `--limit=-1`: `parseArgs` takes a value that starts with a
 * dash for a flag and fails with advice about quoting, where the flag's own
 * check says what values it takes.
 */
function joinNegativeValues(argv: string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (
      arg.startsWith("--") && !arg.includes("=") && options[arg.slice(2)]?.type === "string" &&
      next !== undefined && /^-[\d.]/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Refuses an unknown option before `parseArgs` does, naming the closest real
 * one: "unknown option --limt; did you mean --limit?".
 */
function checkOptionNames(command: string, argv: string[], options: ParseArgsOptionsConfig): void {
  const shorts = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.short !== undefined) shorts.set(option.short, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return;
    let name: string | undefined;
    if (arg.startsWith("--")) {
      name = arg.slice(2).split("=", 1)[0]!;
      if (!Object.hasOwn(options, name)) {
        const hint = closestName(name, Object.keys(options));
        throw new UsageError(
          `Unknown option --${name}${hint !== undefined ? `; did you mean --${hint}?` : ""}`,
          command,
        );
      }
      if (arg.includes("=")) continue;
    } else if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      const letter = arg[1]!;
      name = shorts.get(letter);
      if (name === undefined) {
        throw new UsageError(
          `Unknown option -${letter}`,
          command,
        );
      }
      if (arg.length > 2) continue;
    }
    // A string option takes the next argument as its value: said plainly
    // when there is none, or when the next is a flag (parseArgs' "argument is
    // ambiguous" advice names neither the value nor what followed).
    if (name !== undefined && options[name]?.type === "string") {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`Missing a value for --${name}`, command);
      if (next.startsWith("-") && next !== "-" && !/^-[\d.]/.test(next)) {
        throw new UsageError(
          `Missing a value for --${name}: it is followed by ${next}; give --${name} a value, ` +
            `or write --${name}=${next} if that is its value`,
          command,
        );
      }
      i++;
    }
  }
}

/** The option name closest to `name` by edit distance, if close enough. */
export function closestName(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of names) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const prefix = names.find((n) => n.startsWith(name) || name.startsWith(n));
  if (bestDistance <= Math.max(2, Math.floor(name.length / 3))) return best;
  return prefix;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Reads a string flag, or undefined. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === "string" ? v : undefined;
}

/** Reads a repeatable string flag. */
export function listFlag(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v;
  return typeof v === "string" ? [v] : [];
}

/** Reads a boolean flag. */
export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

const WHOLE_NUMBER = /^\d+(_\d+)*$/;

/** Reads a flag that must be a non-negative integer. */
export function intFlag(args: ParsedArgs, name: string, command: string): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  // Decimal digits only (underscores may group them): Number() would also
  // take "0x5", "1e3", " 5" and "" (as 0).
  const n = WHOLE_NUMBER.test(text) ? Number(text.replaceAll("_", "")) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(
      `--${name} must be a whole number in decimal digits, such as 5 or 1_000, got "${text}"`,
      command,
    );
  }
  return n;
}

/**
 * Reads a point-in-time flag as ms since the epoch: decimal digits are epoch
 * milliseconds; otherwise an ISO-8601 date (`2026-01-31`, midnight UTC) or
 * date-time (`2026-01-31T12:00:00.5Z`, `+02:00` offsets; without a zone it
 * is UTC). Fractions below a millisecond are dropped (commit times are whole
 * milliseconds, so "at or before" is unchanged).
 */
export function timestampFlag(
  args: ParsedArgs,
  name: string,
  command: string,
): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  if (WHOLE_NUMBER.test(text)) {
    const ms = Number(text.replaceAll("_", ""));
    if (Number.isSafeInteger(ms)) return ms;
  }
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const micros = readDateTime(dateOnly, "any");
  if (micros === undefined) {
    throw new UsageError(
      `--${name} must be an ISO-8601 date or date-time (2026-01-31T12:00:00Z) or epoch milliseconds, got "${text}"`,
      command,
    );
  }
  return Math.floor(Number(micros) / 1000);
}

/**
 * Reads a duration flag (`30s`, `200ms`) in milliseconds; with `positive`,
 * zero is refused.
 */
export function durationFlag(
  args: ParsedArgs,
  name: string,
  command: string,
  options: { positive?: boolean } = {},
): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`, command);
  }
  if (options.positive && !(ms > 0)) {
    throw new UsageError(`--${name} must be longer than zero, got "${text}"`, command);
  }
  return ms;
}

/** Reads a byte size flag (`128MiB`) in bytes. */
export function bytesFlag(args: ParsedArgs, name: string, command: string): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  try {
    return parseBytes(text);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`, command);
  }
}

/** Splits a comma-separated list flag (`a,b`) into trimmed names. */
export function commaList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Takes exactly `count` positionals (or up to it when `optional`). */
export function positionals(
  args: ParsedArgs,
  names: string[],
  command: string,
  optional = 0,
): string[] {
  const got = args.positionals;
  if (got.length > names.length) {
    throw new UsageError(`Unexpected argument "${got[names.length]}"`, command);
  }
  if (got.length < names.length - optional) {
    throw new UsageError(`Missing <${names[got.length]}>`, command);
  }
  return got;
}
