/**
 * Kafka ingest into a table Spark made with in-commit timestamps on (the
 * Spark fixture's columns are ingest's test columns): two partitions commit
 * batch after batch, each commit puts `commitInfo` first with an
 * `inCommitTimestamp` above the previous version's, and delta-rs reads the
 * same rows as neuralake, Spark's included.
 */

import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { runIngest } from "../../src/roles/ingest.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { FakeConsumer, FakeTopic } from "../_helpers/fake_consumer.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { assertIncreasingTimestamps, inCommitTimestampAt } from "../_helpers/ict.ts";

Deno.test("ingest into Spark's in-commit timestamp table puts increasing timestamps; delta-rs agrees", async () => {
  const dir = await copyFixture("spark_feature_in_commit_timestamp");
  try {
    const store = new LocalStore(dir);
    const table = await openTable(dir);
    const spark = await snapshotOf(table);
    const topic = new FakeTopic(2);
    for (let i = 0; i < 40; i++) {
      topic.produce(i % 2, JSON.stringify({ id: 100 + i, name: `n${i}` }));
    }
    const summary = await runIngest(new FakeConsumer(topic, [0, 1]), {
      table,
      topic: "t",
      group: "g",
      batchRows: 5,
      batchIntervalMs: 10,
      untilIdleMs: 60,
      signal: new AbortController().signal,
      id: "ingest-ict",
    });
    assertEquals(summary.rows, 40);
    const end = await snapshotOf(table);
    assert(end.version >= spark.version + 2, `ingest made ${end.version - spark.version} commits`);
    const sparkIct = await inCommitTimestampAt(store, spark.version);
    await assertIncreasingTimestamps(store, spark.version + 1, end.version, sparkIct);
    const ours = await readWithNeuralake(table);
    const theirs = await readWithDeltaRs(dir);
    assertEquals(theirs.version, end.version);
    assert(ours.rows.length > 40, `${ours.rows.length} rows`);
    assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
