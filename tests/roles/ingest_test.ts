import { createTable } from "../../src/ops/create.ts";
import { appendBatch, appendTarget } from "../../src/ops/append.ts";
import {
  lastAppVersion,
  openTable,
  schemaFromFields,
  snapshotOf,
  type Table,
  tableOfStore,
} from "../../src/ops/table.ts";
import { interceptStore } from "../../src/storage/intercept.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { BadMessageError, type IngestOptions, runIngest } from "../../src/roles/ingest.ts";
import { BrokerUnreachableError } from "../../src/roles/kafka_outage.ts";
import type { EventFields } from "../../src/roles/messages.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";
import { readWithNeuralake } from "../_helpers/delta_rs.ts";
import { FakeConsumer, FakeTopic } from "../_helpers/fake_consumer.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: false },
  { name: "name", type: "string", nullable: true },
];

async function newTable(): Promise<Table> {
  const dir = await Deno.makeTempDir({ prefix: "ingest-" });
  const table = await openTable(`${dir}/t`);
  await createTable(table, { schema: schemaFromFields(FIELDS) });
  return table;
}

function options(table: Table, extra: Partial<IngestOptions> = {}): IngestOptions {
  return {
    table,
    topic: "t",
    group: "g",
    batchRows: 1000,
    batchIntervalMs: 20,
    untilIdleMs: 60,
    signal: new AbortController().signal,
    id: "ingest-test",
    ...extra,
  };
}

async function ids(table: Table): Promise<number[]> {
  const { rows } = await readWithNeuralake(table);
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** Partition p's message at offset o carries id p * 1000 + o. */
function fill(topic: FakeTopic, partition: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const offset = topic.partitions[partition]!.length;
    topic.produce(partition, JSON.stringify({ id: partition * 1000 + offset }));
  }
}

Deno.test("ingest commits every message once: JSON objects, NDJSON, a txn per partition", async () => {
  const table = await newTable();
  const topic = new FakeTopic(2);
  topic.produce(0, `{"id": 1, "name": "a"}`);
  topic.produce(0, `{"id": 2}\n{"id": 3, "name": "c"}\n`);
  topic.produce(1, `{\n  "id": 4\n}`);
  const consumer = new FakeConsumer(topic, [0, 1]);
  const summary = await runIngest(consumer, options(table));
  assertEquals(await ids(table), [1, 2, 3, 4]);
  const snapshot = await snapshotOf(table);
  assertEquals([lastAppVersion(snapshot, "g:t:0"), lastAppVersion(snapshot, "g:t:1")], [1, 0]);
  assertEquals([...consumer.committed].sort(), [[0, 2n], [1, 1n]]);
  assertEquals([summary.messages, summary.rows, summary.stopped], [3, 4, "idle"]);
  assert(consumer.closed, "the consumer left the group");
});

Deno.test("a restarted ingest reads from the table's markers, whatever Kafka committed", async () => {
  const table = await newTable();
  const topic = new FakeTopic(2);
  fill(topic, 0, 5);
  fill(topic, 1, 3);
  await runIngest(new FakeConsumer(topic, [0, 1]), options(table));
  fill(topic, 0, 4);
  fill(topic, 1, 2);
  const again = new FakeConsumer(topic, [0, 1]);
  await runIngest(again, options(table));
  assertEquals(again.starts[0], new Map([[0, 5n], [1, 3n]]));
  assertEquals(await ids(table), [0, 1, 2, 3, 4, 5, 6, 7, 8, 1000, 1001, 1002, 1003, 1004]);
});

Deno.test("a batch whose partition another consumer committed meanwhile is dropped and read again", async () => {
  const table = await newTable();
  const topic = new FakeTopic(1);
  fill(topic, 0, 10);
  const consumer = new FakeConsumer(topic, [0], 3);
  let raced = false;
  consumer.beforeDelivery = async (positions) => {
    // After offsets 0..2 were delivered, another member commits up to 4 (a
    // rebalance). Like a real member it starts after the table's marker: on a
    // loaded machine this member may already have flushed 0..2, and a member
    // writing them again would be the test's doing, not ingest's.
    if (raced || positions.get(0) !== 3n) return;
    raced = true;
    const snapshot = await snapshotOf(table);
    const from = Number(lastAppVersion(snapshot, "g:t:0") ?? -1) + 1;
    const rows = Array.from(
      { length: 5 - from },
      (_, i) => ({ id: BigInt(from + i), name: "other" }),
    );
    const result = await appendBatch(appendTarget(table.store, FIELDS, []), batchOf(FIELDS, rows), {
      readVersion: snapshot.version,
      txn: { appId: "g:t:0", version: 4 },
      description: { operation: "STREAMING UPDATE" },
    });
    assertEquals(result.outcome.kind, "committed");
  };
  // The batch of 0..2 is usually still buffered when the other member
  // commits (its window is longer than the polls take); when it was flushed
  // first, the next batch (3..) is the one the other member makes stale.
  const summary = await runIngest(consumer, options(table, { batchIntervalMs: 1000 }));
  assert(raced, "the race was injected");
  assertEquals(await ids(table), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert(summary.staleBatches >= 1, `a stale batch was dropped: ${JSON.stringify(summary)}`);
  assertEquals(consumer.seeks, [[0, 5n]], "it read again after the table's marker");
});

Deno.test("bad messages go to the dead-letter table once, with their offsets; good ones all land", async () => {
  const table = await newTable();
  const dir = await Deno.makeTempDir({ prefix: "ingest-dlq-" });
  const deadLetter = await openTable(`${dir}/dlq`);
  const topic = new FakeTopic(1);
  topic.produce(0, `{"id": 0}`);
  topic.produce(0, `not json`);
  topic.produce(0, `{"id": 2}`);
  topic.produce(0, `{"id": "two"}`);
  topic.produce(0, `{"id": 4}\n{"id": 5, "name": "five"}`);
  topic.produce(0, `{"id": 6}\n{"idd": 7}`);
  const run = () => runIngest(new FakeConsumer(topic, [0]), options(table, { deadLetter }));
  const summary = await run();
  assertEquals(summary.deadLetters, 3);
  assertEquals(await ids(table), [0, 2, 4, 5]);
  const letters = async () =>
    (await readWithNeuralake(deadLetter)).rows.map((r) => [Number(r.offset), r.error]).sort();
  const first = await letters();
  assertEquals(first.map(([offset]) => offset), [1, 3, 5]);
  for (const [, error] of first) assert(typeof error === "string" && error.length > 0);
  assert(String(first[1]![1]).includes(`column "id"`), String(first[1]![1]));
  assert(String(first[2]![1]).includes("value:2"), String(first[2]![1]));
  // The table's marker is at 4 and the dead-letter table's at 5: a restart
  // reads offset 5 again but does not write its letter twice.
  await run();
  assertEquals(await letters(), first);
  assertEquals(await ids(table), [0, 2, 4, 5]);
  const { rows } = await readWithNeuralake(deadLetter, undefined, ["value", "topic", "partition"]);
  assertEquals(rows.find((r) => r.value !== null)?.topic, "t");
});

Deno.test("without a dead-letter table a bad message stops the ingest, naming where it is", async () => {
  const table = await newTable();
  const topic = new FakeTopic(2);
  topic.produce(1, `{"id": 1}`);
  topic.produce(1, `{"id": 2}`);
  topic.produce(1, `{"id": 3`);
  const consumer = new FakeConsumer(topic, [0, 1]);
  const error = await assertRejects(
    () => runIngest(consumer, options(table, { batchIntervalMs: 60_000 })),
    "Topic t, partition 1, offset 2:",
  );
  assert(error instanceof BadMessageError, String(error));
  assertEquals(await ids(table), [], "nothing of the batch was committed");
  assert(consumer.closed, "the consumer left the group");
});

/**
 * `raw`'s store, in which another member of group `g` commits offsets 0..4
 * of partition 0 (txn version 4) at the version the first commit put to the
 * store claims, right before that put.
 */
function raceFirstCommit(raw: Table) {
  let injected = false;
  const store = interceptStore(raw.store, async (op, key, run) => {
    if (
      !injected && (op === "claim" || op === "putIfAbsent") && /_delta_log\/\d{20}\.json$/.test(key)
    ) {
      injected = true;
      const version = Number(/(\d{20})\.json$/.exec(key)![1]);
      const rows = [0, 1, 2, 3, 4].map((id) => ({ id: BigInt(id), name: "other" }));
      const result = await appendBatch(appendTarget(raw.store, FIELDS, []), batchOf(FIELDS, rows), {
        readVersion: version - 1,
        txn: { appId: "g:t:0", version: 4 },
        description: { operation: "STREAMING UPDATE" },
      });
      assertEquals(result.outcome.kind === "committed" && result.outcome.version, version);
    }
    return await run();
  });
  return { store, injected: () => injected };
}

Deno.test("a commit that loses its version to another consumer's commit of its partition is dropped, not doubled", async () => {
  const raw = await newTable();
  const topic = new FakeTopic(1);
  fill(topic, 0, 10);
  // Right before the ingest claims its first version, another member of the
  // group commits offsets 0..4 of the partition at that very version.
  const race = raceFirstCommit(raw);
  const consumer = new FakeConsumer(topic, [0], 10);
  const summary = await runIngest(consumer, options(tableOfStore(race.store)));
  assert(race.injected(), "the race was injected");
  assertEquals(await ids(raw), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(summary.staleBatches, 1);
  assertEquals(consumer.seeks, [[0, 5n]]);
});

Deno.test("--until-idle reads a dropped batch again, even when it was flushed past the idle limit", async () => {
  const raw = await newTable();
  const topic = new FakeTopic(1);
  fill(topic, 0, 10);
  // Another member commits offsets 0..4 at the version the ingest claims; the
  // batch is flushed more than the idle limit after its last message (its
  // window here; a loaded machine's delay in the suite), so right after the
  // drop the partition looks quiet, yet its messages 5..9 are due again.
  const race = raceFirstCommit(raw);
  const consumer = new FakeConsumer(topic, [0], 10);
  const summary = await runIngest(
    consumer,
    options(tableOfStore(race.store), { untilIdleMs: 60, batchIntervalMs: 150 }),
  );
  assert(race.injected(), "the race was injected");
  assertEquals(summary.stopped, "idle");
  assertEquals(await ids(raw), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "5..9 were read again");
});

Deno.test("ingest labels its metrics events with role ingest and its own id", async () => {
  const table = await newTable();
  const topic = new FakeTopic(2);
  fill(topic, 0, 4);
  fill(topic, 1, 2);
  const events: EventFields[] = [];
  await runIngest(
    new FakeConsumer(topic, [0, 1]),
    options(table, { id: "ingest-rig-3", onEvent: (e) => events.push(e) }),
  );
  const committed = events.filter((e) => e.event === "batch_committed");
  assertEquals(committed.reduce((n, e) => n + (e.rows ?? 0), 0), 6);
  assertEquals([...new Set(events.map((e) => `${e.role}/${e.role_id}`))], ["ingest/ingest-rig-3"]);
});

Deno.test("--until-idle does not take polls that cannot reach Kafka for idleness", async () => {
  const table = await newTable();
  const topic = new FakeTopic(1);
  fill(topic, 0, 3);
  const consumer = new FakeConsumer(topic, [0]);
  let polls = 0;
  consumer.beforeDelivery = () => {
    // After the first messages, the broker goes away for 10 idle limits, then comes back.
    if (++polls === 2) {
      consumer.down = { since: Date.now(), error: "Connection refused" };
      setTimeout(() => {
        fill(topic, 0, 2);
        consumer.down = undefined;
      }, 600);
    }
  };
  const events: EventFields[] = [];
  const summary = await runIngest(
    consumer,
    options(table, { untilIdleMs: 60, onEvent: (e) => events.push(e) }),
  );
  assertEquals(summary.stopped, "idle");
  assertEquals(await ids(table), [0, 1, 2, 3, 4]);
  // The outage is in the metrics too, for /healthz: when it started and when it ended.
  const outage = events.filter((e) => e.event.startsWith("broker_"));
  assertEquals(outage.map((e) => [e.event, e.detail]), [
    ["broker_unreachable", "Connection refused"],
    ["broker_reachable", undefined],
  ]);
  assert(outage[1]!.total_ms! >= 500, JSON.stringify(outage));
});

Deno.test("a broker unreachable past the broker timeout stops ingest with an error, after committing what it read", async () => {
  const table = await newTable();
  const topic = new FakeTopic(1);
  fill(topic, 0, 3);
  const consumer = new FakeConsumer(topic, [0]);
  consumer.beforeDelivery = () => {
    // The rows are read, then the broker goes before their batch is due.
    consumer.beforeDelivery = () => {
      consumer.down = { since: Date.now(), error: "Connection refused" };
    };
  };
  const error = await assertRejects(
    () =>
      runIngest(
        consumer,
        options(table, { untilIdleMs: 60, batchIntervalMs: 10_000, brokerTimeoutMs: 300 }),
      ),
    "Kafka has been unreachable for",
  );
  assert(error instanceof BrokerUnreachableError, String(error));
  assert(error.message.includes("Connection refused"), error.message);
  assertEquals(await ids(table), [0, 1, 2]);
  assert(consumer.closed, "the consumer left the group");
});

Deno.test("--until-idle does not take time spent committing for quiet: every message the topic holds is read", async () => {
  // Commits slower than the idle limit: while the role commits it does not
  // poll, so the messages still in the topic were not heard; stopping then
  // left them behind.
  const raw = await newTable();
  const store = interceptStore(raw.store, async (op, key, run) => {
    if ((op === "claim" || op === "putIfAbsent") && /_delta_log\/\d{20}\.json$/.test(key)) {
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return await run();
  });
  const table = tableOfStore(store);
  const topic = new FakeTopic(2);
  fill(topic, 0, 20);
  fill(topic, 1, 20);
  const summary = await runIngest(
    new FakeConsumer(topic, [0, 1]),
    options(table, { batchRows: 5, batchIntervalMs: 10, untilIdleMs: 60 }),
  );
  assertEquals(summary.stopped, "idle");
  assertEquals(summary.rows, 40);
  assertEquals(await ids(table), [
    ...Array.from({ length: 20 }, (_, i) => i),
    ...Array.from({ length: 20 }, (_, i) => 1000 + i),
  ]);
});
