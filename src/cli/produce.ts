/**
 * `neuralake produce --brokers <host:port,...> --topic <name>`: publishes the
 * neural generator's rows to Kafka at a given rate (src/roles/producer.ts).
 * Exit status: 0 when every message was acknowledged, 1 when the broker
 * refused or could not be reached, 2 for a usage error.
 */

import { formatCount } from "../report/format.ts";
import { type MessageFormat, produceNeural, type ProduceSummary } from "../roles/producer.ts";
import { formatBytes } from "../util/units.ts";
import {
  commaList,
  durationFlag,
  GLOBAL_HELP,
  intFlag,
  parseCommandArgs,
  positionals,
  stringFlag,
  UsageError,
} from "./args.ts";
import { formatFields, printJson, write } from "./output.ts";

export const PRODUCE_HELP =
  `Usage: neuralake produce --brokers <host:port,...> --topic <name> [options]

Publish the neural generator's rows (the schema that stream writes) to a Kafka
topic, at a given rate, for demos, tests and benchmarks of ingest. Each
message's key is <writer id>:<sequence> (0, 1, 2, ...), unique in the run, and
its rows carry the writer id in writer_id and the sequence in batch_seq, so
what reached a table can be compared with what was sent, message by message.
The topic is created when it does not exist.

Options:
  --brokers <list>          Bootstrap brokers, comma-separated host:port
                            (default: $NEURALAKE_KAFKA_BROKERS)
  --topic <name>            The topic to publish to (required)
  --format <format>         neural (binary columns, many rows per message),
                            json (one object per message) or ndjson (one
                            object per line) (default: neural)
  --rows-per-message <n>    Rows in each message (default: 8192 for neural,
                            100 for ndjson; json has 1)
  --rate <rows/s>           Rows per second over the run (default: as fast as
                            the broker takes them)
  --duration <d>            Stop after this long, e.g. 30s (default: 10s, or
                            until --messages)
  --messages <n>            Stop after this many messages (default: no limit)
  --partitions <n>          Partitions of the topic if it is created (default: 1)
  --seed <n>                Generator seed (default: 42)
  --neurons <n>             Neurons, rows per sample tick (default: 1024)
  --writer-id <id>          writer_id of the rows, first part of every key
                            (default: producer-<seed>)
  --first-sequence <n>      Sequence of the first message (default: 0), to go
                            on after an earlier run without repeating keys

Prints messages, rows, bytes and rates (--json: one document).
Exit status: 0 all messages acknowledged, 1 failure, 2 usage error.

${GLOBAL_HELP}`;

/** Arguments of `produce`. */
export interface ProduceArgs {
  brokers: string[];
  topic: string;
  format: MessageFormat;
  rowsPerMessage: number | undefined;
  rate: number | undefined;
  durationMs: number | undefined;
  messages: number | undefined;
  partitions: number;
  seed: number;
  neurons: number;
  writerId: string | undefined;
  firstSequence: number;
  json: boolean;
}

const FORMATS: readonly MessageFormat[] = ["neural", "json", "ndjson"];

/** Parses `produce` arguments; `env` supplies NEURALAKE_KAFKA_BROKERS. */
export function parseProduceArgs(
  argv: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ProduceArgs {
  const c = "produce";
  const args = parseCommandArgs(c, argv, {
    brokers: { type: "string" },
    topic: { type: "string" },
    format: { type: "string" },
    "rows-per-message": { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    messages: { type: "string" },
    partitions: { type: "string" },
    seed: { type: "string" },
    neurons: { type: "string" },
    "writer-id": { type: "string" },
    "first-sequence": { type: "string" },
  });
  positionals(args, [], c);
  const brokers = commaList(stringFlag(args, "brokers") ?? env["NEURALAKE_KAFKA_BROKERS"]);
  if (brokers.length === 0) {
    throw new UsageError(
      "Missing --brokers (or NEURALAKE_KAFKA_BROKERS): the Kafka brokers, host:port",
      c,
    );
  }
  for (const b of brokers) {
    if (!/^[^\s:]+:\d+$/.test(b)) throw new UsageError(`--brokers: "${b}" is not host:port`, c);
  }
  const topic = stringFlag(args, "topic");
  if (!topic) throw new UsageError("Missing --topic: the Kafka topic to publish to", c);
  const format = stringFlag(args, "format") ?? "neural";
  if (!FORMATS.includes(format as MessageFormat)) {
    throw new UsageError(`--format must be neural, json or ndjson, got "${format}"`, c);
  }
  const rowsPerMessage = intFlag(args, "rows-per-message", c);
  if (rowsPerMessage !== undefined && rowsPerMessage < 1) {
    throw new UsageError("--rows-per-message must be at least 1", c);
  }
  if (format === "json" && rowsPerMessage !== undefined && rowsPerMessage !== 1) {
    throw new UsageError("--format json holds one row per message: use ndjson for more", c);
  }
  const rateText = stringFlag(args, "rate");
  const rate = rateText === undefined ? undefined : Number(rateText.replaceAll("_", ""));
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
    throw new UsageError(
      `--rate must be a number of rows per second above 0, got "${rateText}"`,
      c,
    );
  }
  const messages = intFlag(args, "messages", c);
  if (messages !== undefined && messages < 1) {
    throw new UsageError("--messages must be at least 1", c);
  }
  const partitions = intFlag(args, "partitions", c) ?? 1;
  if (partitions < 1) throw new UsageError("--partitions must be at least 1", c);
  const neurons = intFlag(args, "neurons", c) ?? 1024;
  if (neurons < 1) throw new UsageError("--neurons must be at least 1", c);
  const writerId = stringFlag(args, "writer-id");
  if (writerId !== undefined && (writerId === "" || writerId.includes(":"))) {
    throw new UsageError(`--writer-id must be non-empty and without ":", got "${writerId}"`, c);
  }
  return {
    brokers,
    topic,
    format: format as MessageFormat,
    rowsPerMessage,
    rate,
    durationMs: durationFlag(args, "duration", c, { positive: true }),
    messages,
    partitions,
    seed: intFlag(args, "seed", c) ?? 42,
    neurons,
    writerId,
    firstSequence: intFlag(args, "first-sequence", c) ?? 0,
    json: args.values.json === true,
  };
}

/** Runs `produce`. */
export async function runProduce(args: ProduceArgs): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const tty = Deno.stderr.isTerminal();
  let summary: ProduceSummary;
  try {
    summary = await produceNeural({
      brokers: args.brokers,
      topic: args.topic,
      format: args.format,
      ...(args.rowsPerMessage !== undefined ? { rowsPerMessage: args.rowsPerMessage } : {}),
      rate: args.rate,
      durationMs: args.durationMs,
      messages: args.messages,
      partitions: args.partitions,
      seed: args.seed,
      neurons: args.neurons,
      ...(args.writerId !== undefined ? { writerId: args.writerId } : {}),
      firstSequence: args.firstSequence,
      signal: stop.signal,
      onProgress: (p) => {
        if (!tty) return;
        const rate = p.elapsedMs > 0 ? Math.round(p.rows / (p.elapsedMs / 1000)) : 0;
        Deno.stderr.writeSync(
          new TextEncoder().encode(
            `\r\x1b[2Kproduce: ${formatCount(p.messages)} messages, ${formatCount(p.rows)} rows, ${
              formatCount(rate)
            } rows/s`,
          ),
        );
      },
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (tty) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[2K"));
  }
  if (args.json) {
    printJson({
      topic: summary.topic,
      format: summary.format,
      partitions: summary.partitions,
      created: summary.created,
      writer_id: summary.writerId,
      rows_per_message: summary.rowsPerMessage,
      messages: summary.messages,
      rows: summary.rows,
      bytes: summary.bytes,
      elapsed_ms: Math.round(summary.elapsedMs),
      rows_per_second: Math.round(summary.rowsPerSecond),
      messages_per_second: Math.round(summary.messagesPerSecond),
      first_key: summary.firstKey,
      last_key: summary.lastKey,
    });
  } else {
    write(formatFields([
      [
        "topic",
        `${summary.topic} (${summary.partitions} partitions${summary.created ? ", created" : ""})`,
      ],
      ["format", `${summary.format}, ${formatCount(summary.rowsPerMessage)} rows per message`],
      ["messages", formatCount(summary.messages)],
      ["rows", formatCount(summary.rows)],
      ["bytes", formatBytes(summary.bytes)],
      ["elapsed", `${(summary.elapsedMs / 1000).toFixed(1)} s`],
      [
        "rate",
        `${formatCount(summary.rowsPerSecond)} rows/s, ${
          formatCount(summary.messagesPerSecond)
        } messages/s`,
      ],
      ["keys", summary.firstKey === null ? "none" : `${summary.firstKey} to ${summary.lastKey}`],
    ]));
  }
  return 0;
}
