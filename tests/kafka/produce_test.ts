/**
 * `neuralake produce` against the real test broker: what it sends is read
 * back and compared message by message (keys, and the identity columns of
 * the rows), in each value format.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { KAFKA_IGNORE, kafkaBrokers, uniqueTopic } from "../_helpers/kafka.ts";
import { parseProduceArgs } from "../../src/cli/produce.ts";
import { produceNeural } from "../../src/roles/producer.ts";
import {
  endOffsets,
  KafkaGroupConsumer,
  type KafkaMessage,
  partitionCount,
} from "../../src/sources/kafka.ts";
import { decodeNeuralMessage } from "../../src/sources/neural_message.ts";

const decoder = new TextDecoder();

/** Every message of a topic, read from the start until `count` arrived. */
async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = await KafkaGroupConsumer.join({
    brokers: kafkaBrokers(),
    groupId: uniqueTopic("read"),
    topics: [topic],
    maxWaitMs: 200,
  });
  const out: KafkaMessage[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (out.length < count && Date.now() < deadline) {
      for (const part of await consumer.poll()) out.push(...part.messages);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

const keyOf = (m: KafkaMessage) => decoder.decode(m.key!);
const bySequence = (a: KafkaMessage, b: KafkaMessage) =>
  Number(keyOf(a).split(":")[1]) - Number(keyOf(b).split(":")[1]);

Deno.test({
  name: "produce --format neural: keys writer:0 to writer:n-1, each value the rows of its sequence",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("produce-neural");
    const summary = await produceNeural({
      brokers: kafkaBrokers(),
      topic,
      messages: 30,
      rowsPerMessage: 100,
      partitions: 3,
      neurons: 64,
      writerId: "rig-a",
      seed: 5,
    });
    assertEquals(
      {
        messages: summary.messages,
        rows: summary.rows,
        partitions: summary.partitions,
        created: summary.created,
      },
      { messages: 30, rows: 3000, partitions: 3, created: true },
    );
    assertEquals([summary.firstKey, summary.lastKey], ["rig-a:0", "rig-a:29"]);
    assertEquals(await partitionCount({ brokers: kafkaBrokers() }, topic), 3);

    const messages = (await readAll(topic, 30)).sort(bySequence);
    assertEquals(messages.map(keyOf), Array.from({ length: 30 }, (_, i) => `rig-a:${i}`));
    assert(new Set(messages.map((m) => m.partition)).size > 1, "keys spread over partitions");
    let bytes = 0;
    for (const [i, m] of messages.entries()) {
      bytes += m.value!.length;
      const batch = decodeNeuralMessage(m.value!);
      assert(!("error" in batch), "error" in batch ? batch.error : "");
      assertEquals(batch.length, 100);
      assertEquals(new Set(batch.columns[2]!.values as string[]), new Set(["rig-a"]));
      assertEquals(new Set(batch.columns[3]!.values as BigInt64Array), new Set([BigInt(i)]));
      // Rows follow each other: neuron ids run on across messages.
      assertEquals((batch.columns[5]!.values as Int32Array)[0], (i * 100) % 64);
    }
    assertEquals(bytes, summary.bytes);
  },
});

Deno.test({
  name: "produce --format json and ndjson: one object per message, or rows-per-message lines",
  ignore: KAFKA_IGNORE,
  async fn() {
    for (const [format, rows] of [["json", 1], ["ndjson", 7]] as const) {
      const topic = uniqueTopic(`produce-${format}`);
      const summary = await produceNeural({
        brokers: kafkaBrokers(),
        topic,
        format,
        messages: 12,
        rowsPerMessage: rows,
        writerId: "rig-b",
      });
      assertEquals(summary.rows, 12 * rows);
      const messages = (await readAll(topic, 12)).sort(bySequence);
      assertEquals(messages.length, 12);
      for (const [i, m] of messages.entries()) {
        assertEquals(keyOf(m), `rig-b:${i}`);
        const lines = decoder.decode(m.value!).split("\n").map((l) => JSON.parse(l));
        assertEquals(lines.length, rows);
        for (const row of lines) {
          assertEquals([row.writer_id, row.batch_seq, typeof row.timestamp_us], [
            "rig-b",
            i,
            "string",
          ]);
        }
      }
    }
  },
});

Deno.test({
  name:
    "produce keeps to --rate: never more rows than the rate allows by the end, plus one request",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("produce-rate");
    const summary = await produceNeural({
      brokers: kafkaBrokers(),
      topic,
      rate: 5_000,
      durationMs: 1_500,
      rowsPerMessage: 100,
      messagesPerSend: 10,
    });
    assert(summary.rows > 0);
    assert(summary.rows <= 5_000 * 1.5 + 1_000, `${summary.rows} rows in 1.5 s at 5000 rows/s`);
    const ends = await endOffsets({ brokers: kafkaBrokers() }, topic);
    assertEquals(ends.reduce((a, b) => a + b, 0n), BigInt(summary.messages));
  },
});

Deno.test({
  name:
    "produce --json prints a summary with the key range, and --first-sequence goes on from there",
  ignore: KAFKA_IGNORE,
  async fn() {
    const topic = uniqueTopic("produce-cli");
    const run = (extra: string[]) =>
      cli([
        "produce",
        "--brokers",
        kafkaBrokers().join(","),
        "--topic",
        topic,
        "--messages",
        "4",
        "--json",
        ...extra,
      ]);
    const first = await run(["--partitions", "2", "--rows-per-message", "10"]);
    assertEquals(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout);
    assertEquals(
      [
        summary.messages,
        summary.rows,
        summary.partitions,
        summary.created,
        summary.first_key,
        summary.last_key,
      ],
      [4, 40, 2, true, "producer-42:0", "producer-42:3"],
    );
    const second = await run(["--first-sequence", "4", "--rows-per-message", "10"]);
    assertEquals(second.code, 0, second.stderr);
    const again = JSON.parse(second.stdout);
    assertEquals([again.created, again.first_key, again.last_key], [
      false,
      "producer-42:4",
      "producer-42:7",
    ]);
    const keys = (await readAll(topic, 8)).map(keyOf).sort();
    assertEquals(keys, Array.from({ length: 8 }, (_, i) => `producer-42:${i}`).sort());
  },
});

Deno.test("produce arguments: brokers from the environment, and clear refusals", async () => {
  const env = { NEURALAKE_KAFKA_BROKERS: "127.0.0.1:9092" };
  const args = parseProduceArgs(["--topic", "t", "--format", "ndjson", "--rate", "1_000"], env);
  assertEquals([args.brokers, args.format, args.rate, args.rowsPerMessage], [
    ["127.0.0.1:9092"],
    "ndjson",
    1000,
    undefined,
  ]);
  const refusals: [string[], string][] = [
    [["--topic", "t"], "Missing --brokers"],
    [["--brokers", "b:1"], "Missing --topic"],
    [["--brokers", "kafka", "--topic", "t"], '--brokers: "kafka" is not host:port'],
    [
      ["--brokers", "b:1", "--topic", "t", "--format", "avro"],
      "--format must be neural, json or ndjson",
    ],
    [
      ["--brokers", "b:1", "--topic", "t", "--format", "json", "--rows-per-message", "5"],
      "use ndjson",
    ],
    [["--brokers", "b:1", "--topic", "t", "--rate", "fast"], "--rate must be a number"],
    [
      ["--brokers", "b:1", "--topic", "t", "--writer-id", "a:b"],
      '--writer-id must be non-empty and without ":"',
    ],
  ];
  for (const [argv, message] of refusals) assertThrows(() => parseProduceArgs(argv, {}), message);
  // A broker nobody listens on fails the run with the broker named.
  await assertRejects(
    () => produceNeural({ brokers: ["127.0.0.1:9"], topic: "t", messages: 1 }),
    "127.0.0.1:9",
  );
});

Deno.test({
  name:
    "produce --rate spreads its messages over the run: a send holds a tenth of a second of rows",
  ignore: KAFKA_IGNORE,
  async fn() {
    const sends: number[] = [];
    let before = 0;
    const summary = await produceNeural({
      brokers: kafkaBrokers(),
      topic: uniqueTopic("produce-paced"),
      rowsPerMessage: 64,
      neurons: 16,
      rate: 6_400,
      durationMs: 1_000,
      onProgress: (p) => {
        sends.push(p.messages - before);
        before = p.messages;
      },
    });
    // 6,400 rows/s of 64-row messages: 10 messages a tenth of a second.
    assert(summary.messages > 0 && sends.length >= 2, JSON.stringify(sends));
    for (const n of sends) assert(n <= 10, `a send of ${n} messages: ${JSON.stringify(sends)}`);
  },
});
