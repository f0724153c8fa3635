/**
 * `neuralake ingest <table> --brokers … --topic … --group …`: Kafka into a
 * Delta table with exactly-once delivery (roles/ingest.ts). Many processes
 * with the same group share the topic's partitions; each partition's
 * progress is its `txn` marker in the table.
 */

import { formatCount } from "../report/format.ts";
import { PROFILES } from "../roles/config_keys.ts";
import { type IngestSummary, runIngest } from "../roles/ingest.ts";
import { joinGroup } from "../roles/kafka_consumer.ts";
import { brokerTimeoutFor } from "../roles/kafka_outage.ts";
import { openTable } from "../ops/table.ts";
import { JobMonitor } from "../metrics/monitor.ts";
import { stampEvent } from "../metrics/events.ts";
import { describeStoreUri } from "../storage/open.ts";
import { sleep } from "../util/backoff.ts";
import { log } from "../util/log.ts";
import {
  durationFlag,
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { formatFields, printJson, snakeCaseKeys, write } from "./output.ts";
import { metricsAddrFlag } from "./stream_config.ts";
import { type ProgressLine, progressLine } from "./progress.ts";

const DEFAULTS = PROFILES.production;

export const INGEST_HELP =
  `Usage: neuralake ingest <table> --brokers <host:port,...> --topic <name> --group <id> [options]

Consume a Kafka topic with a consumer group and append its messages to a
Delta table, exactly once: each partition's messages are batched, and every
batch is one Parquet file and one commit carrying the partition's progress
(txn appId <group>:<topic>:<partition>, version = the batch's last offset).
On start and on every assignment each partition is read from the offset
after its progress in the table, whatever Kafka's committed offsets say (they
are committed after each Delta commit, for lag monitoring only). Run more
processes with the same --group, on any machines, to share the partitions.

A message value is a JSON object (one row) or NDJSON (one object per line),
read as \`write\` reads NDJSON against the table's columns. A message that does
not fit goes to the --dead-letter table (topic, partition, offset, timestamp,
key, value, error); without one it stops the ingest with an error naming its
topic, partition and offset, and nothing of its batch is committed. A table
that does not exist is created with the neural schema.

It runs until stopped (SIGINT or SIGTERM commit what is buffered, then leave
the group), --duration, or --until-idle. On a terminal a progress line on
stderr shows the rows and batches committed so far (not with --json), and an
info log line says it at most every 10 s.

While Kafka cannot be reached, ingest keeps retrying and says so on stderr
(at most every 5 s); such a wait is never taken for idleness. If the broker
stays unreachable for --broker-timeout, ingest commits what it had read,
then exits 1 with an error saying so: exit 0 after --until-idle means every
partition was read to its end, and anything else means it was not. A broker
that cannot be reached at start is an error (exit 1) at once.

Options:
  --brokers <list>        Kafka bootstrap brokers, host:port[,host:port...]
                          (default: $NEURALAKE_KAFKA_BROKERS)
  --topic <name>          The topic to consume (required)
  --group <id>            The consumer group (required)
  --batch-rows <N>        Most rows per batch (default ${DEFAULTS.batchRows})
  --batch-interval <d>    Commit a partition's batch at least this often
                          (default ${DEFAULTS.batchIntervalMs}ms)
  --dead-letter <table>   Where bad messages go (created if absent; default:
                          none, and a bad message stops the ingest)
  --until-idle <d>        Exit 0 once every assigned partition has had no
                          message for this long, fetched from a broker that
                          answered all along (for nightly scripts;
                          default: never)
  --broker-timeout <d>    Exit 1 once Kafka has been unreachable this long
                          (default 5m with --until-idle; without it, wait
                          however long the broker is down)
  --duration <d>          Stop after this long (default: run until stopped)
  --id <id>               This process's id in events and metrics
                          (default ingest-<hostname>-<pid>)
  --metrics-addr <h:p>    Serve /metrics and /healthz on this address; /healthz
                          answers 503 once Kafka has been unreachable longer
                          than $NEURALAKE_HEALTH_COMMIT_FAILURE (default 60s)

${GLOBAL_HELP}

Examples:
  neuralake ingest s3://lab/neural --brokers kafka:9092 --topic rigs --group lab
  neuralake ingest ./events --brokers 127.0.0.1:9092 --topic events --group nightly \\
    --dead-letter ./events_dead --until-idle 30s --json`;

const FLAGS = {
  brokers: { type: "string" },
  topic: { type: "string" },
  group: { type: "string" },
  "batch-rows": { type: "string" },
  "batch-interval": { type: "string" },
  "dead-letter": { type: "string" },
  "until-idle": { type: "string" },
  "broker-timeout": { type: "string" },
  duration: { type: "string" },
  id: { type: "string" },
  "metrics-addr": { type: "string" },
} as const;

/** Arguments of `ingest`. */
export interface IngestArgs {
  table: string;
  brokers: string[];
  topic: string;
  group: string;
  batchRows: number;
  batchIntervalMs: number;
  deadLetter: string | undefined;
  untilIdleMs: number | undefined;
  /** Give up once Kafka has been unreachable this long; undefined: wait. */
  brokerTimeoutMs: number | undefined;
  durationMs: number;
  id: string;
  metricsAddr: string | undefined;
  json: boolean;
}

/** Parses and checks `ingest` arguments. */
export function parseIngestArgs(
  argv: string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): IngestArgs {
  const command = "ingest";
  const args = parseCommandArgs(command, argv, FLAGS);
  const [table] = positionals(args, ["table"], command);
  const brokersText = stringFlag(args, "brokers") ?? env("NEURALAKE_KAFKA_BROKERS");
  if (!brokersText) {
    throw new UsageError("Missing --brokers host:port (or NEURALAKE_KAFKA_BROKERS)", command);
  }
  const brokers = brokersText.split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new UsageError(`--brokers: "${broker}" is not host:port`, command);
    }
  }
  const required = (name: string) => {
    const value = stringFlag(args, name);
    if (!value) throw new UsageError(`Missing --${name}`, command);
    return value;
  };
  const topic = required("topic");
  const group = required("group");
  const batchRows = intFlag(args, "batch-rows", command) ?? DEFAULTS.batchRows;
  if (batchRows < 1) throw new UsageError("--batch-rows must be at least 1", command);
  const id = stringFlag(args, "id") ?? `ingest-${Deno.hostname()}-${Deno.pid}`;
  const untilIdleMs = durationFlag(args, "until-idle", command, { positive: true });
  return {
    table: table!,
    brokers,
    topic,
    group,
    batchRows,
    batchIntervalMs: durationFlag(args, "batch-interval", command, { positive: true }) ??
      DEFAULTS.batchIntervalMs,
    deadLetter: stringFlag(args, "dead-letter"),
    untilIdleMs,
    brokerTimeoutMs: brokerTimeoutFor(
      durationFlag(args, "broker-timeout", command, { positive: true }),
      untilIdleMs,
    ),
    durationMs: durationFlag(args, "duration", command) ?? 0,
    id,
    metricsAddr: metricsAddrFlag(args, command),
    json: args.values.json === true,
  };
}

/**
 * Runs `ingest`; 0 once stopped or idle, 1 (by the thrown error) on a bad
 * message or a broker unreachable past --broker-timeout.
 */
export async function runIngestCommand(parsed: IngestArgs): Promise<number> {
  const logger = log("ingest");
  const started = Date.now();
  const table = await openTable(parsed.table);
  const monitor = new JobMonitor(describeStoreUri(table.uri).uri, "ingest", parsed.id);
  if (parsed.metricsAddr !== undefined) {
    const server = monitor.serve(parsed.metricsAddr);
    logger.info("Serving /metrics and /healthz on {address}", {
      address: `${server.hostname}:${server.port}`,
    });
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  if (parsed.durationMs > 0) sleep(parsed.durationMs, stop.signal).then(onSignal, () => {});
  const progress = new IngestProgress(progressLine(parsed.json), logger);
  let summary: IngestSummary;
  try {
    const consumer = await joinGroup({
      brokers: parsed.brokers,
      topic: parsed.topic,
      group: parsed.group,
      maxWaitMs: Math.min(500, parsed.batchIntervalMs),
      // The role reports outages, at most every few seconds (kafka_outage.ts).
      onError: (error) => logger.debug("{error}; waiting for Kafka", { error: error.message }),
    });
    summary = await runIngest(consumer, {
      table,
      deadLetter: parsed.deadLetter === undefined ? undefined : await openTable(parsed.deadLetter),
      topic: parsed.topic,
      group: parsed.group,
      batchRows: parsed.batchRows,
      batchIntervalMs: parsed.batchIntervalMs,
      untilIdleMs: parsed.untilIdleMs,
      brokerTimeoutMs: parsed.brokerTimeoutMs,
      signal: stop.signal,
      id: parsed.id,
      onEvent: (event) => {
        monitor.observe(stampEvent(started, Date.now(), event));
        if (event.event === "batch_committed") progress.committed(event.rows ?? 0, event.version);
      },
    });
  } finally {
    progress.clear();
    stop.abort();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await monitor.close();
  }
  const seconds = (Date.now() - started) / 1000;
  if (parsed.json) {
    printJson(snakeCaseKeys({
      ok: true,
      table: table.uri,
      topic: parsed.topic,
      group: parsed.group,
      ...summary,
      seconds,
    }));
  } else {
    write(formatFields([
      ["table", table.uri],
      ["messages", formatCount(summary.messages)],
      ["rows committed", formatCount(summary.rows)],
      ["batches", formatCount(summary.batches)],
      ["dead letters", formatCount(summary.deadLetters)],
      ["stale batches dropped", formatCount(summary.staleBatches)],
      ["last version", summary.version === undefined ? "none" : String(summary.version)],
      ["stopped", summary.stopped === "idle" ? "idle" : "asked to"],
    ]));
  }
  return 0;
}

/**
 * What an ingest has committed so far: a progress line on a terminal (not
 * with --json), and an info log line at most every 10 s whatever stderr is,
 * so that a long ingest into a log file shows it is moving.
 */
export class IngestProgress {
  readonly #line: ProgressLine;
  readonly #logger: { info(message: string, properties: Record<string, unknown>): void };
  readonly #now: () => number;
  #rows = 0;
  #batches = 0;
  #version: number | bigint | undefined;
  #loggedAt: number;

  /** @param now The clock, in ms. @default performance.now */
  constructor(
    line: ProgressLine,
    logger: { info(message: string, properties: Record<string, unknown>): void },
    now: () => number = () => performance.now(),
  ) {
    this.#line = line;
    this.#logger = logger;
    this.#now = now;
    this.#loggedAt = now();
  }

  /** A batch of `rows` rows was committed as `version`. */

  committed(rows: number, version: number | bigint | undefined): void {
    this.#rows += rows;
    this.#batches++;
    this.#version = version ?? this.#version;
    const text = `${formatCount(this.#rows)} rows in ${formatCount(this.#batches)} batches, ` +
      `table version ${this.#version ?? "none"}`;
    this.#line.update(`ingest: committed ${text}`);
    const now = this.#now();
    if (now - this.#loggedAt >= 10_000) {
      this.#loggedAt = now;
      this.#logger.info("Committed {text} so far", { text });
    }
  }

  /** Erases the progress line, before the result prints. */
  clear(): void {
    this.#line.clear();
  }
}
