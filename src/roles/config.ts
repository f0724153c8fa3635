/**
 * Configuration of a streaming run: the LOCAL and PRODUCTION profiles, a
 * JSON/JSONC config file, `NEURALAKE_*` environment overrides and command
 * line flags, applied in that order. Every key is declared once in `KEYS`
 * with its kind, so files, the environment and flags are validated alike and
 * every error names the key and where it came from.
 */

import { parse as parseJsonc, type ParseError, printParseErrorCode } from "jsonc-parser";
import { APPEND_HOLD_BUDGET_MS } from "../ops/append.ts";
import { VACUUM_RETENTION_FLOOR_MS } from "../ops/vacuum.ts";
import { InputError } from "../util/errors.ts";
import { CHAOS_MODES, type ChaosMode } from "./chaos.ts";
import { formatBytes, formatDuration, parseBytes, parseDuration } from "../util/units.ts";

/** The built-in profiles. */
export type Profile = "local" | "production";

/** Where roles run. */
export type Isolation = "worker" | "process";

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

/** Everything a streaming run needs. */
export interface StreamConfig {
  profile: Profile;
  table: string;
  out: string;
  durationMs: number;
  writers: number;
  isolation: Isolation;
  /** Rows per second across all writers, or 0 for as fast as possible. */
  rate: number;
  batchIntervalMs: number;
  batchRows: number;
  seed: number;
  neurons: number;
  regions: string[];
  sampleRateHz: number;
  partitionBy: string[];
  compaction: {
    enabled: boolean;
    intervalMs: number;
    minFiles: number;
    targetFileSize: number;
    minRowGroupRows: number;
    checkpointEvery: number;
    logRetentionMs: number;
  };
  vacuum: {
    enabled: boolean;
    intervalMs: number;
    retentionMs: number;
    allowShortRetention: boolean;
    dryRun: boolean;
  };
  chaos: {
    mode: ChaosMode;
    /** Kills of the target role (kill-writers, kill-compactor, kill-vacuum). */
    kills: number;
    /** The share of storage requests that fail (storage-faults), 0 to 1. */
    faultRate: number;
    /** How long a partition cuts one role off from storage (partition). */
    partitionMs: number;
    restartDelayMs: number;
  };
  /** How long stopping waits for in-flight batches before killing roles. */
  stopTimeoutMs: number;
}

const MiB = 1024 * 1024;

/** The `local` profile: a laptop demo with small files and short retention. */
const LOCAL: StreamConfig = {
  profile: "local",
  table: "./neuralake-data/neural_signals",
  out: "./neuralake-data/runs",
  durationMs: 30_000,
  writers: 3,
  isolation: "worker",
  rate: 0,
  batchIntervalMs: 200,
  batchRows: 100_000,
  seed: 42,
  neurons: 1024,
  regions: ["M1", "S1", "PMd", "PPC"],
  sampleRateHz: 1000,
  partitionBy: [],
  compaction: {
    enabled: true,
    intervalMs: 1_000,
    minFiles: 8,
    targetFileSize: 32 * MiB,
    minRowGroupRows: 16_384,
    checkpointEvery: 100,
    logRetentionMs: 10 * 60_000,
  },
  vacuum: {
    enabled: true,
    intervalMs: 10_000,
    retentionMs: 30_000,
    allowShortRetention: true,
    dryRun: false,
  },
  chaos: { mode: "none", kills: 3, faultRate: 0.02, partitionMs: 3_000, restartDelayMs: 500 },
  stopTimeoutMs: 15_000,
};

/**
 * The profiles' defaults. `production` is `local` with only what differs:
 * bigger batches and files, rarer maintenance, week-long retention.
 */
export const PROFILES: Record<Profile, StreamConfig> = {
  local: LOCAL,
  production: {
    ...LOCAL,
    profile: "production",
    batchRows: 200_000,
    compaction: {
      ...LOCAL.compaction,
      intervalMs: 30_000,
      minFiles: 16,
      targetFileSize: 128 * MiB,
      minRowGroupRows: 65_536,
      logRetentionMs: 30 * 86_400_000,
    },
    vacuum: {
      ...LOCAL.vacuum,
      intervalMs: 3_600_000,
      retentionMs: 7 * 86_400_000,
      allowShortRetention: false,
    },
    chaos: { ...LOCAL.chaos, restartDelayMs: 1_000 },
    stopTimeoutMs: 30_000,
  },
};

type Kind =
  | "string"
  | "int"
  | "duration"
  | "bytes"
  | "bool"
  | "list"
  | "rate"
  | "enum"
  | "fraction";

interface KeySpec {
  /** The dotted key, as in config files. */
  key: string;
  kind: Kind;
  values?: readonly string[];
  min?: number;
  doc: string;
}

/** Every configurable key. */
export const KEYS: readonly KeySpec[] = [
  { key: "profile", kind: "enum", values: ["local", "production"], doc: "Defaults to start from" },
  { key: "table", kind: "string", doc: "Table path, file:// URI or s3://bucket/prefix" },
  { key: "out", kind: "string", doc: "Directory for run outputs" },
  { key: "durationMs", kind: "duration", min: 0, doc: "How long writers run (0: until stopped)" },
  { key: "writers", kind: "int", min: 1, doc: "Number of writer roles" },
  {
    key: "isolation",
    kind: "enum",
    values: ["worker", "process"],
    doc: "Deno workers or child processes",
  },
  { key: "rate", kind: "rate", doc: "Rows per second across writers, or max" },
  { key: "batchIntervalMs", kind: "duration", min: 1, doc: "A batch is cut at least this often" },
  { key: "batchRows", kind: "int", min: 1, doc: "Most rows in one batch" },
  { key: "seed", kind: "int", doc: "Generator seed" },
  { key: "neurons", kind: "int", min: 1, doc: "Neurons per writer" },
  { key: "regions", kind: "list", doc: "Cortical regions" },
  { key: "sampleRateHz", kind: "int", min: 1, doc: "Samples per second per neuron" },
  { key: "partitionBy", kind: "list", doc: "Partition columns of a new table" },
  { key: "compaction.enabled", kind: "bool", doc: "Run the compaction role" },
  { key: "compaction.intervalMs", kind: "duration", min: 1, doc: "Time between compaction passes" },
  { key: "compaction.minFiles", kind: "int", min: 2, doc: "Small files that trigger compaction" },
  {
    key: "compaction.targetFileSize",
    kind: "bytes",
    min: 1024,
    doc: "Size compacted files aim for",
  },
  {
    key: "compaction.minRowGroupRows",
    kind: "int",
    min: 1,
    doc: "Row groups at least this big are copied",
  },
  { key: "compaction.checkpointEvery", kind: "int", min: 1, doc: "Versions between checkpoints" },
  {
    key: "compaction.logRetentionMs",
    kind: "duration",
    min: 1,
    doc: "Age at which log files may go",
  },
  { key: "vacuum.enabled", kind: "bool", doc: "Run the vacuum role" },
  { key: "vacuum.intervalMs", kind: "duration", min: 1, doc: "Time between vacuum passes" },
  {
    key: "vacuum.retentionMs",
    kind: "duration",
    min: 0,
    doc: "Age at which unreferenced files may go",
  },
  { key: "vacuum.allowShortRetention", kind: "bool", doc: "Allow a retention below the table's" },
  { key: "vacuum.dryRun", kind: "bool", doc: "Report only" },
  { key: "chaos.mode", kind: "enum", values: CHAOS_MODES, doc: "Fault injection" },
  { key: "chaos.kills", kind: "int", min: 0, doc: "Kills of the target role in a chaos run" },
  {
    key: "chaos.faultRate",
    kind: "fraction",
    doc: "Share of storage requests that fail (storage-faults)",
  },
  {
    key: "chaos.partitionMs",
    kind: "duration",
    min: 1,
    doc: "How long one role is cut off from storage (partition)",
  },
  {
    key: "chaos.restartDelayMs",
    kind: "duration",
    min: 0,
    doc: "Delay before a killed role restarts",
  },
  { key: "stopTimeoutMs", kind: "duration", min: 0, doc: "Grace period for in-flight batches" },
];

/** The environment variable of a key: `compaction.targetFileSize` -> `NEURALAKE_COMPACTION_TARGET_FILE_SIZE`. */
export function envName(key: string): string {
  const snake = key.replace(/Ms$/, "").replace(/\./g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2");
  return `NEURALAKE_${snake.toUpperCase()}`;
}

/** A source of settings, for messages: `config file neuralake.jsonc`, `environment`, `flag`. */
export type Origin = string;

/** Parses one setting's text (or JSON value) for a key. */
export function parseValue(spec: KeySpec, value: unknown, origin: Origin): unknown {
  const fail = (expected: string): never => {
    throw new InputError(
      `Invalid ${spec.key} in ${origin}: ${JSON.stringify(value)} is not ${expected}`,
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
      `Cannot parse config file ${origin}: ${
        printParseErrorCode(first.error)
      } at line ${line}, column ${column}${
        found.trim() ? ` (found ${JSON.stringify(found)})` : ""
      }`,
      { file: origin, line, column: String(column) },
    );
  }
  return flatten(parsed, origin);
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
  const profileSetting = sources.flags?.find(([k]) => k === "profile")?.[1] ??
    env[envName("profile")] ??
    fileSettings.find(([k]) => k === "profile")?.[1] ??
    sources.profile ?? "local";
  const profile = parseValue(KEYS[0]!, profileSetting, "profile") as Profile;
  const config = structuredClone(PROFILES[profile]);
  const apply = (key: string, value: unknown, origin: Origin) => {
    const spec = KEYS.find((k) => k.key === key);
    if (!spec) throw new InputError(`Unknown setting "${key}" in ${origin}`, { column: key });
    setKey(config, key, parseValue(spec, value, origin));
  };
  for (const [key, value] of fileSettings) apply(key, value, `config file ${sources.file!.path}`);
  for (const spec of KEYS) {
    const value = env[envName(spec.key)];
    if (value !== undefined && value !== "") {
      apply(spec.key, value, `environment variable ${envName(spec.key)}`);
    }
  }
  for (const [key, value] of sources.flags ?? []) apply(key, value, `flag for ${key}`);
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
      ? (value === 0 ? "max" : `${value} rows/s`)
      : Array.isArray(value)
      ? value.join(",")
      : String(value);
  }
  return out;
}
