/**
 * `neuralake ingest` against the real test broker: exactly once through
 * SIGKILLs and rebalances, scale-out, dead letters and a broker restart.
 * Every check reads the table with delta-rs and compares message keys (ids),
 * not counts: a duplicate or a loss shows as an id.
 */

import { createTable } from "../../src/ops/create.ts";
import { openTable, schemaFromFields } from "../../src/ops/table.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { createTopic, KafkaProducer, type OutgoingMessage } from "../../src/sources/kafka.ts";
import { NeuralGenerator } from "../../src/sources/neural.ts";
import { encodeNeuralMessage } from "../../src/sources/neural_message.ts";
import { sleep } from "../../src/util/backoff.ts";
import { Admin } from "@platformatic/kafka";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { freePort } from "../_helpers/cli.ts";
import { readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import {
  haltKafkaBroker,
  KAFKA_IGNORE,
  kafkaBrokers,
  restartKafkaBroker,
  uniqueTopic,
} from "../_helpers/kafka.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: false },
  { name: "name", type: "string", nullable: true },
];

async function newTable(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kafka-ingest-" });
  await createTable(await openTable(`${dir}/t`), { schema: schemaFromFields(FIELDS) });
  return `${dir}/t`;
}

/** One `neuralake ingest` process; its stderr goes to a log file for failures. */
class Ingest {
  readonly child: Deno.ChildProcess;
  readonly stdout: Promise<string>;
  readonly log: string;
  readonly #logged: Promise<void>;
  constructor(
    table: string,
    topic: string,
    group: string,
    extra: string[] = [],
    env: Record<string, string> = {},
  ) {
    this.log = Deno.makeTempFileSync({ prefix: "ingest-", suffix: ".log" });
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "ingest",
        table,
        "--brokers",
        kafkaBrokers().join(","),
        "--topic",
        topic,
        "--group",
        group,
        "--batch-rows",
        "500",
        "--batch-interval",
        "150ms",
        "--json",
        "--log-level",
        "info",
        ...extra,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const file = Deno.openSync(this.log, { write: true, create: true, truncate: true });
    this.#logged = this.child.stderr.pipeTo(file.writable).catch(() => {});
    this.stdout = new Response(this.child.stdout).text();
  }

  /** Kills it if it still runs, and waits for it: every test's clean-up. */
  async end(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.child.status;
    await this.#logged;
  }

  kill(): Promise<Deno.CommandStatus> {
    this.child.kill("SIGKILL");
    return this.child.status;
  }

  /** Stops it gracefully; resolves its exit code and its --json summary. */
  stop(): Promise<{ code: number; summary: Record<string, unknown> | undefined }> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* exited already */ }
    return this.finished();
  }

  async finished(): Promise<{ code: number; summary: Record<string, unknown> | undefined }> {
    const { code } = await this.child.status;
    const text = await this.stdout;
    await this.#logged;
    let summary: Record<string, unknown> | undefined;
    try {
      summary = JSON.parse(text);
    } catch { /* no summary: it failed */ }
    return { code, summary };
  }

  logText(): string {
    return Deno.readTextFileSync(this.log);
  }
}

function message(topic: string, id: number, partition?: number): OutgoingMessage {
  return {
    topic,
    key: String(id),
    value: JSON.stringify({ id, name: `n${id}` }),
    ...(partition === undefined ? {} : { partition }),
  };
}

/** Produces ids [from, to) in sends of `per`, pausing `pauseMs` between sends. */
async function produce(topic: string, from: number, to: number, per = 250, pauseMs = 0) {
  const producer = new KafkaProducer({ brokers: kafkaBrokers() });
  try {
    for (let i = from; i < to; i += per) {
      const batch: OutgoingMessage[] = [];
      for (let id = i; id < Math.min(to, i + per); id++) batch.push(message(topic, id));
      await producer.send(batch);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  } finally {
    await producer.close();
  }
}

async function idsByNeuralake(table: string): Promise<number[]> {
  const { rows } = await readWithNeuralake(await openTable(table), undefined, ["id"]);
  return rows.map((r) => Number(r.id));
}

/** Waits until the table holds `count` distinct ids, or throws with the logs. */
async function waitForIds(table: string, count: number, procs: Ingest[], timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let distinct = 0;
  while (Date.now() < deadline) {
    distinct = new Set(await idsByNeuralake(table)).size;
    if (distinct >= count) return;
    await sleep(1000);
  }
  throw new Error(
    `The table holds ${distinct} of ${count} ids after ${timeoutMs} ms; logs:\n` +
      procs.map((p) => p.logText().split("\n").slice(-15).join("\n")).join("\n---\n"),
  );
}

/** The ids delta-rs reads, sorted. */
async function idsByDeltaRs(table: string): Promise<number[]> {
  const { rows } = await readWithDeltaRs(table, { columns: ["id"] });
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function commitCount(table: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`${table}/_delta_log`)) if (e.name.endsWith(".json")) n++;
  return n;
}

/** Where `Setup.ingest` runs, if not on the test's own topic, table and group; and its environment. */
type IngestOn = Partial<Pick<Setup, "topic" | "table" | "group">> & {
  env?: Record<string, string>;
};

/** What every test here starts with: a topic and a table of its own. */
interface Setup {
  /** A new topic with the test's partitions. */
  topic: string;
  /** A new table of FIELDS (or, with `table: "absent"`, a path with no table yet). */
  table: string;
  /** A consumer group of its own. */
  group: string;
  /**
   * Starts `neuralake ingest` on the topic, table and group (or others
   * given), with `extra` flags; the test's end kills it if it still runs.
   */
  ingest(extra?: string[], on?: IngestOn): Ingest;
  /** Another topic (same partitions), table and group, for two ingests side by side. */
  another(): Promise<Pick<Setup, "topic" | "table" | "group">>;
}

/**
 * A test against the real broker: `fn` gets a fresh topic with `partitions`
 * partitions, a table and a group, and every ingest process it starts
 * through `setup.ingest` is killed when it ends, whether it passed or not.
 */
function ingestTest(
  name: string,
  options: { partitions: number; table?: "absent" },
  fn: (setup: Setup) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: KAFKA_IGNORE,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const fresh = async () => {
        const topic = uniqueTopic("ingest");
        await createTopic({ brokers: kafkaBrokers(), topic, partitions: options.partitions });
        const table = options.table === "absent"
          ? `${await Deno.makeTempDir({ prefix: "kafka-ingest-" })}/t`
          : await newTable();
        return { topic, table, group: uniqueTopic("group") };
      };
      const started: Ingest[] = [];
      const setup: Setup = {
        ...await fresh(),
        ingest(extra = [], on = {}) {
          const run = new Ingest(
            on.table ?? setup.table,
            on.topic ?? setup.topic,
            on.group ?? setup.group,
            extra,
            on.env,
          );
          started.push(run);
          return run;
        },
        another: fresh,
      };
      try {
        await fn(setup);
      } finally {
        for (const run of started) await run.end();
      }
    },
  });
}

/** Sends messages and waits for the broker's acks. */
async function send(messages: OutgoingMessage[]): Promise<void> {
  const producer = new KafkaProducer({ brokers: kafkaBrokers() });
  try {
    await producer.send(messages);
  } finally {
    await producer.close();
  }
}

ingestTest(
  "ingest writes every message exactly once while its processes are SIGKILLed and restarted",
  { partitions: 4 },
  async ({ topic, table, ingest }) => {
    const total = 16_000;
    // About 20 s of messages, so that the kills land mid-stream.
    const producing = produce(topic, 0, total, 200, 250);
    const procs = [ingest(), ingest()];
    const restart = async (i: number) => {
      await procs[i]!.kill();
      procs[i] = ingest();
    };
    // During a batch: at a random moment.
    await sleep(3000 + Math.random() * 2000);
    await restart(0);
    // Right after a Delta commit: as soon as a new version appears.
    const before = await commitCount(table);
    for (let i = 0; i < 500 && await commitCount(table) === before; i++) await sleep(10);
    await restart(1);
    // During the rebalance that the restarted member started.
    await sleep(1500);
    await restart(1);
    await sleep(2000 + Math.random() * 2000);
    await restart(0);
    await producing;
    await waitForIds(table, total, procs);
    const results = await Promise.all(procs.map((p) => p.stop()));
    for (const r of results) assertEquals(r.code, 0, JSON.stringify(r));
    assertEquals(await idsByDeltaRs(table), range(total));
  },
);

ingestTest(
  "a third ingest process joining mid-run takes over partitions, nothing duplicated",
  { partitions: 4 },
  async ({ topic, table, ingest }) => {
    const total = 12_000;
    const producing = produce(topic, 0, total, 200, 200);
    const procs = [ingest(), ingest()];
    await sleep(4000);
    procs.push(ingest());
    await producing;
    await waitForIds(table, total, procs);
    const results = await Promise.all(procs.map((p) => p.stop()));
    for (const r of results) assertEquals(r.code, 0, JSON.stringify(r));
    const third = results[2]!.summary!;
    assert(Number(third.rows) > 0, `the third process committed rows: ${JSON.stringify(third)}`);
    assertEquals(await idsByDeltaRs(table), range(total));
  },
);

ingestTest(
  "bad messages land in the dead-letter table with their offsets, the good ones around them in the table",
  { partitions: 2 },
  async ({ topic, table, ingest }) => {
    const deadLetter = `${table}_dead`;
    const messages: OutgoingMessage[] = [];
    const bad = new Map<number, string>([
      [7, "not json at all"],
      [20, `{"id": "twenty"}`],
      [33, `{"id": 33, "colour": "red"}`],
      [41, `{"id": 41}\n{"id": 41.5}`],
    ]);
    const expectedBad: [number, number][] = [];
    const offsets = [0, 0];
    const good: number[] = [];
    for (let id = 0; id < 60; id++) {
      const partition = id % 2;
      const value = bad.get(id);
      if (value === undefined) good.push(id);
      else expectedBad.push([partition, offsets[partition]!]);
      offsets[partition]!++;
      messages.push({
        topic,
        key: `k${id}`,
        value: value ?? JSON.stringify({ id, name: `n${id}` }),
        partition,
      });
    }
    await send(messages);
    const run = ingest(["--dead-letter", deadLetter, "--until-idle", "3s"]);
    const { code, summary } = await run.finished();
    assertEquals(code, 0, run.logText());
    assertEquals(summary?.dead_letters, 4);
    assertEquals(await idsByDeltaRs(table), good);
    const letters = await readWithDeltaRs(deadLetter, {
      columns: ["topic", "partition", "offset", "key", "error"],
    });
    const found = letters.rows.map((r) =>
      [Number(r.partition), Number(r.offset)] as [number, number]
    )
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assertEquals(found, expectedBad.sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    for (const r of letters.rows) {
      assertEquals(r.topic, topic);
      assert(typeof r.error === "string" && r.error.length > 0, JSON.stringify(r));
    }
  },
);

ingestTest(
  "without a dead-letter table a bad message stops ingest with its topic, partition and offset",
  { partitions: 1 },
  async ({ topic, table, ingest }) => {
    await send([
      message(topic, 1, 0),
      message(topic, 2, 0),
      { topic, value: `{"id": 3,`, partition: 0 },
    ]);
    const run = ingest(["--until-idle", "3s"]);
    const { code } = await run.finished();
    assertEquals(code, 1, run.logText());
    assert(run.logText().includes(`Topic ${topic}, partition 0, offset 2:`), run.logText());
    assertEquals(await idsByDeltaRs(table), []);
  },
);

ingestTest(
  "ingest waits out a broker restart and resumes, losing nothing",
  { partitions: 2 },
  async ({ topic, table, ingest }) => {
    const run = ingest();
    await produce(topic, 0, 3000);
    await waitForIds(table, 3000, [run]);
    await restartKafkaBroker();
    await produce(topic, 3000, 6000);
    await waitForIds(table, 6000, [run]);
    const { code } = await run.stop();
    assertEquals(code, 0, run.logText());
    assertEquals(await idsByDeltaRs(table), range(6000));
  },
);

ingestTest(
  "--until-idle is not fooled by a broker that is down: it waits and finishes, or exits 1 past --broker-timeout",
  { partitions: 2 },
  async ({ topic, table, ingest, another }) => {
    const gone = await another();
    await produce(topic, 0, 200);
    await produce(gone.topic, 0, 200);
    // Idle for longer than a send takes once the broker is back (the broker's restart is slower).
    const patient = ingest(["--until-idle", "10s"]);
    const hasty = ingest(["--until-idle", "3s", "--broker-timeout", "8s"], gone);
    await waitForIds(table, 200, [patient]);
    await waitForIds(gone.table, 200, [hasty]);
    await haltKafkaBroker();
    let halted = true;
    try {
      const haltedAt = Date.now();
      // Down for good as far as it knows: it gives up with an error, not a clean idle exit.
      const gaveUp = await hasty.finished();
      assertEquals(gaveUp.code, 1, hasty.logText());
      assert(hasty.logText().includes("Kafka has been unreachable for"), hasty.logText());
      assertEquals(await idsByDeltaRs(gone.table), range(200));
      assert(Date.now() - haltedAt >= 8000, `gave up after ${Date.now() - haltedAt} ms`);
      // Without --broker-timeout it waits, past its idle time, for as long as the broker is down.
      await sleep(haltedAt + 14_000 - Date.now());
      assertEquals(await Promise.race([patient.child.status, sleep(0)]), undefined);
      await restartKafkaBroker();
      halted = false;
      const downSeconds = (Date.now() - haltedAt) / 1000;
      await produce(topic, 200, 400);
      const { code, summary } = await patient.finished();
      assertEquals(code, 0, patient.logText());
      assertEquals(summary?.stopped, "idle");
      assertEquals(await idsByDeltaRs(table), range(400));
      // It said so while it waited, though not at every retry.
      const warnings = patient.logText().split("\n").filter((l) =>
        l.includes("Kafka unreachable for")
      ).length;
      assert(warnings >= 1 && warnings <= downSeconds / 5 + 2, `${warnings} warnings`);
    } finally {
      if (halted) await restartKafkaBroker();
    }
  },
);

ingestTest(
  "/healthz turns 503 with the reason while Kafka is unreachable past the threshold, and 200 once it is back",
  { partitions: 1 },
  async ({ topic, table, ingest }) => {
    const address = `127.0.0.1:${freePort()}`;
    const run = ingest(["--metrics-addr", address], {
      env: { NEURALAKE_HEALTH_COMMIT_FAILURE: "3s" },
    });
    const health = async () => {
      const response = await fetch(`http://${address}/healthz`);
      return { status: response.status, body: await response.json() };
    };
    /** Asks /healthz once a second until it answers `status`; resolves the last answer. */
    const until = async (status: number) => {
      let last = await health();
      for (let i = 0; i < 90 && last.status !== status; i++) {
        await sleep(1000);
        last = await health();
      }
      return last;
    };
    await produce(topic, 0, 100);
    await waitForIds(table, 100, [run]);
    assertEquals(await health(), { status: 200, body: { status: "ok", reasons: [] } });
    await haltKafkaBroker();
    let halted = true;
    try {
      const sick = await until(503);
      assertEquals([sick.status, sick.body.status], [503, "unhealthy"], JSON.stringify(sick));
      assert(
        /has not reached Kafka for \d+ s \(threshold 3 s\): .*127\.0\.0\.1/.test(
          sick.body.reasons[0],
        ),
        JSON.stringify(sick.body),
      );
      await restartKafkaBroker();
      halted = false;
      assertEquals((await until(200)).status, 200, run.logText());
      const { code } = await run.stop();
      assertEquals(code, 0, run.logText());
    } finally {
      if (halted) await restartKafkaBroker();
    }
  },
);

ingestTest(
  "binary neural messages, many rows each, are ingested into a neural table once each",
  { partitions: 3, table: "absent" },
  async ({ topic, table, ingest }) => {
    const generator = new NeuralGenerator({ seed: 5, neurons: 64 });
    const tick0 = generator.tickAt(Date.now());
    const rowsPerMessage = 64 * 20;
    const expected: string[] = [];
    const messages: OutgoingMessage[] = [];
    for (let seq = 0; seq < 60; seq++) {
      const batch = generator.generate({
        writerId: "rig-1",
        sessionId: "s",
        batchSeq: seq,
        tick0,
        startRow: seq * rowsPerMessage,
        rows: rowsPerMessage,
      });
      const neurons = batch.columns[5]!.values as Int32Array;
      for (let i = 0; i < batch.length; i++) expected.push(`${seq}:${neurons[i]}`);
      messages.push({ topic, key: `rig-1:${seq}`, value: encodeNeuralMessage(batch) });
    }
    await send(messages);
    // A table that does not exist is created with the neural schema.
    const run = ingest(["--until-idle", "3s"]);
    const { code, summary } = await run.finished();
    assertEquals(code, 0, run.logText());
    assertEquals(summary?.rows, expected.length);
    const { rows } = await readWithDeltaRs(table, { columns: ["batch_seq", "neuron_id"] });
    assertEquals(rows.map((r) => `${r.batch_seq}:${r.neuron_id}`).sort(), expected.sort());
  },
);

ingestTest(
  "SIGTERM commits what ingest buffered before it leaves the group; it serves /metrics and /healthz",
  { partitions: 2 },
  async ({ topic, table, ingest }) => {
    // Batches that neither fill nor time out during the test: only the stop commits them.
    const address = `127.0.0.1:${freePort()}`;
    const run = ingest(["--batch-interval", "1h", "--metrics-addr", address]);
    await produce(topic, 0, 400);
    await sleep(6000);
    assertEquals(await idsByNeuralake(table), [], "nothing is committed before the stop");
    const health = await fetch(`http://${address}/healthz`);
    assertEquals(health.status, 200, await health.text());
    const before = await (await fetch(`http://${address}/metrics`)).text();
    assert(before.includes("neuralake_rows_committed_total"), before);
    const { code, summary } = await run.stop();
    assertEquals(code, 0, run.logText());
    assertEquals(summary?.rows, 400);
    assertEquals(await idsByDeltaRs(table), range(400));
  },
);

ingestTest(
  "a partition whose head Kafka deleted is read from its log start, warning of offsets never ingested",
  { partitions: 1 },
  async ({ topic, table, ingest }) => {
    // As retention would: the records before `offset` are gone.
    const trim = async (offset: bigint) => {
      const admin = new Admin({ clientId: "test", bootstrapBrokers: kafkaBrokers() });
      try {
        await admin.deleteRecords({
          topics: [{ name: topic, partitions: [{ partition: 0, offset }] }],
        });
      } finally {
        await admin.close();
      }
    };
    const ingestUntilIdle = async () => {
      const run = ingest(["--until-idle", "3s"]);
      const { code } = await run.finished();
      assertEquals(code, 0, run.logText());
      return run.logText();
    };
    // No marker yet: reading starts where the log does, and nothing is lost.
    await produce(topic, 0, 50);
    await trim(20n);
    assert(!(await ingestUntilIdle()).includes("were deleted by Kafka"));
    assertEquals(await idsByDeltaRs(table), range(50).slice(20));
    // The marker says 49; offsets 50..69 go before ingest reads them: a warning names them.
    await produce(topic, 50, 80);
    await trim(70n);
    const log = await ingestUntilIdle();
    assert(log.includes("Offsets 50 to 69 of partition 0 of"), log);
    assertEquals(await idsByDeltaRs(table), [...range(50).slice(20), ...range(80).slice(70)]);
  },
);
