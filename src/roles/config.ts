/**
 * Resolution of a streaming run's configuration: the profile's defaults, a
 * JSON/JSONC config file, `NEURALAKE_*` environment overrides and command
 * line flags, applied in that order. Every key is declared once, in the table
 * of config_keys.ts, with its kind, so files, the environment and flags are
 * parsed and validated alike by `parseValue`, and every error names the key
 * and where it came from.
 */

import { parse as parseJsonc, type ParseError, printParseErrorCode } from "jsonc-parser";
import { APPEND_HOLD_BUDGET_MS } from "../ops/append.ts";
import { VACUUM_RETENTION_FLOOR_MS } from "../ops/vacuum.ts";
import { InputError } from "../util/errors.ts";
import {
  KEYS,
  type KeySpec,
  keySpec,
  type Profile,
  PROFILES,
  type StreamConfig,
} from "./config_keys.ts";
import {
  formatBytes,
  formatBytesFlag,
  formatDuration,
  parseBytes,
  parseDuration,
} from "../util/units.ts";

/**
 * The longest a streaming writer holds an uploaded file before committing
 * it; past it the batch is abandoned (ops/append.ts enforces it).
 */
export const WRITER_COMMIT_BUDGET_MS = APPEND_HOLD_BUDGET_MS;

/**
 * The shortest vacuum retention a streaming run accepts: vacuum's own floor
 * (ops/vacuum.ts), which it applies whatever it is given. Refusing a shorter
 * one here says so up front instead of silently raising it.
 */
export const MIN_STREAM_RETENTION_MS = VACUUM_RETENTION_FLOOR_MS;

/** A source of settings, for messages: `config file neuralake.jsonc`, `environment`, `flag`. */
export type Origin = string;

/** Parses one setting's text (or JSON value) for a key. */
export function parseValue(spec: KeySpec, value: unknown, origin: Origin): unknown {
  const fail = (expected: string): never => {
    // A flag is named as it was typed, as every other flag's refusal does.
    throw new InputError(
      origin.startsWith("--")
        ? `${origin} must be ${expected}, got ${JSON.stringify(value)}`
        : `Invalid ${spec.key} in ${origin}: ${JSON.stringify(value)} is not ${expected}`,
      { file: origin, column: spec.key },
    );
  };
  const text = typeof value === "string" ? value.trim() : undefined;
  switch (spec.kind) {
    case "string":
      return typeof value === "string" && value !== "" ? value : fail("a non-empty string");
    case "enum":
      return typeof value === "string" && spec.values!.includes(value)
        ? value
        : fail(`one of ${spec.values!.join(", ")}`);
    case "bool":
      if (typeof value === "boolean") return value;
      if (text === "true" || text === "1") return true;
      if (text === "false" || text === "0") return false;
      return fail("true or false");
    case "int": {
      const n = typeof value === "number" ? value : decimal(text, false);
      if (!Number.isSafeInteger(n) || n < (spec.min ?? -Infinity)) {
        return fail(`a whole number${spec.min !== undefined ? ` >= ${spec.min}` : ""}`);
      }
      return n;
    }
    case "duration": {
      let ms: number;
      try {
        ms = typeof value === "number" ? value : parseDuration(text ?? "");
      } catch {
        return fail("a duration such as 200ms, 30s or 7d");
      }
      if (!Number.isFinite(ms) || ms < (spec.min ?? 0)) return fail("a positive duration");
      return ms;
    }
    case "bytes": {
      let n: number;
      try {
        n = typeof value === "number" ? value : parseBytes(text ?? "");
      } catch {
        return fail("a size such as 32MiB");
      }
      if (n < (spec.min ?? 0)) return fail(`a size of at least ${formatBytes(spec.min ?? 0)}`);
      if (spec.minUnlessZero !== undefined && n !== 0 && n < spec.minUnlessZero) {
        return fail(
          `0 or a size of at least ${formatBytesFlag(spec.minUnlessZero)}` +
            ` (${spec.minUnlessZero} bytes), the smallest it can hold`,
        );
      }
      return n;
    }
    case "rate": {
      if (text === "max" || value === 0) return 0;
      const n = typeof value === "number" ? value : decimal(text, true);
      return Number.isFinite(n) && n > 0 ? n : fail("rows per second or max");
    }
    case "fraction": {
      const n = typeof value === "number" ? value : decimal(text, true);
      return Number.isFinite(n) && n >= 0 && n <= 1
        ? n
        : fail("a share between 0 and 1, such as 0.05");
    }
    case "list":
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
      if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter(Boolean);
      return fail("a list of names");
  }
}

/**
 * A number written in decimal digits (underscores may group them; with
 * `fraction`, a decimal point too), or NaN: `Number()` alone would also take
 * "0x5", "1e3", " 5" and "" (as 0).
 */
function decimal(text: string | undefined, fraction: boolean): number {
  if (text === undefined) return NaN;
  const pattern = fraction ? /^-?\d+(_\d+)*(\.\d+)?$|^\.\d+$/ : /^-?\d+(_\d+)*$/;
  return pattern.test(text) ? Number(text.replaceAll("_", "")) : NaN;
}

/** Sets a dotted key in a config object. */
function setKey(config: StreamConfig, key: string, value: unknown): void {
  const parts = key.split(".");
  let target = config as unknown as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  target[parts[parts.length - 1]!] = value;
}

/** Reads a dotted key of a config object. */
export function getKey(config: StreamConfig, key: string): unknown {
  let value: unknown = config;
  for (const part of key.split(".")) value = (value as Record<string, unknown>)[part];
  return value;
}

/** Flattens a parsed config file into dotted keys, refusing unknown ones. */
function flatten(value: unknown, origin: Origin, prefix = ""): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(`${origin} must hold a JSON object`, { file: origin });
  }
  const out: [string, unknown][] = [];
  for (const [name, v] of Object.entries(value)) {
    const key = prefix + name;
    if (KEYS.some((k) => k.key === key)) out.push([key, v]);
    else if (
      typeof v === "object" && v !== null && !Array.isArray(v) &&
      KEYS.some((k) => k.key.startsWith(key + "."))
    ) {
      out.push(...flatten(v, origin, key + "."));
    } else {
      throw new InputError(
        `Unknown key "${key}" in ${origin}; known keys: ${KEYS.map((k) => k.key).join(", ")}`,
        { file: origin, column: key },
      );
    }
  }
  return out;
}

/**
 * Parses a JSON/JSONC config file's text into dotted settings: comments and
 * trailing commas are allowed (by `jsonc-parser`, which leaves strings
 * alone), and a syntax error names its line and column.
 */
export function parseConfigText(text: string, origin: Origin): [string, unknown][] {
  const errors: ParseError[] = [];
  const parsed: unknown = parseJsonc(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
  });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset);
    const line = before.split("\n").length;
    const column = first.offset - before.lastIndexOf("\n");
    const found = text.slice(first.offset, first.offset + Math.max(first.length, 1));
    throw new InputError(
      `Cannot parse config file ${origin.replace(/^config file /, "")}: ${
        printParseErrorCode(first.error)
      } at line ${line}, column ${column}${
        found.trim() ? ` (found ${JSON.stringify(found)})` : ""
      }`,
      { file: origin, line, column: String(column) },
    );
  }
  return flatten(parsed, origin);
}

/**
 * Parses a strict JSON document a user wrote (a `--schema` file): no
 * comments, no trailing commas. A syntax error is an `InputError` naming
 * the file, line and column, as a config file's is.
 */
export function parseJsonDocument(text: string, file: string, what: string): unknown {
  const errors: ParseError[] = [];
  const parsed: unknown = parseJsonc(text, errors, {
    allowTrailingComma: false,
    disallowComments: true,
  });
  const first = errors[0];
  if (first === undefined) return parsed;
  const before = text.slice(0, first.offset);
  const line = before.split("\n").length;
  const column = first.offset - before.lastIndexOf("\n");
  const found = text.slice(first.offset, first.offset + Math.max(first.length, 1));
  throw new InputError(
    `Cannot parse ${what} ${file}: it is not JSON: ${
      printParseErrorCode(first.error)
    } at line ${line}, column ${column}${found.trim() ? ` (found ${JSON.stringify(found)})` : ""}`,
    { file, line, column: String(column) },
  );
}

/** Inputs to `resolveConfig`, lowest precedence first. */
export interface ConfigSources {
  profile?: Profile;
  file?: { path: string; text: string };
  env?: Record<string, string | undefined>;
  /** Settings from flags, by dotted key, as text. */
  flags?: [string, string][];
}

/** Builds the effective configuration. */
export function resolveConfig(sources: ConfigSources): StreamConfig {
  const fileSettings = sources.file
    ? parseConfigText(sources.file.text, `config file ${sources.file.path}`)
    : [];
  const env = sources.env ?? {};
  // The profile itself can come from any source; pick it first.
  const profileSpec = keySpec("profile")!;
  const fromFlag = sources.flags?.find(([k]) => k === "profile")?.[1];
  const fromEnv = env[profileSpec.env];
  const fromFile = fileSettings.find(([k]) => k === "profile")?.[1];
  const [profileSetting, profileOrigin] = fromFlag !== undefined
    ? [fromFlag, "--profile"]
    : fromEnv !== undefined
    ? [fromEnv, `environment variable ${profileSpec.env}`]
    : fromFile !== undefined
    ? [fromFile, `config file ${sources.file!.path}`]
    : [sources.profile ?? "local", "the default profile"];
  const profile = parseValue(profileSpec, profileSetting, profileOrigin) as Profile;
  const config = structuredClone(PROFILES[profile]);
  const apply = (key: string, value: unknown, origin: Origin) => {
    const spec = keySpec(key);
    if (!spec) throw new InputError(`Unknown setting "${key}" in ${origin}`, { column: key });
    setKey(config, key, parseValue(spec, value, origin));
  };
  for (const [key, value] of fileSettings) apply(key, value, `config file ${sources.file!.path}`);
  for (const spec of KEYS) {
    const value = env[spec.env];
    if (value !== undefined && value !== "") {
      apply(spec.key, value, `environment variable ${spec.env}`);
    }
  }
  for (const [key, value] of sources.flags ?? []) {
    const flag = keySpec(key)?.flag;
    apply(key, value, flag ? `--${flag.name}` : `flag for ${key}`);
  }
  config.profile = profile;
  if (config.vacuum.enabled && config.vacuum.retentionMs < MIN_STREAM_RETENTION_MS) {
    throw new InputError(
      `vacuum.retentionMs is ${formatDuration(config.vacuum.retentionMs)}, below the ${
        formatDuration(MIN_STREAM_RETENTION_MS)
      } that streaming needs: a writer may commit a file up to ${
        formatDuration(WRITER_COMMIT_BUDGET_MS)
      } after uploading it, and vacuum must not delete it first`,
      { column: "vacuum.retentionMs" },
    );
  }
  return config;
}

/**
 * The configuration for machines (`streaming_results.json`): each value in
 * the unit its key names, durations in ms (`*Ms`) and sizes in bytes.
 */
export function configValues(config: StreamConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of KEYS) {
    const value = getKey(config, spec.key);
    out[spec.key] = spec.kind === "rate" && value === 0 ? "max" : value;
  }
  return out;
}

/** The configuration for people and `config show`: durations and sizes spelled out. */
export function describeConfig(config: StreamConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of KEYS) {
    const value = getKey(config, spec.key);
    out[spec.key] = spec.kind === "duration"
      ? formatDuration(value as number)
      : spec.kind === "bytes"
      ? formatBytes(value as number)
      : spec.kind === "rate"
      ? (value === 0 ? "max" : `${value} ${spec.unit}`)
      : Array.isArray(value)
      ? value.join(",")
      : String(value);
  }
  return out;
}
