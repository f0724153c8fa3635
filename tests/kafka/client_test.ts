/**
 * The Kafka seam (src/sources/kafka.ts) against the real test broker:
 * topics, keyed sends, a group member whose positions the caller sets on
 * every assignment, explicit commits, rebalances between two members, and a
 * broker restart in the middle of consuming.
 */

import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import {
  type AssignmentChange,
  createTopic,
  endOffsets,
  KafkaGroupConsumer,
  type KafkaGroupConsumerOptions,
  KafkaOffsetOutOfRangeError,
  KafkaProducer,
  partitionCount,
  type PartitionOffset,
} from "../../src/sources/kafka.ts";
import {
  haltKafkaBroker,
  KAFKA_IGNORE,
  kafkaBrokers,
  restartKafkaBroker,
  uniqueTopic,
} from "../_helpers/kafka.ts";

const decoder = new TextDecoder();

/** Sends `count` messages keyed `k<i>` (value `v<i>`), spread over the partitions by key. */
async function produceKeys(topic: string, from: number, count: number): Promise<void> {
  const producer = new KafkaProducer({ brokers: kafkaBrokers() });
  try {
    const messages = [];
    for (let i = from; i < from + count; i++) {
      messages.push({ topic, key: `k${i}`, value: `v${i}` });
    }
    await producer.send(messages);
  } finally {
    await producer.close();
  }
}

function consumerOptions(
  topic: string,
  groupId: string,
  extra: Partial<KafkaGroupConsumerOptions> = {},
): KafkaGroupConsumerOptions {
  return { brokers: kafkaBrokers(), groupId, topics: [topic], maxWaitMs: 200, ...extra };
}

/** Polls until `until()` holds, collecting `partition:offset:key` of each message. */
async function pollUntil(
  consumer: KafkaGroupConsumer,
  seen: string[],
  until: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seen.length} messages`);
    for (const part of await consumer.poll()) {
      for (const m of part.messages) {
        seen.push(`${m.partition}:${m.offset}:${decoder.decode(m.key!)}`);
        assertEquals(decoder.decode(m.value!), `v${decoder.decode(m.key!).slice(1)}`);
      }
    }
  }
}

const keysOf = (seen: string[]) => seen.map((s) => s.split(":")[2]!).sort();
const range = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `k${from + i}`).sort();

Deno.test({
  name: "createTopic makes a topic with the partitions asked for, and says so when it exists",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("create");
    const brokers = kafkaBrokers();
    assertEquals(await partitionCount({ brokers }, topic), 0);
    assertEquals(await createTopic({ brokers, topic, partitions: 4 }), "created");
    assertEquals(await partitionCount({ brokers }, topic), 4);
    assertEquals(await createTopic({ brokers, topic, partitions: 2 }), "exists");
    assertEquals(await endOffsets({ brokers }, topic), [0n, 0n, 0n, 0n]);
  },
});

Deno.test({
  name: "a group member reads every message once, from the offsets its assignment callback chose",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("positions");
    const brokers = kafkaBrokers();
    await createTopic({ brokers, topic, partitions: 3 });
    await produceKeys(topic, 0, 300);
    const ends = await endOffsets({ brokers }, topic);
    assertEquals(ends.reduce((a, b) => a + b, 0n), 300n);
    assert(ends.every((e) => e > 10n), `keys spread over all partitions: ${ends}`);

    // Partition 1 starts at offset 10; the others are left to the default (earliest).
    const changes: AssignmentChange[] = [];
    const consumer = await KafkaGroupConsumer.join(consumerOptions(topic, uniqueTopic("g"), {
      onAssignment: (change) => {
        changes.push(change);
        return [{ topic, partition: 1, offset: 10n }];
      },
    }));
    try {
      const seen: string[] = [];
      await pollUntil(consumer, seen, () => seen.length >= 290);
      assertEquals(changes.length, 1);
      assertEquals(changes[0]!.assigned, [0, 1, 2].map((partition) => ({ topic, partition })));
      assertEquals(changes[0]!.revoked, []);
      // Nothing before offset 10 of partition 1, nothing twice, nothing else missing.
      assertEquals(seen.filter((s) => s.startsWith("1:") && Number(s.split(":")[1]) < 10), []);
      assertEquals(new Set(seen).size, seen.length);
      assertEquals(seen.length, 290);
      assertEquals(consumer.position(topic, 1), ends[1]);

      // seek rewinds; what is read again is exactly the tail of that partition.
      consumer.seek(topic, 0, ends[0]! - 5n);
      const again: string[] = [];
      await pollUntil(consumer, again, () => again.length >= 5);
      assertEquals(again.map((s) => s.split(":").slice(0, 2).join(":")), [
        ...Array.from({ length: 5 }, (_, i) => `0:${ends[0]! - 5n + BigInt(i)}`),
      ]);
      const expected = seen.filter((s) =>
        s.startsWith("0:") && BigInt(s.split(":")[1]!) >= ends[0]! - 5n
      );
      assertEquals(again, expected);

      // Commits are explicit: nothing was committed until now.
      const parts = [0, 1, 2].map((partition) => ({ topic, partition }));
      assertEquals((await consumer.committed(parts)).map((o) => o.offset), [-1n, -1n, -1n]);
      const commit: PartitionOffset[] = parts.map((p, i) => ({ ...p, offset: ends[i]! - 1n }));
      await consumer.commit(commit);
      assertEquals(await consumer.committed(parts), commit);
    } finally {
      await consumer.close();
    }
  },
});

Deno.test({
  name:
    "a second member takes over partitions: each side's callback hears of it, and no message is read twice",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("rebalance");
    const groupId = uniqueTopic("g");
    const brokers = kafkaBrokers();
    await createTopic({ brokers, topic, partitions: 4 });
    await produceKeys(topic, 0, 200);

    // Each member starts every assigned partition where the shared ledger
    // says the group stopped, as ingest starts from the table's txn versions.
    const ledger = new Map<number, bigint>();
    const changes: { member: string; change: AssignmentChange }[] = [];
    const positionFromLedger = (member: string) => (change: AssignmentChange) => {
      changes.push({ member, change });
      return change.assigned.map((tp) => ({ ...tp, offset: ledger.get(tp.partition) ?? 0n }));
    };
    // The ledger takes a partition's messages only if they start where it
    // stopped, as a txn version check does: a member that has not heard of
    // the rebalance yet may still read a partition that moved.
    const seen: string[] = [];
    const drain = async (consumer: KafkaGroupConsumer, polls: number) => {
      for (let i = 0; i < polls; i++) {
        for (const part of await consumer.poll()) {
          const first = part.messages[0]?.offset ?? part.nextOffset;
          const stored = ledger.get(part.partition) ?? 0n;
          if (first !== stored) {
            consumer.seek(topic, part.partition, stored);
            continue;
          }
          for (const m of part.messages) seen.push(decoder.decode(m.key!));
          ledger.set(part.partition, part.nextOffset);
        }
      }
    };

    const a = await KafkaGroupConsumer.join(consumerOptions(topic, groupId, {
      onAssignment: positionFromLedger("a"),
    }));
    let b: KafkaGroupConsumer | undefined;
    try {
      await drain(a, 3);
      assertEquals(a.assignment().length, 4);
      assertEquals(keysOf(seen.map((k) => `::${k}`)), range(0, 200));

      b = await KafkaGroupConsumer.join(consumerOptions(topic, groupId, {
        onAssignment: positionFromLedger("b"),
      }));
      await produceKeys(topic, 200, 200);
      const deadline = Date.now() + 30_000;
      while (seen.length < 400 && Date.now() < deadline) {
        await Promise.all([drain(a, 1), drain(b, 1)]);
      }
      assertEquals(a.assignment().length + b.assignment().length, 4);
      assertEquals(a.assignment().length, 2);
      const bChanges = changes.filter((c) => c.member === "b");
      assertEquals(bChanges.at(-1)!.change.assigned, b.assignment());
      const aLast = changes.filter((c) => c.member === "a").at(-1)!.change;
      assertEquals(aLast.revoked, b.assignment());
      assertEquals(seen.slice().sort(), range(0, 400));
    } finally {
      await b?.close();
      await a.close();
    }
  },
});

Deno.test({
  name: "a consumer waits out a broker outage, reports it, and goes on from where it was",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("restart");
    const brokers = kafkaBrokers();
    await createTopic({ brokers, topic, partitions: 2 });
    await produceKeys(topic, 0, 100);
    const errors: string[] = [];
    const consumer = await KafkaGroupConsumer.join(consumerOptions(topic, uniqueTopic("g"), {
      onError: (e) => errors.push(e.message),
    }));
    try {
      const seen: string[] = [];
      await pollUntil(consumer, seen, () => seen.length >= 100);
      // Polls go on during the restart: they return nothing and report why.
      let polling = true;
      const during = (async () => {
        while (polling) {
          for (const part of await consumer.poll()) {
            for (const m of part.messages) {
              seen.push(`${m.partition}:${m.offset}:${decoder.decode(m.key!)}`);
            }
          }
        }
      })();
      // The broker stays down until a poll has reported it: a restart alone
      // can be quick enough for the client's own retry to hide it.
      await haltKafkaBroker();
      const reportBy = Date.now() + 60_000;
      while (errors.length === 0 && Date.now() < reportBy) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await restartKafkaBroker();
      await produceKeys(topic, 100, 100);
      const deadline = Date.now() + 60_000;
      while (seen.length < 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      polling = false;
      await during;
      assert(errors.length > 0, "the outage was reported");
      assertEquals(keysOf(seen), range(0, 200));
    } finally {
      await consumer.close();
    }
  },
});

Deno.test({
  name: "a position past the end of the log is an error naming topic, partition and offset",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("range");
    await createTopic({ brokers: kafkaBrokers(), topic, partitions: 1 });
    await produceKeys(topic, 0, 3);
    const consumer = await KafkaGroupConsumer.join(consumerOptions(topic, uniqueTopic("g"), {
      onAssignment: () => [{ topic, partition: 0, offset: 50n }],
    }));
    try {
      const error = await assertRejects(() => consumer.poll());
      assert(error instanceof KafkaOffsetOutOfRangeError);
      assertEquals(
        error.message,
        `Kafka topic ${topic} partition 0 has no offset 50: its log holds offsets 0 to 2`,
      );
      consumer.seek(topic, 0, 1n);
      const seen: string[] = [];
      await pollUntil(consumer, seen, () => seen.length >= 2);
      assertEquals(seen, ["0:1:k1", "0:2:k2"]);
    } finally {
      await consumer.close();
    }
  },
});

Deno.test({
  name: "the client refuses brokers that are not host:port, and a consumer without topics",
  async fn() {
    await assertRejects(
      () => KafkaGroupConsumer.join({ brokers: ["localhost"], groupId: "g", topics: ["t"] }),
      'Kafka broker "localhost" is not host:port',
    );
    await assertRejects(
      () => KafkaGroupConsumer.join({ brokers: ["127.0.0.1:9"], groupId: "g", topics: [] }),
      "at least one topic",
    );
  },
});
