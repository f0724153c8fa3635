/**
 * Kafka ingest benchmarks, against a local broker started for the run
 * (scripts/kafka-server.sh). The peer of each figure is the machine's
 * ceiling measured in the same run: a plain consumer that reads the same
 * messages and discards them. The ratio says what our part (decoding,
 * Parquet, upload, Delta commit, with compaction and vacuum running)
 * costs against merely reading Kafka.
 *
 * - "Kafka ingest, neural rows": a topic of 4 partitions preloaded with
 *   neural rows, 8,192 per message; `neuralake ingest` (a child process)
 *   drains it into a new table while the compactor and vacuum roles run
 *   (child processes too). Rows/s is measured from the first committed
 *   version to the one holding the last message, by watching the table's
 *   per-partition `txn` markers; the consumer alone is timed from its first
 *   message to its last.
 * - the same at a fixed produce rate: p99 of produce → visible in a
 *   committed version (from each message's Kafka timestamp to the first
 *   table version whose marker covers it), against p99 of produce →
 *   received for the consumer alone.
 * - "Kafka ingest, JSON objects": one JSON object (one neural row) per
 *   message; messages/s of ingest alone against the consumer alone.
 */

import { openTable, type Table } from "../src/ops/table.ts";
import { latestSnapshotOf } from "../src/ops/table.ts";
import { lastAppVersion } from "../src/delta/replay.ts";
import { partitionAppId } from "../src/roles/kafka_offsets.ts";
import { produceNeural } from "../src/roles/producer.ts";
import { scanTable } from "../src/ops/scan.ts";
import { createTopic, endOffsets, KafkaGroupConsumer } from "../src/sources/kafka.ts";
import { measurePairs, type ScenarioResult, type SideRun } from "./harness.ts";

/** What the Kafka scenarios need of the run. */
export interface KafkaBenchContext {
  quick: boolean;
  repetitions: number;
  warmup: number;
  work: string;
  progress: (line: string) => void;
  brokers: string[];
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const PARTITIONS = 4;
const NEURAL_ROWS_PER_MESSAGE = 8192;
const CEILING = "consumer alone";
/** Ingest processes in the group: one per core of the 2-core machines this runs on. */
const INGEST_PROCESSES = 2;

let counter = 0;
const unique = (label: string) => `bench-${label}-${Date.now().toString(36)}-${counter++}`;

/** Starts `neuralake <args>` as a child process, its output to a log file. */
async function spawn(args: string[], log: string): Promise<Deno.ChildProcess> {
  const file = await Deno.open(log, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", CONFIG, MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Drain both pipes into the log so the child never blocks on them.
  const sink = file.writable.getWriter();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await sink.write(chunk);
  };
  Promise.all([pump(child.stdout), pump(child.stderr)]).finally(() => sink.close().catch(() => {}));
  return child;
}

async function stop(child: Deno.ChildProcess | undefined): Promise<void> {
  if (!child) return;
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await child.status;
}

/** Waits until a table's first commit exists. */
async function tableExists(uri: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      await Deno.stat(`${uri}/_delta_log/00000000000000000000.json`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`ingest did not create ${uri} in time`);
}

/**
 * Watches a table's per-partition markers of a group until every partition
 * covers `last[p]` (the last offset to wait for); calls `onCovered` with
 * each newly covered range as it becomes visible.
 */
async function watchMarkers(
  table: Table,
  group: string,
  topic: string,
  last: bigint[] | (() => bigint[] | undefined),
  timeoutMs: number,
  onCovered: (partition: number, from: bigint, to: bigint, at: number) => void,
): Promise<void> {
  // The target may be known only later (while a producer still runs).
  const target = typeof last === "function" ? last : () => last;
  const covered = Array.from({ length: PARTITIONS }, () => -1n);
  const deadline = Date.now() + timeoutMs;
  const done = () => {
    const t = target();
    return t !== undefined && covered.every((c, p) => c >= t[p]!);
  };
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(
        `ingest did not commit every message within ${timeoutMs / 1000} s: markers at ${covered}`,
      );
    }
    try {
      const snapshot = await latestSnapshotOf(table);
      const at = performance.now();
      for (let p = 0; p < PARTITIONS; p++) {
        const v = lastAppVersion(snapshot, partitionAppId(group, topic, p));
        if (v !== undefined && BigInt(v) > covered[p]!) {
          onCovered(p, covered[p]! + 1n, BigInt(v), at);
          covered[p] = BigInt(v);
        }
      }
    } catch {
      // Not created yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function tableRows(table: Table): Promise<number> {
  const s = await scanTable(table, { columns: ["neuron_id"] });
  let rows = 0;
  for await (const b of s.batches) rows += b.length;
  return rows;
}

/** An ingest run with the compactor and vacuum beside it, as a stream job has them. */
async function withIngest<T>(
  ctx: KafkaBenchContext,
  topic: string,
  options: { maintenance: boolean; label: string },
  body: (table: Table, uri: string, group: string) => Promise<T>,
): Promise<T> {
  const uri = `${ctx.work}/${unique(options.label)}`;
  const group = unique("group");
  const log = `${ctx.work}/${options.label}.log`;
  const ingest = await Promise.all(
    Array.from({ length: INGEST_PROCESSES }, (_, i) =>
      spawn([
        "ingest",
        uri,
        "--brokers",
        ctx.brokers.join(","),
        "--topic",
        topic,
        "--group",
        group,
        "--id",
        `ingest-${i}`,
      ], log)),
  );
  let compactor: Deno.ChildProcess | undefined;
  let vacuum: Deno.ChildProcess | undefined;
  try {
    if (options.maintenance) {
      const waiting = tableExists(uri, Date.now() + 120_000);
      const result = waiting.then(async () => {
        compactor = await spawn(
          [
            "compactor",
            uri,
            "--profile",
            "local",
            "--duration",
            "0",
            "--compaction-interval",
            "1s",
          ],
          log,
        );
        vacuum = await spawn(
          ["vacuum", uri, "--every", "5s", "--retention", "15s", "--allow-short-retention"],
          log,
        );
      });
      const out = await body(await openTable(uri), uri, group);
      await result;
      return out;
    }
    return await body(await openTable(uri), uri, group);
  } finally {
    await Promise.all([...ingest.map(stop), stop(compactor), stop(vacuum)]);
    await Deno.remove(uri, { recursive: true }).catch(() => {});
  }
}

/** The consumer alone: reads every message of a topic from the start and discards it. */
async function consumeAll(
  ctx: KafkaBenchContext,
  topic: string,
  ends: bigint[],
): Promise<{ firstAt: number; lastAt: number; messages: number }> {
  const consumer = await KafkaGroupConsumer.join({
    brokers: ctx.brokers,
    groupId: unique("ceiling"),
    topics: [topic],
    maxWaitMs: 100,
  });
  let firstAt = 0, lastAt = 0, messages = 0;
  try {
    const deadline = Date.now() + 300_000;
    // Timed from the start of the poll that brought the first messages: a
    // small topic may come whole in one fetch.
    while (ends.some((e, p) => (consumer.position(topic, p) ?? 0n) < e)) {
      if (Date.now() > deadline) throw new Error("the consumer did not reach the end of the topic");
      const before = performance.now();
      const parts = await consumer.poll();
      const at = performance.now();
      for (const part of parts) {
        if (part.messages.length === 0) continue;
        if (firstAt === 0) firstAt = before;
        lastAt = at;
        messages += part.messages.length;
      }
    }
  } finally {
    await consumer.close();
  }
  return { firstAt, lastAt, messages };
}

async function preload(
  ctx: KafkaBenchContext,
  format: "neural" | "json",
  rows: number,
): Promise<{ topic: string; ends: bigint[]; messages: number; rows: number }> {
  const topic = unique(`topic-${format}`);
  await createTopic({ brokers: ctx.brokers, topic, partitions: PARTITIONS });
  const rowsPerMessage = format === "neural" ? NEURAL_ROWS_PER_MESSAGE : 1;
  const summary = await produceNeural({
    brokers: ctx.brokers,
    topic,
    format,
    rowsPerMessage,
    messages: Math.ceil(rows / rowsPerMessage),
  });
  ctx.progress(
    `preloaded ${topic}: ${summary.messages} ${format} messages, ${summary.rows} rows, ${
      Math.round(summary.rowsPerSecond)
    } rows/s produced`,
  );
  return {
    topic,
    ends: await endOffsets({ brokers: ctx.brokers }, topic),
    messages: summary.messages,
    rows: summary.rows,
  };
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1))]!;
}

/** Drain rate of a preloaded topic: ingest (with or without maintenance) against the consumer alone. */
async function drain(
  ctx: KafkaBenchContext,
  name: string,
  format: "neural" | "json",
  rows: number,
  maintenance: boolean,
): Promise<ScenarioResult[]> {
  const loaded = await preload(ctx, format, rows);
  const rowsPerMessage = format === "neural" ? NEURAL_ROWS_PER_MESSAGE : 1;
  const unit = format === "neural" ? "rows" : "messages";
  const key = format === "neural" ? "rows_per_second" : "messages_per_second";
  // What one message counts for in the figure: its rows, or itself.
  const perMessage = format === "neural" ? rowsPerMessage : 1;
  const last = loaded.ends.map((e) => e - 1n);
  return await measurePairs(
    name,
    `${loaded.messages.toLocaleString("en-US")} messages of ${
      rowsPerMessage.toLocaleString("en-US")
    } ${rowsPerMessage === 1 ? "row" : "rows"}, ${PARTITIONS} partitions`,
    [{ key, label: `${unit}/s`, better: "higher" }],
    {
      repetitions: ctx.repetitions,
      warmup: ctx.warmup,
      sameRowsAcrossSides: true,
      peer: CEILING,
      notes: `neuralake: ${INGEST_PROCESSES} ingest processes in one group${
        maintenance ? ", with the compactor and vacuum running" : ""
      }, timed from the first committed version to the one holding the last message (the rows of the first version not counted); ${CEILING}: one consumer reading the same messages and discarding them, timed from the fetch that brought the first to the last (the ceiling)`,
    },
    () =>
      withIngest(
        ctx,
        loaded.topic,
        { maintenance, label: `ingest-${format}` },
        async (table, _uri, group) => {
          let firstAt = 0, lastAt = 0, atFirst = 0;
          await watchMarkers(table, group, loaded.topic, last, 600_000, (_p, from, to, at) => {
            const n = Number(to - from + 1n);
            if (firstAt === 0) {
              firstAt = at;
              atFirst += n;
            } else if (at === firstAt) atFirst += n;
            lastAt = at;
          });
          const seconds = (lastAt - firstAt) / 1000;
          const held = await tableRows(table);
          return {
            sample: { [key]: ((loaded.messages - atFirst) * perMessage) / seconds },
            expectedRows: loaded.rows,
            tableRows: held,
          } satisfies SideRun;
        },
      ),
    async () => {
      const r = await consumeAll(ctx, loaded.topic, loaded.ends);
      const seconds = (r.lastAt - r.firstAt) / 1000;
      return {
        sample: { [key]: (r.messages * perMessage) / seconds },
        expectedRows: loaded.rows,
        tableRows: r.messages * rowsPerMessage,
      };
    },
    ctx.progress,
  );
}

/** p99 produce → visible at a fixed rate, against produce → received for the consumer alone. */
async function latency(ctx: KafkaBenchContext, name: string): Promise<ScenarioResult[]> {
  const rate = ctx.quick ? 200_000 : 500_000;
  const seconds = ctx.quick ? 5 : 10;
  const produce = (topic: string, warmUp = false) =>
    produceNeural({
      brokers: ctx.brokers,
      topic,
      rowsPerMessage: NEURAL_ROWS_PER_MESSAGE,
      writerId: warmUp ? "warm-up" : "bench",
      ...(warmUp ? { messages: PARTITIONS * 4 } : { rate, durationMs: seconds * 1000 }),
      // One message per request: each is stamped as it is sent.
      messagesPerSend: 1,
    });
  const newTopic = async () => {
    const topic = unique("topic-latency");
    await createTopic({ brokers: ctx.brokers, topic, partitions: PARTITIONS });
    return topic;
  };
  // performance.now() to ms since the epoch, as Kafka timestamps count.
  const epoch = () => performance.now() + performance.timeOrigin;
  return await measurePairs(
    name,
    `${rate.toLocaleString("en-US")} rows/s for ${seconds} s, ${
      NEURAL_ROWS_PER_MESSAGE.toLocaleString("en-US")
    } rows per message`,
    [
      { key: "p50", label: "produce → visible p50 (ms)", better: "lower" },
      { key: "p99", label: "produce → visible p99 (ms)", better: "lower" },
    ],
    {
      repetitions: ctx.repetitions,
      warmup: ctx.warmup,
      sameRowsAcrossSides: false,
      peer: CEILING,
      notes:
        `neuralake: ${INGEST_PROCESSES} ingest processes; from each message's Kafka timestamp (set as it is sent) to the first table version whose txn marker covers it, with the compactor and vacuum running; ${CEILING}: from the timestamp to when a plain consumer receives it; both measured after a warm-up that the first messages are visible (received)`,
    },
    async () => {
      const topic = await newTopic();
      return await withIngest(
        ctx,
        topic,
        { maintenance: true, label: "ingest-latency" },
        async (table, _uri, group) => {
          // Ingest is ready once it has committed a warm-up.
          const warm = await produce(topic, true);
          const warmEnds = await endOffsets({ brokers: ctx.brokers }, topic);
          await watchMarkers(table, group, topic, warmEnds.map((e) => e - 1n), 120_000, () => {});
          // A plain consumer of its own group learns each message's stamp.
          const stamps = Array.from({ length: PARTITIONS }, () => new Map<bigint, number>());
          const observer = await KafkaGroupConsumer.join({
            brokers: ctx.brokers,
            groupId: unique("observer"),
            topics: [topic],
            maxWaitMs: 100,
          });
          let observing = true;
          const observed = (async () => {
            while (observing) {
              for (const part of await observer.poll()) {
                for (const m of part.messages) stamps[m.partition]!.set(m.offset, m.timestamp);
              }
            }
          })();
          // The table is watched while the producer runs: a version is
          // stamped when it is first seen.
          const visible: { p: number; from: bigint; to: bigint; at: number }[] = [];
          const target: { last?: bigint[] } = {};
          const watched = watchMarkers(
            table,
            group,
            topic,
            () => target.last,
            300_000,
            (p, from, to) => visible.push({ p, from, to, at: epoch() }),
          );
          const summary = await produce(topic);
          target.last = (await endOffsets({ brokers: ctx.brokers }, topic)).map((e) => e - 1n);
          await watched;
          const total = warm.messages + summary.messages;
          while (stamps.reduce((n, m) => n + m.size, 0) < total) {
            await new Promise((r) => setTimeout(r, 50));
          }
          observing = false;
          await observed;
          await observer.close();
          const latencies: number[] = [];
          for (const { p, from, to, at } of visible) {
            for (let o = from; o <= to; o++) {
              if (o < warmEnds[p]!) continue;
              latencies.push(at - stamps[p]!.get(o)!);
            }
          }
          return {
            sample: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
            expectedRows: warm.rows + summary.rows,
            tableRows: await tableRows(table),
          } satisfies SideRun;
        },
      );
    },
    async () => {
      const topic = await newTopic();
      const consumer = await KafkaGroupConsumer.join({
        brokers: ctx.brokers,
        groupId: unique("ceiling"),
        topics: [topic],
        maxWaitMs: 100,
      });
      try {
        const warm = await produce(topic, true);
        let received = 0;
        while (received < warm.messages) {
          for (const part of await consumer.poll()) received += part.messages.length;
        }
        const latencies: number[] = [];
        let sent: number | undefined;
        const producing = produce(topic).then((s) => sent = s.messages);
        received = 0;
        while (sent === undefined || received < sent) {
          for (const part of await consumer.poll()) {
            const at = epoch();
            for (const m of part.messages) latencies.push(at - m.timestamp);
            received += part.messages.length;
          }
        }
        await producing;
        return {
          sample: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
          expectedRows: sent,
          tableRows: received,
        };
      } finally {
        await consumer.close();
      }
    },
    ctx.progress,
  );
}

/** Every Kafka scenario, by name. */
export const KAFKA_SCENARIOS: {
  name: string;
  run(ctx: KafkaBenchContext): Promise<ScenarioResult[]>;
}[] = [
  {
    name: "Kafka ingest, neural rows",
    run: async (ctx) => [
      ...await drain(
        ctx,
        "Kafka ingest, neural rows",
        "neural",
        ctx.quick ? 2_000_000 : 10_000_000,
        true,
      ),
      ...await latency(ctx, "Kafka ingest, neural rows"),
    ],
  },
  {
    name: "Kafka ingest, JSON objects",
    run: (ctx) =>
      drain(ctx, "Kafka ingest, JSON objects", "json", ctx.quick ? 50_000 : 300_000, false),
  },
];
