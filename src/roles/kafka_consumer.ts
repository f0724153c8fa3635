/**
 * The ingest role's consumer over the Kafka client (sources/kafka.ts): one
 * topic, positions decided by the role on every assignment (from the
 * table's markers), Kafka offsets committed only when the role says so.
 *
 * Invariant: every assigned partition is positioned explicitly, so Kafka's
 * committed offsets never decide where a partition is read from; one with no
 * marker in the table starts at the earliest offset the log holds.
 */

import {
  type AssignmentChange,
  KafkaGroupConsumer,
  type PartitionOffset,
} from "../sources/kafka.ts";
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
  /** Transient problems the consumer waits out (a broker restarting). */
  onError?: (error: Error) => void;
}

/** Joins the consumer group and returns the role's view of it. */
export async function joinGroup(options: GroupConsumerOptions): Promise<IngestConsumer> {
  let handler: AssignmentHandler | undefined;
  const topic = options.topic;
  const consumer = await KafkaGroupConsumer.join({
    brokers: options.brokers,
    groupId: options.group,
    topics: [topic],
    clientId: options.clientId ?? "neuralake-ingest",
    maxWaitMs: options.maxWaitMs,
    startFrom: "earliest",
    ...(options.onError ? { onError: options.onError } : {}),
    onAssignment: async (change: AssignmentChange): Promise<PartitionOffset[]> => {
      if (!handler) throw new Error("The ingest consumer was assigned partitions before a poll");
      const partitions = change.assigned.filter((tp) => tp.topic === topic).map((tp) =>
        tp.partition
      );
      const starts = await handler(partitions);
      return partitions.map((partition) => ({
        topic,
        partition,
        offset: starts.get(partition) ?? EARLIEST,
      }));
    },
  });
  return {
    async poll(assigned: AssignmentHandler): Promise<IngestMessage[]> {
      handler = assigned;
      const out: IngestMessage[] = [];
      for (const part of await consumer.poll()) {
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
      consumer.seek(topic, partition, offset ?? EARLIEST);
    },
    async commitOffsets(offsets: ReadonlyMap<number, bigint>): Promise<void> {
      await consumer.commit(
        [...offsets].map(([partition, offset]) => ({ topic, partition, offset })),
      );
    },
    close: () => consumer.close(),
  };
}

/**
 * Where a partition with no marker starts: offset 0, the first offset of a
 * log whose head retention has not deleted. (A trimmed log would need its
 * start offset from the broker; the client does not offer it yet.)
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
