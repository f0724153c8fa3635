/**
 * Measures the Kafka verification of a table against its topic: how long it
 * takes, and the most V8 heap and resident memory it held (sampled every
 * 20 ms), as one JSON line. For docs/benchmarks.md; not a test.
 *
 *   deno run -A scripts/verify_kafka_probe.ts <table> <brokers> <topic> <group>
 */

import { openTable } from "../src/ops/table.ts";
import { verifyKafkaRun } from "../src/roles/verify_kafka.ts";

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
