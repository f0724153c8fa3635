/**
 * The verification of a Kafka-sourced table against its topic, on the test
 * broker: it passes a table that holds every message once, names a
 * duplicated and a lost message, reports its progress, fails (never passes)
 * a read-back that cannot finish, and names without judging the rows of
 * offsets the topic's retention deleted.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { KAFKA_IGNORE, kafkaBrokers, uniqueTopic } from "../_helpers/kafka.ts";
import { produceNeural } from "../../src/roles/producer.ts";
import { partitionAppId } from "../../src/roles/kafka_offsets.ts";
import { type ReadBackProgress, verifyKafkaRun } from "../../src/roles/verify_kafka.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { Admin } from "@platformatic/kafka";

const MESSAGES = 300;

/** Appends one commit of `actions` to a local table's log. */
async function commitRaw(table: string, actions: object[]): Promise<void> {
  const version = (await snapshotOf(await openTable(table))).version + 1;
  await Deno.writeTextFile(
    `${table}/_delta_log/${String(version).padStart(20, "0")}.json`,
    actions.map((a) => JSON.stringify(a)).join("\n") + "\n",
  );
}

function failed(v: { checks: { name: string; passed: boolean }[] }): string[] {
  return v.checks.filter((c) => !c.passed).map((c) => c.name);
}

function detail(v: { checks: { name: string; detail: string }[] }, name: string): string {
  return v.checks.find((c) => c.name === name)?.detail ?? `no check ${name}`;
}

Deno.test({
  name: "verifyKafkaRun() names a duplicated and a lost message, and fails a read-back that stalls",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic("verify");
    const group = `${topic}-group`;
    await produceNeural({
      brokers,
      topic,
      partitions: 3,
      messages: MESSAGES,
      rowsPerMessage: 32,
      neurons: 16,
    });
    const dir = await Deno.makeTempDir({ prefix: "verify-kafka-" });
    const table = `${dir}/t`;
    const ingest = (into: string, group: string) =>
      cli([
        "ingest",
        into,
        "--brokers",
        brokers.join(","),
        "--topic",
        topic,
        "--group",
        group,
        "--batch-rows",
        "2000",
        "--until-idle",
        "2s",
        "--json",
        "--log-level",
        "warning",
      ]);
    // A second table of the same messages, for the topic's retention at the end.
    const kept = `${dir}/kept`;
    for (const out of await Promise.all([ingest(table, group), ingest(kept, `${group}-kept`)])) {
      assertEquals(out.code, 0, out.stderr);
    }
    const source = { brokers, topic, group, runId: "check" };

    const progress: ReadBackProgress[] = [];
    const clean = await verifyKafkaRun(await openTable(table), {
      ...source,
      progressEveryMs: 0,
      onProgress: (p) => progress.push(p),
    });
    assert(clean.passed, JSON.stringify(clean.checks));
    assert(
      detail(clean, "every_committed_message_once").startsWith(`${MESSAGES} messages`),
      detail(clean, "every_committed_message_once"),
    );
    const read = progress.filter((p) => p.phase === "topic");
    assertEquals(read.at(-1)?.done, MESSAGES);
    assertEquals(read.at(-1)?.total, MESSAGES);
    assert(progress.some((p) => p.phase === "table"), "no progress while reading the table");

    // One data file committed again under another name: its messages twice.
    const snapshot = await snapshotOf(await openTable(table));
    const [path, add] = [...snapshot.files][0]!;
    await Deno.copyFile(`${table}/${path}`, `${table}/copy-${path}`);
    await commitRaw(table, [{
      add: { ...add, path: `copy-${path}`, modificationTime: Date.now() },
    }]);
    const doubled = await verifyKafkaRun(await openTable(table), source);
    assertEquals(failed(doubled), [
      "every_committed_message_once",
      "rows_equal_committed_offset_ranges",
    ]);
    assert(
      /duplicated or partial: producer-42 batch \d+ \(session kafka-42\) in more than one file/
        .test(detail(doubled, "every_committed_message_once")),
      detail(doubled, "every_committed_message_once"),
    );

    // Both copies removed: those messages are lost, and named.
    const removed = (p: string) => ({
      remove: { path: p, deletionTimestamp: Date.now(), dataChange: true },
    });
    await commitRaw(table, [removed(path), removed(`copy-${path}`)]);
    const lost = await verifyKafkaRun(await openTable(table), source);
    assertEquals(failed(lost), [
      "every_committed_message_once",
      "rows_equal_committed_offset_ranges",
    ]);
    assert(
      /^missing: producer-42 \(session kafka-42\) batch \d+/.test(
        detail(lost, "every_committed_message_once"),
      ),
      detail(lost, "every_committed_message_once"),
    );

    // A marker past the end of its partition: the read-back cannot finish.
    await commitRaw(table, [{
      txn: { appId: partitionAppId(group, topic, 0), version: 1_000_000 },
    }]);
    const stalled = await verifyKafkaRun(await openTable(table), { ...source, stallMs: 1500 });
    assertEquals(stalled.passed, false);
    assertEquals(failed(stalled), ["kafka_read_back"]);
    assert(
      /no message of the committed ranges came for \d+ s after \d+ of [\d,]+ messages: partition 0 at offset \d+ of 1000000/
        .test(detail(stalled, "kafka_read_back")),
      detail(stalled, "kafka_read_back"),
    );

    // Retention deleted the first 10 offsets of partition 1: the table's
    // rows of them are named, not judged, and the rest still is.
    const admin = new Admin({ clientId: "verify-test", bootstrapBrokers: brokers });
    try {
      await admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 1, offset: 10n }] }],
      });
    } finally {
      await admin.close();
    }
    const trimmed = await verifyKafkaRun(await openTable(kept), {
      ...source,
      group: `${group}-kept`,
    });
    assert(trimmed.passed, JSON.stringify(trimmed.checks));
    assert(
      detail(trimmed, "kafka_committed_ranges_read_back").includes(
        "partition 1: offsets 10..",
      ) && detail(trimmed, "kafka_committed_ranges_read_back").includes(
        "offsets before 10 no longer in the log, not judged",
      ),
      detail(trimmed, "kafka_committed_ranges_read_back"),
    );
    assert(
      detail(trimmed, "no_rows_beyond_markers").startsWith(
        "not judged: 10 offsets up to the markers are no longer in",
      ),
      detail(trimmed, "no_rows_beyond_markers"),
    );
  },
});
