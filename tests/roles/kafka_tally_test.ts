/**
 * The Kafka verification's tallies find a lost, a duplicated and a partial
 * message, name them, and keep memory that does not grow with the messages.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { compareMessages, TableMessages, TopicMessages } from "../../src/roles/kafka_tally.ts";

const ROWS = 64;

/**
 * A topic of `n` messages of producer-1 in session s, 64 rows each, spread
 * over 4 partitions and read back as a consumer fetches them: `fetch`
 * messages of each partition in turn, so sequences come out of order.
 * `peak` is the most ranges held after any fetch.
 */
function topicOf(n: number, fetch = 500): TopicMessages & { peak: number } {
  const topic = Object.assign(new TopicMessages(), { peak: 0 });
  const next = [0, 1, 2, 3];
  while (next.some((seq) => seq < n)) {
    for (let p = 0; p < 4; p++) {
      for (let i = 0; i < fetch && next[p]! < n; i++, next[p]! += 4) {
        topic.add("s", "producer-1", next[p]!, ROWS);
      }
      topic.peak = Math.max(topic.peak, topic.rangeCount);
    }
  }
  return topic;
}

/** The table's runs: one file per `perFile` messages, in order, each message whole. */
function tableOf(topic: TopicMessages, seqs: number[], perFile = 100, partitioned = false) {
  const table = new TableMessages(topic, { partitioned });
  seqs.forEach((seq, i) =>
    table.addRun(`f${Math.floor(i / perFile)}`, "s", "producer-1", seq, ROWS)
  );
  return table;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("compareMessages() passes a table holding every message once, in any file layout", () => {
  const topic = topicOf(1000);
  const result = compareMessages(topic, tableOf(topic, range(1000).reverse(), 37));
  assertEquals(
    [result.missing.count, result.wrong.count, result.beyond.count, result.messages],
    [0, 0, 0, 1000],
  );
});

Deno.test("compareMessages() names a lost message by its sequence", () => {
  const topic = topicOf(1000);
  const seqs = range(1000).filter((s) => s !== 457 && s !== 458 && s !== 900);
  const result = compareMessages(topic, tableOf(topic, seqs));
  assertEquals(result.missing.count, 3);
  assertEquals(`${result.missing}`, "producer-1 (session s) batch 457..458, 900");
  assertEquals(result.wrong.count, 0);
});

Deno.test("compareMessages() names a message in two files, and one twice in a file", () => {
  const topic = topicOf(300);
  const inTwoFiles = compareMessages(topic, tableOf(topic, [...range(300), 5]));
  assertEquals(`${inTwoFiles.wrong}`, "producer-1 batch 5 (session s) in more than one file");
  assertEquals(inTwoFiles.missing.count, 0);
  const twiceInFile = compareMessages(topic, tableOf(topic, [...range(300), 299 - 5], 1000));
  assertEquals(`${twiceInFile.wrong}`, "producer-1 batch 294 (session s) twice in one file");
});

Deno.test("compareMessages() finds a lost and a doubled message whose rows add up to the topic's", () => {
  const topic = topicOf(200);
  // Partitioned: a message may span files, so only the digest can tell.
  const seqs = range(200).map((s) => s === 10 ? 11 : s);
  const result = compareMessages(topic, tableOf(topic, seqs, 1, true));
  assertEquals(`${result.missing}`, "producer-1 (session s) batch 10");
  const table = new TableMessages(topic, { partitioned: true });
  for (const seq of range(200)) {
    // Message 7 lost 3 rows and message 8 has them twice: same total.
    const rows = seq === 7 ? ROWS - 3 : seq === 8 ? ROWS + 3 : ROWS;
    table.addRun(`f${seq}`, "s", "producer-1", seq, rows);
  }
  assertEquals(table.rows, topic.rows);
  const partial = compareMessages(topic, table);
  assertEquals(partial.missing.count, 0);
  assertEquals(partial.wrong.count, 1);
  assert(`${partial.wrong}`.startsWith("producer-1 (session s): the rows of its messages differ"));
});

Deno.test("compareMessages() names rows past the topic's messages, and leaves other sessions alone", () => {
  const topic = topicOf(100);
  const table = tableOf(topic, range(102));
  table.addRun("g", "other-session", "producer-1", 5000, 10);
  const result = compareMessages(topic, table);
  assertEquals(`${result.beyond}`, "producer-1 (session s) batch 100..101 (128 rows)");
  assertEquals([result.missing.count, result.wrong.count], [0, 0]);
  assertEquals(table.otherRows, 10);
});

Deno.test("TableMessages: a message continued in the next row group is one message", () => {
  const topic = topicOf(10);
  const table = new TableMessages(topic, { partitioned: false });
  for (const seq of range(10)) {
    table.addRun("f", "s", "producer-1", seq, 40);
    table.addRun("f", "s", "producer-1", seq, ROWS - 40);
  }
  const result = compareMessages(topic, table);
  assertEquals([result.missing.count, result.wrong.count, result.beyond.count], [0, 0, 0]);
});

Deno.test("a message sent twice to the topic is expected twice in the table", () => {
  const topic = topicOf(50);
  topic.add("s", "producer-1", 20, ROWS); // the producer sent message 20 again
  const twice = compareMessages(topic, tableOf(topic, [...range(50), 20], 10));
  assertEquals([twice.missing.count, twice.wrong.count], [0, 0]);
  const once = compareMessages(topic, tableOf(topic, range(50), 10));
  assertEquals(once.wrong.count, 1, "the second copy's rows are missing");
});

Deno.test("the tallies of a million messages hold what a thousand hold", () => {
  const topic = topicOf(1_000_000);
  assertEquals(topic.rangeCount, 1);
  // While reading, at most a fetch's worth of messages lies apart.
  assert(topic.peak <= 500, `${topic.peak} ranges held while reading`);
  assertEquals(topicOf(10_000).peak, topic.peak);
  const seqs = range(1_000_000);
  seqs[500_000] = 500_007; // 500,000 lost, 500,007 twice in its file
  const table = tableOf(topic, seqs, 10_000);
  const result = compareMessages(topic, table);
  assertEquals(`${result.missing}`, "producer-1 (session s) batch 500000");
  assertEquals(`${result.wrong}`, "producer-1 batch 500007 (session s) twice in one file");
});
