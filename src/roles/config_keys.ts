/**
 * The table of streaming settings. Each key is declared once, in `TABLE`: its
 * kind (which parses and validates it, and names its unit), its help text,
 * its command-line flag, and its default in the `local` profile plus, where
 * it differs, in `production`. Everything else is derived from the table:
 * the `StreamConfig` type, the profiles, the `NEURALAKE_*` environment names
 * (`envName`), and, in cli/stream_config.ts, the `parseArgs` options and the
 * help text with its defaults. A new setting is one entry here.
 *
 * Invariant: a key's dotted name is its path in `TABLE` and in
 * `StreamConfig`, and `KEYS` lists the keys in table order.
 */

import { CHAOS_MODES, type ChaosMode } from "./chaos.ts";
import { MIN_CAPPED_BYTES } from "../util/rotating_file.ts";

/** The built-in profiles' names. */
export const PROFILE_NAMES = ["local", "production"] as const;

/** The built-in profiles. */
export type Profile = typeof PROFILE_NAMES[number];

/** Where roles run: Deno workers in this process, or child processes. */
export const ISOLATIONS = ["worker", "process"] as const;

/** The codecs of data files that writers and the compactor can write. */
export const CODEC_NAMES = ["zstd", "snappy", "gzip", "uncompressed"] as const;

/** A data file codec, as the settings name it. */
export type CodecName = typeof CODEC_NAMES[number];

/** The Parquet codec a setting names. */
export function codecOf(name: CodecName): "ZSTD" | "SNAPPY" | "GZIP" | "UNCOMPRESSED" {
  return name.toUpperCase() as "ZSTD" | "SNAPPY" | "GZIP" | "UNCOMPRESSED";
}

/** Where a stream's rows come from: the neural generator, or a Kafka topic. */
export const SOURCES = ["generator", "kafka"] as const;

/** A stream's source. */
export type Source = typeof SOURCES[number];

/** Where roles run. */
export type Isolation = typeof ISOLATIONS[number];

/** How a setting's text is parsed and checked (see `parseValue` in config.ts). */
export type Kind =
  | "string"
  | "int"
  | "duration"
  | "bytes"
  | "bool"
  | "list"
  | "rate"
  | "enum"
  | "fraction";

/** The unit a value of each kind is kept in (durations in ms, sizes in bytes). */
const UNITS: Partial<Record<Kind, string>> = {
  duration: "ms",
  bytes: "bytes",
  rate: "rows/s",
};

/** How a key is set on the command line. */
export interface FlagSpec {
  /** The flag's name without dashes, such as `batch-rows`. */
  name: string;
  /** The value's placeholder in the help, such as `<N>`. @default by the key's kind */
  arg?: string;
  /** A switch (a flag without a value) sets its key to this. */
  sets?: boolean;
  /** The flag's help line, when it says something else than the key's (a switch that turns a role off). */
  help?: string;
  /**
   * Values may carry a parameter, `mode=x`, which sets the key named here for
   * that mode (`--chaos kill-writers=5` sets `chaos.kills`). A value that is
   * not listed is refused.
   */
  parameters?: Readonly<Record<string, string | undefined>>;
}

/** One setting as a table declares it. */
export interface Declared<T> {
  kind: Kind;
  /**
   * One line of help. In help text, `{key}` stands for that key's `local`
   * default and `{production:key}` for its `production` one; a line break
   * starts a new, indented line.
   */
  help: string;
  local: T;
  /** The `production` default, where it differs from `local`. */
  production?: T;
  /** The allowed values of an `enum`. */
  values?: readonly string[];
  /** The smallest allowed number (for int, duration, bytes). */
  min?: number;
  /** The smallest allowed number other than 0, where 0 turns the setting off (for bytes). */
  minUnlessZero?: number;
  flag?: FlagSpec;
  /** Whether the help shows the default. @default true */
  helpDefault?: boolean;
}

/** A leaf of a table of keys: one setting whose value has type `T`. */
export class Setting<T> {
  constructor(readonly declared: Declared<T>) {}
}

/** Declares one setting of a table of keys. */
export function setting<T>(declared: Declared<T>): Setting<T> {
  return new Setting(declared);
}

const MiB = 1024 * 1024;
const DAY = 86_400_000;

/** Every streaming setting, by the path of its key. */
const TABLE = {
  profile: setting<Profile>({
    kind: "enum",
    values: PROFILE_NAMES,
    local: "local",
    production: "production",
    flag: { name: "profile", arg: "<p>" },
    helpDefault: false,
    help: "local (the default of stream: small files, short vacuum retention) or production " +
      "(the default of writer and compactor: {production:compaction.targetFileSize} files, " +
      "{production:vacuum.retentionMs} retention)",
  }),
  table: setting({
    kind: "string",
    local: "./neuralake-data/neural_signals",
    help: "Table path, file:// URI or s3://bucket/prefix",
  }),
  out: setting({
    kind: "string",
    local: "./neuralake-data/runs",
    flag: { name: "out", arg: "<dir>" },
    help: "Where run directories go",
  }),
  runFilesMaxBytes: setting({
    kind: "bytes",
    min: 0,
    // A cap holds four segments of at least 4 KiB each: a smaller one cannot be kept.
    minUnlessZero: MIN_CAPPED_BYTES,
    local: 1024 * MiB,
    flag: { name: "run-files-max" },
    help: "The most bytes streaming_metrics.csv and roles.log each keep in the run directory, " +
      "older parts gzipped beside them and the oldest deleted past it (0 keeps everything, " +
      `else at least ${MIN_CAPPED_BYTES / 1024}KiB)`,
  }),
  durationMs: setting({
    kind: "duration",
    min: 0,
    local: 30_000,
    flag: { name: "duration" },
    help: "How long writers run, 0 for until stopped",
  }),
  writers: setting({
    kind: "int",
    min: 1,
    local: 3,
    flag: { name: "writers" },
    help: "Writer roles; with --source kafka, ingest roles (one consumer group)",
  }),
  source: setting<Source>({
    kind: "enum",
    values: SOURCES,
    local: "generator",
    flag: { name: "source", arg: "<s>" },
    help: "Where rows come from: generator (neural data made here) or kafka (--writers " +
      "ingest roles consume --topic with --group, exactly once)",
  }),
  kafka: {
    brokers: setting<string[]>({
      kind: "list",
      local: [],
      flag: { name: "brokers", arg: "<host:port,...>" },
      helpDefault: false,
      help: "Kafka bootstrap brokers (--source kafka; default $NEURALAKE_KAFKA_BROKERS)",
    }),
    topic: setting({
      kind: "string",
      local: "",
      flag: { name: "topic", arg: "<name>" },
      helpDefault: false,
      help: "The Kafka topic to consume (--source kafka)",
    }),
    group: setting({
      kind: "string",
      local: "",
      flag: { name: "group", arg: "<id>" },
      helpDefault: false,
      help: "The consumer group; each partition's progress is the table's txn " +
        "<group>:<topic>:<partition> (--source kafka)",
    }),
    untilIdleMs: setting({
      kind: "duration",
      min: 0,
      local: 0,
      flag: { name: "until-idle" },
      helpDefault: false,
      help: "Stop once every ingest role's partitions had no message for this long " +
        "(--source kafka; 0 or unset: never)",
    }),
    brokerTimeoutMs: setting({
      kind: "duration",
      min: 0,
      local: 0,
      flag: { name: "broker-timeout" },
      helpDefault: false,
      help: "End the run, exit 1, once Kafka has been unreachable this long (--source kafka; " +
        "default 5m with --until-idle, else wait however long the broker is down)",
    }),
    deadLetter: setting({
      kind: "string",
      local: "",
      flag: { name: "dead-letter", arg: "<table>" },
      helpDefault: false,
      help: "Where ingest roles put messages that do not fit the table (created if absent; " +
        "--source kafka; unset: a bad message stops its role)",
    }),
  },
  isolation: setting<Isolation>({
    kind: "enum",
    values: ISOLATIONS,
    local: "worker",
    flag: { name: "isolation", arg: "<i>" },
    help: "Deno workers (worker) or child processes (process)",
  }),
  /** Rows per second across all writers, or 0 for as fast as possible. */
  rate: setting({
    kind: "rate",
    local: 0,
    flag: { name: "rate" },
    help: "Total rows per second, or max",
  }),
  batchIntervalMs: setting({
    kind: "duration",
    min: 1,
    local: 200,
    flag: { name: "batch-interval" },
    help: "Cut a batch at least this often",
  }),
  batchRows: setting({
    kind: "int",
    min: 1,
    local: 100_000,
    production: 200_000,
    flag: { name: "batch-rows" },
    help: "Most rows per batch",
  }),
  codec: setting<CodecName>({
    kind: "enum",
    values: CODEC_NAMES,
    local: "zstd",
    flag: { name: "codec", arg: "<c>" },
    help:
      "Codec of the data files writers and compaction write: zstd, snappy, gzip or uncompressed",
  }),
  seed: setting({ kind: "int", local: 42, flag: { name: "seed" }, help: "Generator seed" }),
  neurons: setting({
    kind: "int",
    min: 1,
    local: 1024,
    flag: { name: "neurons" },
    help: "Neurons per writer",
  }),
  regions: setting({
    kind: "list",
    local: ["M1", "S1", "PMd", "PPC"],
    flag: { name: "regions" },
    help: "Cortical regions",
  }),
  sampleRateHz: setting({
    kind: "int",
    min: 1,
    local: 1000,
    help: "Samples per second per neuron",
  }),
  partitionBy: setting<string[]>({
    kind: "list",
    local: [],
    flag: { name: "partition-by", arg: "<a,b>" },
    help: "Partition columns of a new table (default: none, unpartitioned)",
  }),
  compaction: {
    enabled: setting({
      kind: "bool",
      local: true,
      flag: { name: "no-compaction", sets: false, help: "Do not run the compaction role" },
      help: "Run the compaction role",
    }),
    intervalMs: setting({
      kind: "duration",
      min: 1,
      local: 1_000,
      production: 30_000,
      flag: { name: "compaction-interval" },
      help: "Time between compaction passes",
    }),
    minFiles: setting({
      kind: "int",
      min: 2,
      local: 8,
      production: 16,
      flag: { name: "min-files" },
      help: "Small files in a partition that trigger compaction",
    }),
    targetFileSize: setting({
      kind: "bytes",
      min: 1024,
      local: 32 * MiB,
      production: 128 * MiB,
      flag: { name: "target-file-size" },
      help: "Size compacted files aim for",
    }),
    minRowGroupRows: setting({
      kind: "int",
      min: 1,
      local: 16_384,
      production: 65_536,
      help: "Row groups at least this big are copied byte for byte",
    }),
    settleAfterMs: setting({
      kind: "duration",
      min: 1,
      local: 10_000,
      production: 600_000,
      flag: { name: "settle-after" },
      help: "Time without new writes after which the compactor makes one " +
        "pass as optimize would (its final pass when a stream ends)",
    }),
    checkpointEvery: setting({
      kind: "int",
      min: 1,
      local: 100,
      flag: { name: "checkpoint-every" },
      help: "Versions between checkpoints of a table the run creates (its " +
        "delta.checkpointInterval); a table that exists keeps its own, or Delta's 10",
    }),
    logRetentionMs: setting({
      kind: "duration",
      min: 1,
      local: 10 * 60_000,
      production: 30 * DAY,
      flag: { name: "log-retention" },
      help: "Age after which log files may be cleaned up",
    }),
  },
  vacuum: {
    enabled: setting({
      kind: "bool",
      local: true,
      flag: { name: "no-vacuum", sets: false, help: "Do not run the vacuum role" },
      help: "Run the vacuum role",
    }),
    intervalMs: setting({
      kind: "duration",
      min: 1,
      // With the 15 s retention, files compacted away in the first seconds
      // of a 30 s demo are reclaimed before it ends.
      local: 5_000,
      production: 3_600_000,
      flag: { name: "vacuum-interval" },
      help: "Time between vacuum passes",
    }),
    retentionMs: setting({
      kind: "duration",
      min: 0,
      local: 15_000, // vacuum's floor (MIN_STREAM_RETENTION_MS)
      production: 7 * DAY,
      flag: { name: "retention" },
      help: "Age at which vacuum may delete unreferenced files (a table the run creates " +
        "declares it; on another, at least the table's)",
    }),
    allowShortRetention: setting({
      kind: "bool",
      // A table the run creates declares the run's retention, so only a
      // table made elsewhere (Delta's week unless it declares otherwise)
      // is shortened by this, and only when asked.
      local: false,
      flag: { name: "allow-short-retention", sets: true },
      help: "Let vacuum use --retention below the table's delta.deletedFileRetentionDuration " +
        "(Delta's 7 days where it declares none); without it, the longer of the two",
    }),
    dryRun: setting({
      kind: "bool",
      local: false,
      flag: { name: "dry-run", sets: true },
      help: "Vacuum only reports what it would delete",
    }),
  },
  chaos: {
    mode: setting<ChaosMode>({
      kind: "enum",
      values: CHAOS_MODES,
      local: "none",
      flag: {
        name: "chaos",
        arg: "<mode>",
        parameters: {
          "kill-writers": "chaos.kills",
          "kill-compactor": "chaos.kills",
          "kill-vacuum": "chaos.kills",
          "kill-ingest": "chaos.kills",
          "storage-faults": "chaos.faultRate",
          "partition": "chaos.partitionMs",
          "disk-full": undefined,
          "none": undefined,
        } satisfies Record<ChaosMode, string | undefined>,
      },
      helpDefault: false,
      help: "Inject faults; verification must still pass:\n" +
        "  kill-writers[=N]    SIGKILL writers N times (default {chaos.kills}) " +
        "at random moments, after an upload, after a commit\n" +
        "  kill-compactor[=N]  kill the compactor mid-rewrite, after a commit and at random moments\n" +
        "  kill-vacuum[=N]     kill vacuum mid-delete and at random\n" +
        "  kill-ingest[=N]     kill ingest roles (--source kafka) at random moments, " +
        "after an upload, after a commit\n" +
        "  storage-faults[=r]  fail a share r of storage requests (default {chaos.faultRate}): " +
        "5xx, connection reset, a response lost after the write applied, multi-second stalls\n" +
        "  partition[=d]       cut one role off from storage for d (default " +
        "{chaos.partitionMs}), as a network partition would\n" +
        "  disk-full           every write fails (no space left on device) from half way " +
        "into the run\n" +
        "Killed roles restart; use --isolation process for real SIGKILLs",
    }),
    kills: setting({
      kind: "int",
      min: 0,
      local: 3,
      help: "Kills of the target role (kill-writers, kill-compactor, kill-vacuum, kill-ingest)",
    }),
    faultRate: setting({
      kind: "fraction",
      local: 0.02,
      help: "The share of storage requests that fail (storage-faults), 0 to 1",
    }),
    partitionMs: setting({
      kind: "duration",
      min: 1,
      local: 3_000,
      help: "How long a partition cuts one role off from storage (partition)",
    }),
    restartDelayMs: setting({
      kind: "duration",
      min: 0,
      local: 500,
      production: 1_000,
      help: "Delay before a killed role restarts",
    }),
  },
  stopTimeoutMs: setting({
    kind: "duration",
    min: 0,
    local: 15_000,
    production: 30_000,
    help: "How long stopping waits for in-flight batches before killing roles",
  }),
};

/** The values of a table of keys: each setting's value type at its path. */
export type ValuesOf<T> = {
  -readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : ValuesOf<T[K]>;
};

/** Everything a streaming run needs: one value per key of the table. */
export type StreamConfig = ValuesOf<typeof TABLE>;

/** One key of the table, flattened: its dotted name and everything derived from it. */
export interface KeySpec {
  /** The dotted key, as in config files: `compaction.targetFileSize`. */
  key: string;
  kind: Kind;
  help: string;
  /** The environment variable that sets it. */
  env: string;
  /** The unit its value is kept in, if any: `ms`, `bytes`, `rows/s`. */
  unit?: string;
  values?: readonly string[];
  min?: number;
  minUnlessZero?: number;
  flag?: FlagSpec;
  helpDefault: boolean;
  /** Its default in each profile. */
  defaults: Readonly<Record<Profile, unknown>>;
}

/** The environment variable of a key: `compaction.targetFileSize` -> `NEURALAKE_COMPACTION_TARGET_FILE_SIZE`. */
export function envName(key: string): string {
  const snake = key.replace(/Ms$/, "").replace(/\./g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2");
  return `NEURALAKE_${snake.toUpperCase()}`;
}

/** The keys of a table (nested objects whose leaves are `setting`s), in table order. */
export function keysOf(table: object, prefix = ""): KeySpec[] {
  const out: KeySpec[] = [];
  for (const [name, entry] of Object.entries(table)) {
    const key = prefix + name;
    if (!(entry instanceof Setting)) {
      out.push(...keysOf(entry as object, `${key}.`));
      continue;
    }
    const { local, production, helpDefault, ...rest } = entry.declared as Declared<unknown>;
    const unit = UNITS[rest.kind];
    out.push({
      key,
      ...rest,
      env: envName(key),
      ...(unit !== undefined ? { unit } : {}),
      helpDefault: helpDefault ?? true,
      defaults: { local, production: production === undefined ? local : production },
    });
  }
  return out;
}

/** Every configurable key, in table order. */
export const KEYS: readonly KeySpec[] = keysOf(TABLE);

/** The key spec of a dotted key, or undefined. */
export function keySpec(key: string): KeySpec | undefined {
  return KEYS.find((k) => k.key === key);
}

/** A profile's defaults of a table's keys, as a nested object of their values. */
export function profileValues<T>(keys: readonly KeySpec[], profile: Profile): T {
  const config: Record<string, unknown> = {};
  for (const spec of keys) {
    const parts = spec.key.split(".");
    let target = config;
    for (const part of parts.slice(0, -1)) {
      target = (target[part] ??= {}) as Record<string, unknown>;
    }
    target[parts[parts.length - 1]!] = structuredClone(spec.defaults[profile]);
  }
  // The keys' paths are the table's, from which T (ValuesOf the table) is derived.
  return config as T;
}

/**
 * The profiles' defaults: `local` is a laptop demo with small files and short
 * retention; `production` is `local` with what the table overrides: bigger
 * batches and files, rarer maintenance, week-long retention.
 */
export const PROFILES: Readonly<Record<Profile, StreamConfig>> = {
  local: profileValues(KEYS, "local"),
  production: profileValues(KEYS, "production"),
};
