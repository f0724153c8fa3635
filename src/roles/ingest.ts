/**
 * The ingest role: Kafka into a Delta table, exactly once. Messages of each
 * assigned partition are batched (by rows and by time, the writer's flush
 * rule in batching.ts) and every batch becomes one Parquet file and one
 * commit through `appendBatch` (ops/append.ts), carrying the partition's
 * marker `txn {appId: <group>:<topic>:<partition>, version: last offset}`.
 *
 * Invariants:
 * - A partition is read from the offset after its marker in the table, on
 *   start and on every assignment; Kafka's committed offsets are written
 *   after each Delta commit, for lag monitoring only, and never read.
 * - A batch is committed only if the table's marker is still the one it was
 *   read after: checked against the latest commits before the commit, and by
 *   the commit's conflict rules for commits that land meanwhile (a winner
 *   holding the partition's marker, at any version, means another consumer
 *   took the partition). A stale batch is dropped and the partition read
 *   again from the table's marker: no offset is written twice or skipped.
 * - A message is added all or none. One that is not a JSON object (or NDJSON
 *   of them) fitting the table's columns goes to the dead-letter table
 *   (dead_letter.ts), committed before the batch's rows under the same
 *   marker; without a dead-letter table it stops the ingest, naming its
 *   topic, partition and offset, with nothing of its batch committed.
 * - On stop (a signal, `--duration`, `--until-idle`) what is buffered is
 *   committed before the consumer leaves the group.
 * - A poll that could not reach Kafka is not idleness (kafka_outage.ts):
 *   ingest waits for the broker, and with a broker timeout it gives up
 *   once the outage lasts that long, committing what it buffered first.
 */

import {
  appendBatch,
  appendCommitOptions,
  type AppendTarget,
  appendTarget,
  rowIdMarkOf,
} from "../ops/append.ts";
import type { AppendBatchOptions } from "../ops/append.ts";
import { createTable, TableExistsError } from "../ops/create.ts";
import {
  checkCanWrite,
  followTable,
  lastAppVersion,
  schemaFromFields,
  type Snapshot,
  snapshotOf,
  type Table,
  tableFields,
  TableNotFoundError,
} from "../ops/table.ts";
import { MessageRows } from "../sources/message_rows.ts";
import { NEURAL_FIELDS } from "../sources/neural.ts";
import { log } from "../util/log.ts";
import { yieldToEventLoop } from "../util/event_loop.ts";
import { unlessAborted } from "../util/backoff.ts";
import { BatchWindow } from "./batching.ts";
import {
  DEAD_LETTER_FIELDS,
  type DeadLetter,
  deadLetterBatch,
  lettersToWrite,
} from "../sources/dead_letter.ts";
import { alreadyCommitted, isStale, partitionAppId, resumeOffset } from "./kafka_offsets.ts";
import type { EventFields } from "./messages.ts";
import { type OutageReport, OutageWatch } from "./kafka_outage.ts";
import type { BrokerOutage } from "../sources/kafka.ts";

/** One Kafka message, as the role needs it. */
export interface IngestMessage {
  partition: number;
  offset: bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** The message's time stamp, in ms since the epoch. */
  timestamp?: bigint | undefined;
}

/**
 * Where each newly assigned partition starts: the next offset to read, or
 * undefined for the earliest Kafka holds.
 */
export type AssignmentHandler = (
  partitions: number[],
) => Promise<ReadonlyMap<number, bigint | undefined>>;

/**
 * A consumer-group member for one topic, as the role drives it (the Kafka
 * client in sources/kafka.ts, through `groupConsumer` in kafka_consumer.ts).
 */
export interface IngestConsumer {
  /**
   * The next messages, in offset order per partition, or none within the
   * consumer's wait. On a new assignment it first calls `assigned` and reads
   * every partition from where that says; nothing read before is returned
   * after.
   */
  poll(assigned: AssignmentHandler): Promise<IngestMessage[]>;
  /** Reads a partition from `offset` next (undefined: the earliest), dropping what was read ahead. */
  seek(partition: number, offset: bigint | undefined): void;
  /** Commits Kafka offsets (the next offset to read, per partition), for lag monitoring. */
  commitOffsets(offsets: ReadonlyMap<number, bigint>): Promise<void>;
  /** Leaves the group and closes the connections. */
  close(): Promise<void>;
  /** Whether the last poll failed to reach the broker (and since when); undefined if it did not. */
  outage(): BrokerOutage | undefined;
}

/** Options of `runIngest`. */
export interface IngestOptions {
  table: Table;
  /** Where bad messages go; without it a bad message stops the ingest. */
  deadLetter?: Table | undefined;
  topic: string;
  group: string;
  /** The most rows in a batch. */
  batchRows: number;
  /** The longest a batch stays open, in ms. */
  batchIntervalMs: number;
  /** How the table's data files are encoded (the stream's --codec). @default appendBatch's */
  encode?: AppendBatchOptions["encode"] | undefined;
  /**
   * Stop once every assigned partition has had no message for this long
   * (ms), fetched from a broker that answered all along.
   */
  untilIdleMs?: number | undefined;
  /**
   * Stop with a `BrokerUnreachableError` once Kafka has been unreachable
   * this long (ms); undefined: wait however long it is down.
   */
  brokerTimeoutMs?: number | undefined;
  /** Aborted to stop gracefully: what is buffered is committed first. */
  signal: AbortSignal;
  /** This process's id in events. */
  id: string;
  /** Metrics events, with role `ingest`. */
  onEvent?: (event: EventFields) => void;
}

/** What an ingest did. */
export interface IngestSummary {
  messages: number;
  rows: number;
  batches: number;
  deadLetters: number;
  /** Batches dropped because another consumer committed their partition first. */
  staleBatches: number;
  /** The table's version after the last commit of this process, if any. */
  version: number | undefined;
  /** Why it stopped. */
  stopped: "signal" | "idle";
}

/** A bad message with no dead-letter table to take it. */
export class BadMessageError extends Error {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  constructor(topic: string, partition: number, offset: bigint, reason: string) {
    super(
      `Topic ${topic}, partition ${partition}, offset ${offset}: ${reason}. Nothing of its ` +
        `batch was committed; pass --dead-letter <table> to set bad messages aside and go on`,
    );
    this.name = "BadMessageError";
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}

/** An assigned partition: where it stands in the table and what is buffered. */
interface PartitionState {
  partition: number;
  appId: string;
  /** The table's marker version this partition's buffer follows. */
  committed: number | undefined;
  /** The next offset expected (undefined: the earliest, not read yet). */
  next: bigint | undefined;
  /** The last offset in the buffer. */
  last: bigint;
  /** The value of the role's seek counter at this partition's last seek. */
  soughtAt: number;
  rows: MessageRows;
  letters: DeadLetter[];
  window: BatchWindow | undefined;
  lastMessageAt: number;
  /**
   * Sought back (a dropped batch) and not yet polled since: its messages are
   * due again, so it is not idle, however long the drop took.
   */
  rereadDue: boolean;
}

/** A table's columns. */
type Field = ReturnType<typeof tableFields>[number];

/** A table the role appends to, with the snapshot it follows. */
interface Sink {
  table: Table;
  snapshot: Snapshot;
  target: AppendTarget;
  fields: Field[];
}

/** Runs ingest until stopped, idle, or a bad message without a dead-letter table. */
export async function runIngest(
  consumer: IngestConsumer,
  options: IngestOptions,
): Promise<IngestSummary> {
  const logger = log("ingest");
  const main = await openSink(options.table, NEURAL_FIELDS, "neural_signals", false);
  const dlq = options.deadLetter
    ? await openSink(options.deadLetter, DEAD_LETTER_FIELDS, "dead_letters", true)
    : undefined;
  const limits = {
    batchRows: options.batchRows,
    batchIntervalMs: options.batchIntervalMs,
    ratePerSecond: 0,
  };
  const parts = new Map<number, PartitionState>();
  const summary: IngestSummary = {
    messages: 0,
    rows: 0,
    batches: 0,
    deadLetters: 0,
    staleBatches: 0,
    version: undefined,
    stopped: "signal",
  };
  let assignedAt = Date.now();
  let offsetCommits: Promise<void> = Promise.resolve();
  const emit = (event: Omit<EventFields, "role" | "role_id">) =>
    options.onEvent?.({ role: "ingest", role_id: options.id, ...event });
  const broker = new OutageWatch({
    timeoutMs: options.brokerTimeoutMs,
    report: (r) => {
      reportOutage(logger, r);
      emit({
        event: r.kind === "down" ? "broker_unreachable" : "broker_reachable",
        total_ms: r.downMs,
        ...(r.kind === "down" ? { detail: r.error } : {}),
      });
    },
  });
  let unreachable: Error | undefined;
  // When the role began to hear nothing: the start of the first of an unbroken
  // run of polls that returned no message, with no commit since. Time spent
  // committing is not quiet time: the broker may hold messages the role was
  // too busy to fetch.
  let heardNothingSince: number | undefined;

  const fresh = (partition: number, committed: number | undefined): PartitionState => ({
    partition,
    appId: partitionAppId(options.group, options.topic, partition),
    committed,
    next: resumeOffset(committed),
    last: -1n,
    soughtAt: 0,
    rows: new MessageRows(main.fields, options.batchRows),
    letters: [],
    window: undefined,
    lastMessageAt: Date.now(),
    rereadDue: false,
  });

  // Counts seeks: messages of a partition read before its seek are not taken after it.
  let seeks = 0;
  const seek = (p: PartitionState) => {
    p.soughtAt = ++seeks;
    p.rereadDue = true;
    p.lastMessageAt = Date.now();
    consumer.seek(p.partition, p.next);
  };

  /** Empties a partition's buffer, and reads it again from the table's marker. */
  const reset = (p: PartitionState, committed: number | undefined) => {
    p.rows.take();
    p.letters = [];
    p.window = undefined;
    p.committed = committed;
    p.next = resumeOffset(committed);
  };

  const assign: AssignmentHandler = async (partitions) => {
    await followTable(main.table.store, main.snapshot);
    const kept = new Set(partitions);
    for (const p of parts.keys()) if (!kept.has(p)) parts.delete(p);
    for (const partition of partitions) {
      const inTable = lastAppVersion(
        main.snapshot,
        partitionAppId(options.group, options.topic, partition),
      );
      const p = parts.get(partition);
      if (p === undefined) parts.set(partition, fresh(partition, inTable));
      else if (isStale(p.committed, inTable)) reset(p, inTable);
    }
    assignedAt = Date.now();
    logger.info("Assigned partitions {partitions} of {topic}; reading from {offsets}", {
      partitions: partitions.join(",") || "none",
      topic: options.topic,
      offsets: [...parts.values()].map((p) => `${p.partition}@${p.next ?? "earliest"}`).join(" "),
    });
    return new Map([...parts.values()].map((p) => [p.partition, p.next]));
  };

  /** Commits a partition's buffered batch (dead letters first), or drops it if stale. */
  const flush = async (p: PartitionState) => {
    const rows = p.rows.rows;
    if (rows === 0 && p.letters.length === 0) {
      p.window = undefined;
      return;
    }
    heardNothingSince = undefined;
    const started = performance.now();
    const openedAt = p.window?.openedAt ?? Date.now();
    const version = Number(p.last);
    await followTable(main.table.store, main.snapshot);
    const inTable = lastAppVersion(main.snapshot, p.appId);
    if (isStale(p.committed, inTable)) {
      return drop(p, inTable, "another consumer committed it");
    }
    if (p.letters.length > 0 && dlq) {
      await followTable(dlq.table.store, dlq.snapshot);
      const letters = lettersToWrite(p.letters, lastAppVersion(dlq.snapshot, p.appId));
      if (letters.length > 0) {
        const rowIds = rowIdMarkOf(dlq.snapshot);
        const result = await appendBatch(dlq.target, deadLetterBatch(letters, Date.now()), {
          readVersion: dlq.snapshot.version,
          ...(rowIds ? { rowIds } : {}),
          txn: { appId: p.appId, version },
          fileIndex: p.partition,
          description: describe(options.group, version),
          commit: appendCommitOptions(dlq.snapshot),
        });
        if (result.outcome.kind !== "committed") {
          await followTable(main.table.store, main.snapshot);
          return drop(p, lastAppVersion(main.snapshot, p.appId), result.outcome.kind);
        }
        summary.deadLetters += letters.length;
        logger.warning("{count} bad messages of partition {partition} went to {table}", {
          count: letters.length,
          partition: p.partition,
          table: dlq.table.uri,
        });
      }
    }
    const batch = p.rows.take();
    if (batch !== undefined) {
      // The snapshot was followed to the head above: its mark is current.
      const rowIds = rowIdMarkOf(main.snapshot);
      const result = await appendBatch(main.target, batch, {
        ...(options.encode ? { encode: options.encode } : {}),
        readVersion: main.snapshot.version,
        ...(rowIds ? { rowIds } : {}),
        txn: { appId: p.appId, version },
        fileIndex: p.partition,
        description: describe(options.group, version),
        commit: {
          ...appendCommitOptions(main.snapshot),
          onLostRace: ({ version: lost }) =>
            emit({ event: "commit_conflict", version: lost, batch_seq: version }),
        },
      });
      const { outcome } = result;
      if (outcome.kind !== "committed") {
        await followTable(main.table.store, main.snapshot);
        return drop(p, lastAppVersion(main.snapshot, p.appId), outcome.reason);
      }
      summary.rows += batch.length;
      summary.batches++;
      summary.version = outcome.version;
      p.committed = version;
      emit({
        event: "batch_committed",
        version: outcome.version,
        batch_seq: version,
        rows: batch.length,
        bytes: result.bytes,
        files_out: result.files,
        encode_ms: round(result.timings.encodeMs),
        upload_ms: round(result.timings.uploadMs),
        commit_ms: round(result.timings.commitMs),
        total_ms: round(performance.now() - started),
        visibility_ms: round(Date.now() - openedAt),
        attempts: outcome.attempts,
      });
    }
    p.letters = [];
    p.window = undefined;
    // Kafka's offsets follow the table, for lag monitoring; one commit at a time.
    const offsets = new Map([[p.partition, p.last + 1n]]);
    offsetCommits = offsetCommits.then(() => consumer.commitOffsets(offsets)).catch((error) =>
      logger.warning("Could not commit Kafka offsets: {error}", { error: String(error) })
    );
  };

  const drop = (p: PartitionState, inTable: number | undefined, why: string) => {
    summary.staleBatches++;
    emit({ event: "batch_failed", batch_seq: Number(p.last), rows: p.rows.rows, detail: why });
    logger.info(
      "Dropped the batch of partition {partition} up to offset {offset} ({why}); " +
        "reading again after {marker}",
      {
        partition: p.partition,
        offset: String(p.last),
        why,
        marker: inTable ?? "none",
      },
    );
    reset(p, inTable);
    seek(p);
  };

  const take = async (m: IngestMessage) => {
    const p = parts.get(m.partition);
    if (p === undefined) return;
    if (p.next !== undefined && m.offset < p.next) return;
    if (alreadyCommitted(m.offset, p.committed)) return;
    const now = Date.now();
    p.window ??= new BatchWindow(limits, now);
    let outcome = p.rows.add(m.value);
    if (outcome.kind === "full") {
      const before = p.soughtAt;
      await flush(p);
      // A dropped batch is read again from the table's marker, this message too.
      if (p.soughtAt !== before) return;
      p.window ??= new BatchWindow(limits, now);
      outcome = p.rows.add(m.value);
    }
    if (outcome.kind === "bad") {
      if (!dlq) throw new BadMessageError(options.topic, m.partition, m.offset, outcome.error);
      p.letters.push({
        topic: options.topic,
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp,
        key: m.key,
        value: m.value,
        error: outcome.error,
      });
    }
    summary.messages++;
    p.last = m.offset;
    p.next = m.offset + 1n;
    p.lastMessageAt = now;
  };

  try {
    for (;;) {
      // A poll served from the consumer's buffer and a flush to local disk
      // may make no asynchronous call: the stop signal, the group's
      // heartbeats and the commit feed are served here, once per poll.
      await yieldToEventLoop();
      if (options.signal.aborted) break;
      const now = Date.now();
      for (const p of parts.values()) {
        if (p.window?.shouldComplete(now, p.rows.rows + p.letters.length)) await flush(p);
      }
      if (options.untilIdleMs !== undefined && idle(Date.now())) {
        summary.stopped = "idle";
        break;
      }
      const seeksBefore = seeks;
      const pollStartedAt = Date.now();
      const polling = consumer.poll(assign);
      // A stop may come first; the poll then ends (or fails, once the
      // consumer is closed) unheard. Waited for without a reaction per poll
      // left on a pending promise (util/backoff.ts unlessAborted).
      polling.catch(() => {});
      const messages = await unlessAborted(polling, options.signal);
      if (messages === undefined) continue;
      if (messages.length > 0) heardNothingSince = undefined;
      else heardNothingSince ??= pollStartedAt;
      // A poll begun after a partition's seek read it from its new position.
      for (const p of parts.values()) if (p.soughtAt <= seeksBefore) p.rereadDue = false;
      unreachable = broker.observe(consumer.outage(), Date.now());
      if (unreachable) break;
      const polled = seeks;
      for (const m of messages) {
        // A partition sought since this poll gets these offsets again from the consumer.
        if ((parts.get(m.partition)?.soughtAt ?? 0) > polled) continue;
        await take(m);
      }
    }
    for (const p of parts.values()) await flush(p);
    await offsetCommits;
    if (unreachable) throw unreachable;
  } finally {
    await consumer.close().catch((error) =>
      logger.warning("Could not leave the consumer group cleanly: {error}", {
        error: String(error),
      })
    );
  }
  return summary;

  function idle(now: number): boolean {
    const limit = options.untilIdleMs!;
    if (broker.quietFor(now) < limit) return false;
    if (parts.size === 0) return now - assignedAt >= limit;
    if (heardNothingSince === undefined || now - heardNothingSince < limit) return false;
    for (const p of parts.values()) {
      if (now - p.lastMessageAt < limit || p.window !== undefined || p.rereadDue) return false;
    }
    return true;
  }
}

function reportOutage(logger: ReturnType<typeof log>, r: OutageReport): void {
  if (r.kind === "back") {
    logger.info("Kafka answers again after {seconds} s unreachable", {
      seconds: Math.round(r.downMs / 1000),
    });
    return;
  }
  logger.warning(
    "Kafka unreachable for {seconds} s, retrying ({limit}): {error}",
    {
      seconds: Math.round(r.downMs / 1000),
      limit: r.timeoutMs === undefined
        ? "no --broker-timeout: waiting however long"
        : `giving up at --broker-timeout ${Math.round(r.timeoutMs / 1000)} s`,
      error: r.error,
    },
  );
}

function describe(group: string, lastOffset: number) {
  return {
    operation: "STREAMING UPDATE",
    operationParameters: { outputMode: "Append", queryId: group, epochId: lastOffset },
    isBlindAppend: true,
  };
}

/**
 * Opens a table to append to, creating it with `fields` if it does not
 * exist (the dead-letter table must have exactly those columns).
 */
async function openSink(
  table: Table,
  fields: Field[],
  name: string,
  exact: boolean,
): Promise<Sink> {
  let snapshot: Snapshot;
  try {
    snapshot = await snapshotOf(table);
  } catch (error) {
    if (!(error instanceof TableNotFoundError)) throw error;
    try {
      await createTable(table, { schema: schemaFromFields(fields), name });
    } catch (error) {
      if (!(error instanceof TableExistsError)) throw error;
    }
    snapshot = await snapshotOf(table);
  }
  // Row ids are assigned per commit from the followed snapshot's mark
  // (rowIdMarkOf), and in-commit timestamps per commit (appendCommitOptions).
  checkCanWrite(snapshot.protocol, snapshot.metadata, snapshot.schema, {
    kind: "append",
    assignsRowIds: true,
    writesInCommitTimestamps: true,
  });
  const columns = tableFields(snapshot.schema, snapshot.metadata.configuration);
  if (exact) {
    const same = columns.length === fields.length &&
      columns.every((f, i) => f.name === fields[i]!.name && f.type === fields[i]!.type);
    if (!same) {
      throw new Error(
        `The table ${table.uri} is not a dead-letter table: its columns (${
          columns.map((f) => `${f.name} ${f.type}`).join(", ")
        }) are not ${fields.map((f) => `${f.name} ${f.type}`).join(", ")}; name a new table`,
      );
    }
  }
  return {
    table,
    snapshot,
    target: appendTarget(table.store, columns, snapshot.metadata.partitionColumns),
    fields: columns,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
