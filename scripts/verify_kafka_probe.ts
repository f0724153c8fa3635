/**
 * Measures the Kafka verification of a table against its topic: how long it
 * takes, and the most V8 heap and resident memory it held (sampled every
 * 20 ms), as one JSON line. For docs/benchmarks.md; not a test.
 *
 *   deno run -A scripts/verify_kafka_probe.ts <table> <brokers> <topic> <group>
 *
 * With `--tallies <kind> <N>` it measures instead the heap that the
 * verification's tallies of N messages of one producer keep after garbage
 * collection (`deno run -A --v8-flags=--expose-gc scripts/verify_kafka_probe.ts
 * --tallies ranges 1000000`): `ranges` for
 * roles/kafka_tally.ts, fed as a 4-partition topic is read back (5,000
 * messages of each partition in turn) and a table of 5,000-message files;
 * `map` for the rows per message key that the verification kept before, one
 * map for the topic and one for the table.
 */

import { openTable } from "../src/ops/table.ts";
import { verifyKafkaRun } from "../src/roles/verify_kafka.ts";
import { TableMessages, TopicMessages } from "../src/roles/kafka_tally.ts";

if (Deno.args[0] === "--tallies") {
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error("--tallies needs --v8-flags=--expose-gc");
  const heap = () => {
    for (let i = 0; i < 3; i++) gc();
    return Deno.memoryUsage().heapUsed;
  };
  const kind = Deno.args[1];
  const n = Number(Deno.args[2] ?? 1_000_000);
  const before = heap();
  let kept: unknown[];
  if (kind === "map") {
    const expected = new Map<string, number>();
    const found = new Map<string, number>();
    for (let seq = 0; seq < n; seq++) {
      expected.set(`kafka-42\u0000producer-42\u0000${seq}`, 16);
      found.set(`kafka-42\u0000producer-42\u0000${seq}`, 16);
    }
    kept = [expected, found];
  } else if (kind === "ranges") {
    const topic = new TopicMessages();
    const next = [0, 1, 2, 3];
    while (next.some((seq) => seq < n)) {
      for (let p = 0; p < 4; p++) {
        for (let i = 0; i < 5000 && next[p]! < n; i++, next[p]! += 4) {
          topic.add("kafka-42", "producer-42", next[p]!, 16);
        }
      }
    }
    const table = new TableMessages(topic, { partitioned: false });
    for (let seq = 0; seq < n; seq++) {
      table.addRun(`f${Math.floor(seq / 5000)}`, "kafka-42", "producer-42", seq, 16);
    }
    kept = [topic, table];
  } else throw new TypeError(`Unknown kind of tallies: ${kind} (use ranges or map)`);
  const retained = heap() - before;
  console.log(JSON.stringify({
    kind,
    messages: n,
    retained_bytes: retained,
    bytes_per_message: Math.round(retained / n * 1000) / 1000,
    kept: kept.length,
  }));
  Deno.exit(0);
}

const [uri, brokers, topic, group] = Deno.args;
if (!uri || !brokers || !topic || !group) {
  console.error("Usage: verify_kafka_probe.ts <table> <brokers> <topic> <group>");
  Deno.exit(2);
}
const table = await openTable(uri);
const before = Deno.memoryUsage();
let heap = before.heapUsed;
let rss = before.rss;
const sampler = setInterval(() => {
  const m = Deno.memoryUsage();
  heap = Math.max(heap, m.heapUsed);
  rss = Math.max(rss, m.rss);
}, 20);
const started = performance.now();
const result = await verifyKafkaRun(table, {
  brokers: brokers.split(","),
  topic,
  group,
  runId: `probe-${Date.now()}`,
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const MiB = 1024 * 1024;
console.log(JSON.stringify({
  passed: result.passed,
  failed: result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`),
  seconds: Math.round(seconds * 10) / 10,
  heap_before_mib: Math.round(before.heapUsed / MiB * 10) / 10,
  heap_peak_mib: Math.round(heap / MiB * 10) / 10,
  rss_peak_mib: Math.round(rss / MiB),
  detail: result.checks.find((c) => c.name === "every_committed_message_once")?.detail,
}));
