/**
 * The ingest role's consumer over the Kafka client (sources/kafka.ts): one
 * topic, positions decided by the role on every assignment (from the
 * table's markers), Kafka offsets committed only when the role says so.
 *
 * Invariant: every assigned partition is positioned explicitly, so Kafka's
 * committed offsets never decide where a partition is read from; one with no
 * marker in the table starts at the earliest offset the log holds. A position
 * before the log's start (retention deleted messages that were never
 * ingested) moves to the log's start with a warning that names the offsets
 * lost; one past the log's end (the topic was made again) stops the ingest.
 */

import {
  type AssignmentChange,
  KafkaGroupConsumer,
  KafkaOffsetOutOfRangeError,
  type PartitionMessages,
  type PartitionOffset,
} from "../sources/kafka.ts";
import { log } from "../util/log.ts";
import type { AssignmentHandler, IngestConsumer, IngestMessage } from "./ingest.ts";

/** Options of `joinGroup`. */
export interface GroupConsumerOptions {
  brokers: string[];
  topic: string;
  group: string;
  /** The longest a poll waits for data, in ms. */
  maxWaitMs: number;
  /** The client id the broker logs. */
  clientId?: string;
  /** A static member id, so that a restarted member rejoins without a rebalance (see sources/kafka.ts). */
  groupInstanceId?: string;
  /** Transient problems the consumer waits out (a broker restarting). */
  onError?: (error: Error) => void;
}

/** Joins the consumer group and returns the role's view of it. */
export async function joinGroup(options: GroupConsumerOptions): Promise<IngestConsumer> {
  let handler: AssignmentHandler | undefined;
  // Partitions positioned at the earliest offset (no marker): a log that
  // starts later is no loss for them.
  const fromEarliest = new Set<number>();
  const topic = options.topic;
  const consumer = await KafkaGroupConsumer.join({
    brokers: options.brokers,
    groupId: options.group,
    topics: [topic],
    clientId: options.clientId ?? "neuralake-ingest",
    maxWaitMs: options.maxWaitMs,
    startFrom: "earliest",
    ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    onAssignment: async (change: AssignmentChange): Promise<PartitionOffset[]> => {
      if (!handler) throw new Error("The ingest consumer was assigned partitions before a poll");
      const partitions = change.assigned.filter((tp) => tp.topic === topic).map((tp) =>
        tp.partition
      );
      const starts = await handler(partitions);
      fromEarliest.clear();
      return partitions.map((partition) => {
        const offset = starts.get(partition);
        if (offset === undefined) fromEarliest.add(partition);
        return { topic, partition, offset: offset ?? EARLIEST };
      });
    },
  });
  return {
    async poll(assigned: AssignmentHandler): Promise<IngestMessage[]> {
      handler = assigned;
      let polled: PartitionMessages[];
      try {
        polled = await consumer.poll();
      } catch (error) {
        if (!(error instanceof KafkaOffsetOutOfRangeError)) throw error;
        if (error.offset >= error.highWatermark) {
          throw new Error(
            `${error.message}: the table's progress for this partition is past the end of its ` +
              `log, so the topic was probably made again; ingest it with a new --group`,
            { cause: error },
          );
        }
        if (!fromEarliest.has(error.partition)) {
          log("ingest").warning(
            "Offsets {from} to {to} of partition {partition} of {topic} were deleted by Kafka " +
              "(retention) before they were ingested; reading on from {start}",
            {
              from: Number(error.offset),
              to: Number(error.logStartOffset - 1n),
              partition: error.partition,
              topic,
              start: Number(error.logStartOffset),
            },
          );
        }
        fromEarliest.delete(error.partition);
        consumer.seek(topic, error.partition, error.logStartOffset);
        return [];
      }
      const out: IngestMessage[] = [];
      for (const part of polled) {
        for (const m of part.messages) {
          out.push({
            partition: m.partition,
            offset: m.offset,
            key: plain(m.key),
            value: plain(m.value),
            timestamp: BigInt(m.timestamp),
          });
        }
      }
      return out;
    },
    seek(partition: number, offset: bigint | undefined): void {
      if (offset === undefined) fromEarliest.add(partition);
      else fromEarliest.delete(partition);
      consumer.seek(topic, partition, offset ?? EARLIEST);
    },
    async commitOffsets(offsets: ReadonlyMap<number, bigint>): Promise<void> {
      await consumer.commit(
        [...offsets].map(([partition, offset]) => ({ topic, partition, offset })),
      );
    },
    close: () => consumer.close(),
    outage: () => consumer.outage(),
  };
}

/**
 * Where a partition with no marker starts: offset 0, the first offset of a
 * log whose head retention has not deleted; a trimmed log answers out of
 * range with its start offset, and the partition moves there.
 */
const EARLIEST = 0n;

/**
 * The client hands out Node Buffers, whose `slice` is a view where a
 * Uint8Array's is a copy; decoders that copy with `slice` (neural_message.ts)
 * would read the client's whole pool. A plain view over the same bytes.
 */
function plain(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
