/**
 * An in-memory stand-in for a Kafka consumer-group member, for the ingest
 * role's unit tests: a topic is an array of message values per partition;
 * the member is assigned partitions, reads them from where `seek` says, and
 * records the Kafka offsets it is asked to commit.
 */

import type { AssignmentHandler, IngestConsumer, IngestMessage } from "../../src/roles/ingest.ts";
import { sleep } from "../../src/util/backoff.ts";

/** A topic: per partition, its messages' values (the offset is the index). */
export class FakeTopic {
  readonly partitions: (Uint8Array | null)[][];
  constructor(partitions: number) {
    this.partitions = Array.from({ length: partitions }, () => []);
  }

  /** Appends a value (a string is UTF-8 encoded) to a partition; returns its offset. */
  produce(partition: number, value: string | Uint8Array | null): bigint {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    return BigInt(this.partitions[partition]!.push(bytes) - 1);
  }
}

/** One member of a group reading a `FakeTopic`. */
export class FakeConsumer implements IngestConsumer {
  readonly topic: FakeTopic;
  readonly committed = new Map<number, bigint>();
  /** Messages per partition per `next`. */
  readonly chunk: number;
  /** Called before each delivery of messages, with the positions (tests inject races here). */
  beforeDelivery: ((positions: Map<number, bigint>) => Promise<void> | void) | undefined;
  closed = false;
  /** While set, polls fail to reach the "broker": they return nothing, and `outage()` says so. */
  down: { since: number; error: string } | undefined;
  /** Where each assignment started its partitions. */
  starts: Map<number, bigint | undefined>[] = [];
  /** Every seek, as [partition, offset]. */
  seeks: [number, bigint | undefined][] = [];
  #pending: number[] | undefined;
  #positions = new Map<number, bigint>();

  constructor(topic: FakeTopic, assigned: number[], chunk = 3) {
    this.topic = topic;
    this.#pending = assigned;
    this.chunk = chunk;
  }

  /** A new assignment, as a rebalance makes one. */
  reassign(partitions: number[]): void {
    this.#pending = partitions;
  }

  async poll(assigned: AssignmentHandler): Promise<IngestMessage[]> {
    if (this.#pending) {
      const partitions = this.#pending;
      this.#pending = undefined;
      const starts = await assigned(partitions);
      this.starts.push(new Map(starts));
      this.#positions.clear();
      for (const p of partitions) this.#positions.set(p, starts.get(p) ?? 0n);
    }
    if (this.down) {
      await sleep(5);
      return [];
    }
    await this.beforeDelivery?.(this.#positions);
    const messages: IngestMessage[] = [];
    for (const [partition, position] of this.#positions) {
      const log = this.topic.partitions[partition]!;
      let at = Number(position);
      for (let n = 0; n < this.chunk && at < log.length; n++, at++) {
        messages.push({
          partition,
          offset: BigInt(at),
          key: null,
          value: log[at]!,
          timestamp: 1_700_000_000_000n,
        });
      }
      this.#positions.set(partition, BigInt(at));
    }
    if (messages.length === 0) await sleep(5);
    return messages;
  }

  seek(partition: number, offset: bigint | undefined): void {
    this.seeks.push([partition, offset]);
    this.#positions.set(partition, offset ?? 0n);
  }

  commitOffsets(offsets: ReadonlyMap<number, bigint>): Promise<void> {
    for (const [p, o] of offsets) this.committed.set(p, o);
    return Promise.resolve();
  }

  outage(): { since: number; error: string } | undefined {
    return this.down && { ...this.down };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
