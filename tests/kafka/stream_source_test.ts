/**
 * `neuralake stream --source kafka` against the real test broker: ingest
 * roles with compaction and vacuum, under process isolation with ingest
 * roles SIGKILLed and restarted, and under worker isolation stopping when
 * idle. What `neuralake produce` sent is compared with what delta-rs reads,
 * row key by row key: every produced message exactly once. Plus bad
 * messages set aside in a --dead-letter table, a broker that stays down past
 * --broker-timeout, and the errors of a missing flag and an unreachable
 * broker.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli, type CliResult } from "../_helpers/cli.ts";
import { readWithDeltaRs } from "../_helpers/delta_rs.ts";
import {
  haltKafkaBroker,
  KAFKA_IGNORE,
  kafkaBrokers,
  restartKafkaBroker,
  uniqueTopic,
} from "../_helpers/kafka.ts";
import { createTopic, endOffsets, KafkaProducer } from "../../src/sources/kafka.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { verifyKafkaRun } from "../../src/roles/verify_kafka.ts";

const ROWS_PER_MESSAGE = 64;

/** Runs `produce` of neural messages keyed producer-42:<seq>; returns how many were sent. */
async function produce(topic: string, extra: string[]): Promise<number> {
  const out = await cli([
    "produce",
    "--brokers",
    kafkaBrokers().join(","),
    "--topic",
    topic,
    "--rows-per-message",
    String(ROWS_PER_MESSAGE),
    "--neurons",
    "16",
    "--json",
    ...extra,
  ]);
  assertEquals(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).messages;
}

function stream(table: string, out: string, topic: string, extra: string[]): Promise<CliResult> {
  return cli([
    "stream",
    table,
    "--out",
    out,
    "--source",
    "kafka",
    "--brokers",
    kafkaBrokers().join(","),
    "--topic",
    topic,
    "--group",
    `${topic}-group`,
    "--writers",
    "2",
    "--batch-interval",
    "500ms",
    "--compaction-interval",
    "1s",
    "--min-files",
    "4",
    "--vacuum-interval",
    "2s",
    "--json",
    "--log-level",
    "warning",
    ...extra,
  ]);
}

/**
 * Asserts that delta-rs reads each of `messages` produced messages once:
 * batch_seq 0..n-1, each with its rows, no row key twice.
 */
async function assertEveryMessageOnce(table: string, messages: number) {
  const { rows } = await readWithDeltaRs(table, {
    columns: ["writer_id", "batch_seq", "neuron_id", "timestamp_us"],
  });
  const perMessage = new Map<number, number>();
  const keys = new Set<string>();
  for (const r of rows) {
    assertEquals(r.writer_id, "producer-42");
    const seq = Number(r.batch_seq);
    perMessage.set(seq, (perMessage.get(seq) ?? 0) + 1);
    keys.add(`${seq}:${r.neuron_id}:${r.timestamp_us}`);
  }
  assertEquals(keys.size, rows.length, "a row key appears twice");
  const seqs = [...perMessage.keys()].sort((a, b) => a - b);
  assertEquals(seqs, Array.from({ length: messages }, (_, i) => i));
  const partial = [...perMessage].filter(([, n]) => n !== ROWS_PER_MESSAGE);
  assertEquals(partial, [], "messages whose rows are not all in the table exactly once");
}

function checkNames(result: Record<string, unknown>): string[] {
  const v = result.verification as { checks: { name: string; passed: boolean }[] };
  return v.checks.map((c) => `${c.name}:${c.passed ? "pass" : "FAIL"}`);
}

Deno.test({
  name: "stream --source kafka: process isolation, ingest roles killed and restarted, " +
    "compaction and vacuum; every produced message is in the table once",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-src");
    await createTopic({ brokers: kafkaBrokers(), topic, partitions: 4 });
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-" });
    const table = `${dir}/t`;
    // Seed 4 plans kills at about 17%, 40%, 43% and 55% of the time left of
    // the 40 s run once every role is up (after an upload, a random moment,
    // after a commit, random); messages flow from 1 s to about 31 s. The
    // random kills always happen; an armed one waits for its role to upload
    // or commit.
    const running = stream(table, `${dir}/runs`, topic, [
      "--isolation",
      "process",
      "--chaos",
      "kill-ingest=4",
      "--seed",
      "4",
      "--duration",
      "40s",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const messages = await produce(topic, ["--rate", "2000", "--duration", "30s"]);
    const out = await running;
    assertEquals(out.code, 0, out.stderr.slice(-3000) + out.stdout);
    const result = JSON.parse(out.stdout);
    assert(result.verification.passed, checkNames(result).join(", "));
    assert(checkNames(result).includes("every_committed_message_once:pass"));
    assert(result.chaos.kills >= 2, `kills: ${result.chaos.kills}`);
    assert(result.totals.role_restarts >= 2, `restarts: ${result.totals.role_restarts}`);
    assert(result.compaction.runs >= 1, "compaction ran");
    assert(messages > 100, `messages produced: ${messages}`);
    await assertEveryMessageOnce(table, messages);
    // Rows committed by a role killed before it reported them count too.
    assertEquals(result.totals.rows_acknowledged, messages * ROWS_PER_MESSAGE);
    for (const name of ["report.html", "streaming_metrics.csv"]) {
      await Deno.stat(`${result.run_dir}/${name}`);
    }
    const summary = await Deno.readTextFile(`${result.run_dir}/summary_report.md`);
    assert(summary.includes("so they were checked against the topic"), summary);
    assert(summary.includes("| every_committed_message_once | pass |"), summary);
  },
});

Deno.test({
  name: "stream --source kafka --until-idle: worker isolation stops once the topic is consumed, " +
    "files in the stream's --codec",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-idle");
    const messages = await produce(topic, ["--partitions", "3", "--messages", "150"]);
    assertEquals(messages, 150);
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-idle-" });
    const table = `${dir}/t`;
    const out = await stream(table, `${dir}/runs`, topic, [
      "--isolation",
      "worker",
      "--duration",
      "0",
      "--until-idle",
      "3s",
      "--codec",
      "snappy",
    ]);
    assertEquals(out.code, 0, out.stderr.slice(-3000) + out.stdout);
    const result = JSON.parse(out.stdout);
    assert(result.verification.passed, checkNames(result).join(", "));
    assertEquals(result.totals.rows_acknowledged, 150 * ROWS_PER_MESSAGE);
    const ranges = result.verification.checks.find((c: { name: string }) =>
      c.name === "kafka_committed_ranges_read_back"
    );
    assert(ranges.detail.includes("every message the topic held at the end was ingested"), ranges);
    await assertEveryMessageOnce(table, messages);

    // The verification fails a table where some messages are in twice: a
    // copy of one data file, added again.
    const snapshot = await snapshotOf(await openTable(table));
    // The ingest roles write with the stream's --codec.
    for (const path of snapshot.files.keys()) assert(path.endsWith(".snappy.parquet"), path);
    const [path, add] = [...snapshot.files][0]!;
    await Deno.copyFile(`${table}/${path}`, `${table}/copy-${path}`);
    const again = { ...add, path: `copy-${path}`, modificationTime: Date.now() };
    await Deno.writeTextFile(
      `${table}/_delta_log/${String(Number(snapshot.version) + 1).padStart(20, "0")}.json`,
      JSON.stringify({ add: again }) + "\n",
    );
    const doubled = await verifyKafkaRun(await openTable(table), {
      brokers: kafkaBrokers(),
      topic,
      group: `${topic}-group`,
      runId: "doubled",
    });
    const failed = doubled.checks.filter((c) => !c.passed).map((c) => c.name);
    assertEquals(failed, ["every_committed_message_once", "rows_equal_committed_offset_ranges"]);
  },
});

Deno.test({
  name: "stream --source kafka on SIGINT commits what the ingest roles hold, then verifies",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-sigint");
    const messages = await produce(topic, ["--partitions", "2", "--messages", "60"]);
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-sigint-" });
    const table = `${dir}/t`;
    // Batches that only a stop can cut: everything is in the roles' buffers.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../../main.ts", import.meta.url).pathname,
        "stream",
        table,
        "--out",
        `${dir}/runs`,
        "--source",
        "kafka",
        "--brokers",
        kafkaBrokers().join(","),
        "--topic",
        topic,
        "--group",
        `${topic}-group`,
        "--writers",
        "1",
        "--duration",
        "0",
        "--batch-interval",
        "5m",
        "--batch-rows",
        "1000000",
        "--json",
        "--log-level",
        "info",
      ],
      stdout: "piped",
      stderr: "piped",
      // Workers log their partition assignment at debug only.
      env: { NEURALAKE_LOG_LEVEL: "debug" },
    }).spawn();
    const stdout = new Response(child.stdout).text();
    // Once the role was assigned its partitions it reads them in well under 5 s.
    let log = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + 40_000;
    while (!log.includes("Assigned partitions") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
    }
    const draining = (async () => {
      for (;;) if ((await reader.read()).done) break;
    })();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const before = [...Deno.readDirSync(`${table}/_delta_log`)].filter((e) =>
      e.name.endsWith(".json")
    );
    assertEquals(before.length, 1, "nothing is committed before the stop");
    child.kill("SIGINT");
    const status = await child.status;
    await draining;
    const text = await stdout;
    assertEquals(status.code, 0, log.slice(-3000) + text);
    const result = JSON.parse(text);
    assert(result.verification.passed, checkNames(result).join(", "));
    await assertEveryMessageOnce(table, messages);
  },
});

Deno.test("stream --source kafka names a missing flag and an unreachable broker, without a stack", async () => {
  const noTopic = await cli(
    ["stream", "--source", "kafka", "--brokers", "127.0.0.1:1", "--group", "g"],
    { env: { NEURALAKE_KAFKA_BROKERS: "" } },
  );
  assertEquals(noTopic.code, 2, noTopic.stderr);
  assert(noTopic.stderr.includes("missing --topic"), noTopic.stderr);
  const noBrokers = await cli(
    ["stream", "--source", "kafka", "--topic", "t", "--group", "g"],
    { env: { NEURALAKE_KAFKA_BROKERS: "" } },
  );
  assertEquals(noBrokers.code, 2, noBrokers.stderr);
  assert(noBrokers.stderr.includes("missing --brokers"), noBrokers.stderr);
  const unreachable = await cli(
    ["stream", "--source", "kafka", "--brokers", "127.0.0.1:1", "--topic", "t", "--group", "g"],
  );
  assertEquals(unreachable.code, 1, unreachable.stderr);
  assert(
    unreachable.stderr.includes("Cannot reach Kafka at 127.0.0.1:1 (--brokers)"),
    unreachable.stderr,
  );
  assert(!/\n\s+at /.test(unreachable.stderr), unreachable.stderr);
});

Deno.test({
  name: "stream --source kafka without --dead-letter: a bad message halts the run, naming its " +
    "partition and offset, instead of restarting its role on it forever",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-halt");
    const good = await produce(topic, ["--partitions", "1", "--messages", "10"]);
    const [badOffset] = await endOffsets({ brokers: kafkaBrokers() }, topic);
    const producer = new KafkaProducer({ brokers: kafkaBrokers() });
    try {
      await producer.send([{ topic, key: "bad", value: "not json at all", partition: 0 }]);
    } finally {
      await producer.close();
    }
    await produce(topic, ["--messages", "10", "--first-sequence", "10"]);
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-halt-" });
    const table = `${dir}/t`;
    const out = await stream(table, `${dir}/runs`, topic, [
      "--isolation",
      "worker",
      "--duration",
      "45s",
      "--until-idle",
      "5s",
    ]);
    assertEquals(out.code, 1, out.stderr.slice(-3000) + out.stdout);
    const result = JSON.parse(out.stdout);
    const fit = result.verification.checks.find((c: { name: string }) =>
      c.name === "kafka_messages_fit"
    );
    assert(fit && !fit.passed, checkNames(result).join(", "));
    assert(fit.detail.includes(`partition 0, offset ${badOffset}`), fit.detail);
    assert(fit.detail.includes("--dead-letter"), fit.detail);
    assertEquals(result.totals.role_restarts, 0);
    // The run ended at the bad message, not at --duration.
    assert(result.wall_seconds < 40, `the run lasted ${result.wall_seconds} s`);
    // What was committed is a whole prefix of the messages before the bad
    // one, each once: its batch was not committed, nothing after it was.
    const { rows } = await readWithDeltaRs(table, {
      columns: ["batch_seq", "neuron_id", "timestamp_us"],
    });
    const perMessage = new Map<number, number>();
    for (const r of rows) {
      const seq = Number(r.batch_seq);
      perMessage.set(seq, (perMessage.get(seq) ?? 0) + 1);
    }
    const seqs = [...perMessage.keys()].sort((a, b) => a - b);
    assert(seqs.length <= good, `messages after the bad one were committed: ${seqs}`);
    assertEquals(seqs, Array.from({ length: seqs.length }, (_, i) => i));
    for (const [seq, n] of perMessage) assertEquals(n, ROWS_PER_MESSAGE, `message ${seq}`);
  },
});

Deno.test({
  name: "stream --source kafka --dead-letter: bad messages go to the dead-letter table with " +
    "their offsets, the good ones around them into the table, and the run verifies",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-dead");
    const first = await produce(topic, ["--partitions", "2", "--messages", "20"]);
    // Bad messages among the good ones: two on partition 0, one on partition 1.
    const ends = await endOffsets({ brokers: kafkaBrokers() }, topic);
    const producer = new KafkaProducer({ brokers: kafkaBrokers() });
    try {
      await producer.send([
        { topic, key: "bad-a", value: "not json at all", partition: 0 },
        { topic, key: "bad-b", value: `{"session_id": "s", "writer_id":`, partition: 0 },
        { topic, key: "bad-c", value: "plain text too", partition: 1 },
      ]);
    } finally {
      await producer.close();
    }
    const expectedBad = [
      [0, Number(ends[0])],
      [0, Number(ends[0]) + 1],
      [1, Number(ends[1])],
    ];
    const second = await produce(topic, ["--messages", "20", "--first-sequence", "20"]);
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-dead-" });
    const table = `${dir}/t`;
    const deadLetter = `${dir}/dead`;
    const out = await stream(table, `${dir}/runs`, topic, [
      "--isolation",
      "worker",
      "--duration",
      "0",
      "--until-idle",
      "3s",
      "--dead-letter",
      deadLetter,
    ]);
    assertEquals(out.code, 0, out.stderr.slice(-3000) + out.stdout);
    const result = JSON.parse(out.stdout);
    assert(result.verification.passed, checkNames(result).join(", "));
    const ranges = result.verification.checks.find((c: { name: string }) =>
      c.name === "kafka_committed_ranges_read_back"
    );
    assert(ranges.detail.includes("3 bad messages are in the dead-letter table"), ranges.detail);
    assertEquals(result.totals.role_restarts, 0);
    await assertEveryMessageOnce(table, first + second);
    const letters = await readWithDeltaRs(deadLetter, {
      columns: ["topic", "partition", "offset", "error"],
    });
    const found = letters.rows.map((r) => [Number(r.partition), Number(r.offset)])
      .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    assertEquals(found, expectedBad);
    for (const r of letters.rows) {
      assertEquals(r.topic, topic);
      assert(typeof r.error === "string" && r.error.length > 0, JSON.stringify(r));
    }
  },
});

Deno.test({
  name: "stream --source kafka --until-idle exits 1 naming --broker-timeout once the broker " +
    "stays down that long, with what was read committed",
  ignore: KAFKA_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = uniqueTopic("stream-gone");
    const messages = await produce(topic, ["--partitions", "2", "--messages", "20"]);
    const dir = await Deno.makeTempDir({ prefix: "stream-kafka-gone-" });
    const table = `${dir}/t`;
    // Idle only after far longer than the broker timeout: only the timeout can end it.
    const running = stream(table, `${dir}/runs`, topic, [
      "--isolation",
      "worker",
      "--duration",
      "0",
      "--until-idle",
      "5m",
      "--broker-timeout",
      "5s",
      "--batch-interval",
      "200ms",
    ]);
    // Until each partition's marker in the table is its last offset: all was read.
    const ends = await endOffsets({ brokers: kafkaBrokers() }, topic);
    const allIn = async () => {
      try {
        const { txns } = await snapshotOf(await openTable(table));
        return ends.every((end, p) =>
          Number(txns.get(`${topic}-group:${topic}:${p}`)?.version ?? -1) === Number(end) - 1
        );
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 30_000;
    while (!(await allIn()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await haltKafkaBroker();
    let out: CliResult;
    try {
      out = await running;
    } finally {
      await restartKafkaBroker();
    }
    assertEquals(out.code, 1, out.stderr.slice(-3000) + out.stdout);
    assert(out.stderr.includes("past --broker-timeout 5 s"), out.stderr.slice(-3000));
    const result = JSON.parse(out.stdout);
    assertEquals(checkNames(result), ["kafka_broker_reachable:FAIL"]);
    assert(!result.clean);
    // Outages are reported throttled, not once per client error.
    assert(!out.stderr.includes("; waiting for Kafka"), out.stderr.slice(-3000));
    await assertEveryMessageOnce(table, messages);
  },
});
