/**
 * The producer role behind `neuralake produce`: publishes the neural
 * generator's rows to a Kafka topic at a given rate, as an acquisition rig
 * would, so that a demo and the benchmarks need nothing else.
 *
 * Every message has a key no other message of the run has,
 * `<writer id>:<sequence>`, and its rows carry the same identity in their
 * columns (`writer_id`, and `batch_seq` = the message's sequence), so a test
 * can compare what reached a table with what was sent, message by message.
 *
 * Invariants:
 * - messages are numbered 0, 1, 2, ... from `firstSequence`, without gaps;
 *   the summary counts only messages the broker acknowledged;
 * - the rows of a run are deterministic from the seed, the writer id and the
 *   start time, as the writer role's are.
 */

import {
  createTopic,
  KafkaProducer,
  type OutgoingMessage,
  partitionCount,
} from "../sources/kafka.ts";
import { NeuralGenerator } from "../sources/neural.ts";
import { encodeNeuralMessage, neuralRowsAsJson } from "../sources/neural_message.ts";
import { sleep } from "../util/backoff.ts";

/** How message values hold rows. */
export type MessageFormat = "neural" | "json" | "ndjson";

/** What to publish, where, how fast and for how long. */
export interface ProduceOptions {
  brokers: string[];
  topic: string;
  /** @default "neural" */
  format?: MessageFormat;
  /** Rows per message; `json` always has 1. @default 8192 for neural, 100 for ndjson */
  rowsPerMessage?: number;
  /** Rows per second over the run; unlimited when absent. */
  rate?: number | undefined;
  /** Stop after this long (ms). Without it and `messages`, 10 s. */
  durationMs?: number | undefined;
  /** Stop after this many messages. */
  messages?: number | undefined;
  /** Create the topic with this many partitions when it does not exist. @default 1 */
  partitions?: number;
  /** @default 42 */
  seed?: number;
  /** Neurons (rows per tick). @default 1024 */
  neurons?: number;
  /** The `writer_id` of every row and the first part of every key. @default "producer-<seed>" */
  writerId?: string;
  /** The `session_id` of every row. @default "kafka-<seed>" */
  sessionId?: string;
  /** The sequence of the first message. @default 0 */
  firstSequence?: number;
  /** Messages per request to the broker (fewer when they would pass about 4 MiB). @default 1000 */
  messagesPerSend?: number;
  /** Stops the run early, as the duration would. */
  signal?: AbortSignal;
  /** Called after each acknowledged send, with the totals so far. */
  onProgress?: (progress: ProduceProgress) => void;
}

/** Totals so far. */
export interface ProduceProgress {
  messages: number;
  rows: number;
  bytes: number;
  elapsedMs: number;
}

/** What a run published. */
export interface ProduceSummary extends ProduceProgress {
  topic: string;
  format: MessageFormat;
  partitions: number;
  /** Whether the topic was created by this run. */
  created: boolean;
  rowsPerMessage: number;
  writerId: string;
  /** The keys of the first and last message: `<writer id>:<first>` to `<writer id>:<last>`. */
  firstKey: string | null;
  lastKey: string | null;
  rowsPerSecond: number;
  messagesPerSecond: number;
}

const DEFAULT_DURATION_MS = 10_000;
const SEND_BYTES = 4 * 1024 * 1024;
/** Requests in flight at once. */
/** The most time's worth of rows one send holds at a given rate, in ms. */
const PACED_SEND_MS = 100;

const INFLIGHT = 4;

/** The key of message `sequence` of a writer. */
export function messageKey(writerId: string, sequence: number): string {
  return `${writerId}:${sequence}`;
}

/** Publishes neural rows to a topic until the duration, count or signal says stop. */
export async function produceNeural(options: ProduceOptions): Promise<ProduceSummary> {
  const format = options.format ?? "neural";
  const rowsPerMessage = format === "json"
    ? 1
    : options.rowsPerMessage ?? (format === "neural" ? 8192 : 100);
  if (!Number.isSafeInteger(rowsPerMessage) || rowsPerMessage < 1) {
    throw new RangeError(
      `Rows per message must be a whole number of at least 1, got ${rowsPerMessage}`,
    );
  }
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new RangeError(`The rate must be above 0 rows/s, got ${options.rate}`);
  }
  const seed = options.seed ?? 42;
  const writerId = options.writerId ?? `producer-${seed}`;
  const sessionId = options.sessionId ?? `kafka-${seed}`;
  const limit = options.messages;
  const durationMs = options.durationMs ?? (limit === undefined ? DEFAULT_DURATION_MS : undefined);

  const client = { brokers: options.brokers };
  let partitions = await partitionCount(client, options.topic);
  let created = false;
  if (partitions === 0) {
    partitions = options.partitions ?? 1;
    created = (await createTopic({ ...client, topic: options.topic, partitions })) === "created";
    if (!created) partitions = await partitionCount(client, options.topic);
  }

  const generator = new NeuralGenerator({ seed, neurons: options.neurons ?? 1024 });
  const tick0 = generator.tickAt(Date.now());
  const producer = new KafkaProducer({ ...client, clientId: `neuralake-produce-${writerId}` });
  const encoder = new TextEncoder();
  // A paced send holds at most a tenth of a second of rows, so that a low
  // rate spreads messages over the run instead of sending them in one burst.
  const paced = options.rate === undefined
    ? Infinity
    : Math.floor((options.rate * PACED_SEND_MS) / 1000 / rowsPerMessage);
  const perSend = Math.max(
    1,
    Math.min(
      options.messagesPerSend ?? 1000,
      Math.floor(SEND_BYTES / (rowsPerMessage * 40)) || 1,
      paced,
    ),
  );
  const started = performance.now();
  const totals: ProduceProgress = { messages: 0, rows: 0, bytes: 0, elapsedMs: 0 };
  const first = options.firstSequence ?? 0;
  let sequence = first;
  let queued = 0;
  const inflight: Promise<void>[] = [];
  let startRow = 0;
  const stopAt = durationMs === undefined ? Infinity : started + durationMs;
  try {
    while (!options.signal?.aborted && performance.now() < stopAt) {
      const count = limit === undefined ? perSend : Math.min(perSend, limit - sequence + first);
      if (count <= 0) break;
      // Keep to the rate: this send may start once the rows before it are due.
      if (options.rate !== undefined) {
        const due = started + (queued / options.rate) * 1000;
        const wait = Math.min(due, stopAt) - performance.now();
        if (wait > 0) await sleep(wait, options.signal).catch(() => {});
        if (options.signal?.aborted || performance.now() >= stopAt) break;
      }
      const chunk = generator.generate({
        writerId,
        sessionId,
        batchSeq: sequence,
        tick0,
        startRow,
        rows: count * rowsPerMessage,
      });
      const seq = chunk.columns[3]!.values as BigInt64Array;
      const messages: OutgoingMessage[] = new Array(count);
      let bytes = 0;
      for (let m = 0; m < count; m++) {
        const from = m * rowsPerMessage, to = from + rowsPerMessage;
        seq.fill(BigInt(sequence + m), from, to);
        const value = format === "neural"
          ? encodeNeuralMessage(chunk, from, to)
          : encoder.encode(neuralRowsAsJson(chunk, from, to));
        bytes += value.length;
        messages[m] = { topic: options.topic, key: messageKey(writerId, sequence + m), value };
      }
      // Several requests in flight hide the broker's round trip; the
      // producer is idempotent, so a retried one is never stored twice.
      const sent = producer.send(messages).then(() => {
        totals.messages += count;
        totals.rows += count * rowsPerMessage;
        totals.bytes += bytes;
        totals.elapsedMs = performance.now() - started;
        options.onProgress?.({ ...totals });
      });
      sequence += count;
      startRow += count * rowsPerMessage;
      queued += count * rowsPerMessage;
      inflight.push(sent);
      if (inflight.length >= INFLIGHT) await inflight.shift();
    }
    await Promise.all(inflight.splice(0));
  } finally {
    // A failed send leaves others in flight: let them settle before closing.
    await Promise.allSettled(inflight);
    await producer.close();
  }
  totals.elapsedMs = performance.now() - started;
  const seconds = totals.elapsedMs / 1000;
  return {
    topic: options.topic,
    format,
    partitions,
    created,
    rowsPerMessage,
    writerId,
    firstKey: totals.messages > 0 ? messageKey(writerId, first) : null,
    lastKey: totals.messages > 0 ? messageKey(writerId, first + totals.messages - 1) : null,
    ...totals,
    rowsPerSecond: seconds > 0 ? totals.rows / seconds : 0,
    messagesPerSecond: seconds > 0 ? totals.messages / seconds : 0,
  };
}
