/** The Prometheus exporter, the health rules and the endpoint that serves both. */

import { PrometheusExporter } from "../../src/metrics/prometheus.ts";
import { HealthTracker } from "../../src/metrics/health.ts";
import { healthOptionsFromEnv, JobMonitor } from "../../src/metrics/monitor.ts";
import { parseHostPort } from "../../src/metrics/server.ts";
import type { MetricsEvent } from "../../src/metrics/events.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import { parseExposition, total } from "../_helpers/prometheus.ts";

const T0 = Date.parse("2026-11-30T10:00:00.000Z");

function ev(tMs: number, fields: Omit<MetricsEvent, "t_ms" | "time">): MetricsEvent {
  return { t_ms: tMs, time: new Date(T0 + tMs).toISOString(), ...fields };
}

const EVENTS: MetricsEvent[] = [
  ev(100, {
    role: "writer",
    role_id: "writer-0",
    event: "batch_committed",
    rows: 500,
    version: 1,
    commit_ms: 12,
    visibility_ms: 300,
    rss_mb: 100,
    heap_mb: 30,
  }),
  ev(200, {
    role: "writer",
    role_id: "writer-1",
    event: "batch_committed",
    rows: 700,
    version: 2,
    commit_ms: 40,
    visibility_ms: 1500,
  }),
  ev(210, { role: "writer", role_id: "writer-1", event: "commit_conflict", version: 2 }),
  ev(300, { role: "writer", role_id: "writer-1", event: "batch_failed", batch_seq: 3 }),
  ev(400, {
    role: "compactor",
    role_id: "compactor-0",
    event: "compaction",
    version: 3,
    files_in: 6,
  }),
  ev(450, {
    role: "compactor",
    role_id: "compactor-0",
    event: "table_state",
    version: 3,
    files_total: 2,
  }),
  ev(500, { role: "vacuum", role_id: "vacuum-0", event: "vacuum", files_deleted: 4 }),
  ev(600, { role: "orchestrator", role_id: "writer-1", event: "restart", detail: "after SIGKILL" }),
];

Deno.test("PrometheusExporter renders every required metric with HELP, TYPE and labels", async () => {
  const exporter = new PrometheusExporter("file:///t", "orchestrator", "orchestrator");
  for (const e of EVENTS) exporter.observe(e);
  const text = await exporter.render();
  const x = parseExposition(text);
  for (
    const [name, type] of [
      ["neuralake_rows_committed_total", "counter"],
      ["neuralake_commits_total", "counter"],
      ["neuralake_commit_conflicts_total", "counter"],
      ["neuralake_batches_failed_total", "counter"],
      ["neuralake_commit_latency_seconds", "histogram"],
      ["neuralake_visibility_latency_seconds", "histogram"],
      ["neuralake_table_version", "gauge"],
      ["neuralake_table_files", "gauge"],
      ["neuralake_files_compacted_total", "counter"],
      ["neuralake_files_vacuumed_total", "counter"],
      ["neuralake_role_restarts_total", "counter"],
      ["neuralake_process_resident_memory_bytes", "gauge"],
      ["neuralake_heap_used_bytes", "gauge"],
    ]
  ) assertEquals(x.types.get(name!), type, name);
  for (const [name, type] of x.types) {
    if (type === "counter") assert(name.endsWith("_total"), `${name} is a counter`);
  }
  assertEquals(total(x, "neuralake_rows_committed_total"), 1200);
  assertEquals(
    total(x, "neuralake_rows_committed_total", { role_id: "writer-1", table: "file:///t" }),
    700,
  );
  assertEquals(total(x, "neuralake_commits_total"), 3);
  assertEquals(total(x, "neuralake_commits_total", { role: "compactor" }), 1);
  assertEquals(total(x, "neuralake_commit_conflicts_total"), 1);
  assertEquals(total(x, "neuralake_batches_failed_total"), 1);
  assertEquals(total(x, "neuralake_files_compacted_total"), 6);
  assertEquals(total(x, "neuralake_files_vacuumed_total"), 4);
  assertEquals(
    total(x, "neuralake_role_restarts_total", { role: "writer", role_id: "writer-1" }),
    1,
  );
  assertEquals(total(x, "neuralake_table_version"), 3);
  assertEquals(total(x, "neuralake_table_files"), 2);
  assertEquals(total(x, "neuralake_commit_latency_seconds_count"), 2);
  assertEquals(total(x, "neuralake_commit_latency_seconds_bucket", { le: "0.025" }), 1);
  assertEquals(total(x, "neuralake_visibility_latency_seconds_bucket", { le: "+Inf" }), 2);
  assertEquals(
    total(x, "neuralake_process_resident_memory_bytes", { role_id: "writer-0" }),
    100 * 1048576,
  );
  assert(total(x, "neuralake_process_resident_memory_bytes", { role_id: "orchestrator" }) > 0);
  assertEquals(total(x, "neuralake_heap_used_bytes", { role_id: "writer-0" }), 30 * 1048576);
  assert(total(x, "neuralake_heap_used_bytes", { role_id: "orchestrator" }) > 0);
});

Deno.test("ingest's events are labelled role ingest, and so are kills and restarts of an ingest", async () => {
  const exporter = new PrometheusExporter("file:///t", "orchestrator", "orchestrator");
  const id = "ingest-rig-7";
  exporter.observe(ev(100, {
    role: "ingest",
    role_id: id,
    event: "batch_committed",
    rows: 300,
    version: 1,
    commit_ms: 5,
  }));
  exporter.observe(ev(150, { role: "ingest", role_id: id, event: "commit_conflict", version: 2 }));
  exporter.observe(ev(200, { role: "orchestrator", role_id: id, event: "restart" }));
  const x = parseExposition(await exporter.render());
  assertEquals(total(x, "neuralake_rows_committed_total", { role: "ingest", role_id: id }), 300);
  assertEquals(total(x, "neuralake_rows_committed_total", { role: "writer" }), 0);
  assertEquals(total(x, "neuralake_commit_conflicts_total", { role: "ingest" }), 1);
  assertEquals(total(x, "neuralake_role_restarts_total", { role: "ingest", role_id: id }), 1);
  assertEquals(total(x, "neuralake_role_restarts_total", { role: "orchestrator" }), 0);
});

Deno.test("HealthTracker: an ingest that keeps crashing counts as commits failing, as a writer does", () => {
  const health = new HealthTracker({ commitFailureMs: 30_000, crashLoopCount: 99 });
  health.observe(ev(0, { role: "ingest", role_id: "ingest-a", event: "batch_committed", rows: 1 }));
  health.observe(ev(1_000, { role: "orchestrator", role_id: "ingest-a", event: "role_error" }));
  const sick = health.status(T0 + 40_000);
  assertEquals(sick.healthy, false);
  assert(sick.reasons[0]!.startsWith("commits have failed for 39 s"), sick.reasons[0]);
  // A compactor's crash is not a failing commit of the table's rows.
  const other = new HealthTracker({ commitFailureMs: 30_000, crashLoopCount: 99 });
  other.observe(ev(1_000, { role: "orchestrator", role_id: "compactor-0", event: "role_error" }));
  assertEquals(other.status(T0 + 40_000).healthy, true);
});

Deno.test("HealthTracker: a role that crashes three times in the window is crash-looping", () => {
  const health = new HealthTracker({ crashLoopCount: 3, crashLoopWindowMs: 60_000 });
  for (const t of [0, 10_000, 20_000]) {
    health.observe(ev(t, { role: "compactor", role_id: "compactor-0", event: "role_error" }));
  }
  const sick = health.status(T0 + 25_000);
  assertEquals(sick.healthy, false);
  assert(sick.reasons[0]!.includes("compactor-0 is crash-looping"), sick.reasons[0]);
  // Once the crashes are older than the window, it is healthy again.
  assertEquals(health.status(T0 + 75_000).healthy, true);
});

Deno.test("HealthTracker holds only the crashes within its window, even when /healthz is never asked", () => {
  const health = new HealthTracker({ crashLoopCount: 3, crashLoopWindowMs: 300_000 });
  // A crash every 10 minutes for a week, then three within the window.
  for (let t = 0; t < 604_800_000; t += 600_000) {
    health.observe(ev(t, { role: "vacuum", role_id: "vacuum-0", event: "role_error" }));
  }
  assertEquals(health.retainedCrashes, 1);
  for (const t of [604_800_000, 604_830_000, 604_860_000]) {
    health.observe(ev(t, { role: "vacuum", role_id: "vacuum-0", event: "role_error" }));
  }
  assertEquals(health.retainedCrashes, 3);
  assertEquals(health.status(T0 + 604_860_000).healthy, false);
});

Deno.test("HealthTracker: commits failing past the threshold is unhealthy, until a commit lands", () => {
  const health = new HealthTracker({ commitFailureMs: 30_000 });
  health.observe(ev(0, { role: "writer", role_id: "writer-0", event: "batch_committed", rows: 1 }));
  health.observe(ev(1_000, { role: "writer", role_id: "writer-1", event: "batch_failed" }));
  health.observe(ev(2_000, { role: "writer", role_id: "writer-0", event: "role_error" }));
  assertEquals(health.status(T0 + 20_000).healthy, true, "within the threshold");
  assertEquals(health.status(T0 + 40_000), {
    healthy: false,
    reasons: [
      "commits have failed for 39 s (threshold 30 s) with no batch committed since: " +
      "writer-0, writer-1 failing",
    ],
  });
  health.observe(ev(41_000, { role: "writer", role_id: "writer-0", event: "batch_committed" }));
  assertEquals(health.status(T0 + 90_000), { healthy: true, reasons: [] });
  // A commit forgets who failed before it.
  health.observe(ev(91_000, { role: "writer", role_id: "writer-2", event: "batch_failed" }));
  assertEquals(health.status(T0 + 130_000).reasons, [
    "commits have failed for 39 s (threshold 30 s) with no batch committed since: " +
    "writer-2 failing",
  ]);
});

Deno.test("NEURALAKE_HEALTH_COMMIT_FAILURE sets how long commits may fail, and a bad value is refused by name", () => {
  const env = (value: string | undefined) => (name: string) =>
    name === "NEURALAKE_HEALTH_COMMIT_FAILURE" ? value : undefined;
  assertEquals(healthOptionsFromEnv(env(undefined)), {});
  assertEquals(healthOptionsFromEnv(env("2s")), { commitFailureMs: 2_000 });
  assertEquals(healthOptionsFromEnv(env("5m")), { commitFailureMs: 300_000 });
  assertThrows(
    () => healthOptionsFromEnv(env("soon")),
    'NEURALAKE_HEALTH_COMMIT_FAILURE: Cannot parse duration "soon"',
  );
  assertThrows(
    () => healthOptionsFromEnv(env("0s")),
    "NEURALAKE_HEALTH_COMMIT_FAILURE must be longer than 0",
  );
});

Deno.test("HealthTracker: an ingest that cannot reach Kafka past the threshold is unhealthy, until it can", () => {
  const health = new HealthTracker({ commitFailureMs: 30_000 });
  const down = (t: number, soFar: number) =>
    ev(t, {
      role: "ingest",
      role_id: "ingest-a",
      event: "broker_unreachable",
      total_ms: soFar,
      detail: "Connection to 127.0.0.1:9092 failed.",
    });
  // Reported when the outage starts, then every few seconds while it lasts.
  for (let soFar = 0; soFar <= 35_000; soFar += 5_000) health.observe(down(10_000 + soFar, soFar));
  assertEquals(health.status(T0 + 39_000).healthy, true, "within the threshold");
  const sick = health.status(T0 + 45_000);
  assertEquals(sick, {
    healthy: false,
    reasons: [
      "ingest-a has not reached Kafka for 35 s (threshold 30 s): " +
      "Connection to 127.0.0.1:9092 failed.",
    ],
  });
  health.observe(
    ev(46_000, {
      role: "ingest",
      role_id: "ingest-a",
      event: "broker_reachable",
      total_ms: 36_000,
    }),
  );
  assertEquals(health.status(T0 + 47_000), { healthy: true, reasons: [] });
  // The first report may come late: the outage counts from its start.
  health.observe(down(100_000, 40_000));
  assertEquals(health.status(T0 + 100_000).healthy, false);
});

Deno.test("the endpoint serves /metrics as text 0.0.4 and /healthz as 200 or 503 with the reason", async () => {
  const monitor = new JobMonitor("file:///t", "writer", "writer-0", { crashLoopCount: 1 });
  const server = monitor.serve("127.0.0.1:0");
  try {
    const base = `http://127.0.0.1:${server.port}`;
    monitor.observe(EVENTS[0]!);
    const metrics = await fetch(`${base}/metrics`);
    assertEquals(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    assertEquals(
      total(parseExposition(await metrics.text()), "neuralake_rows_committed_total"),
      500,
    );
    const ok = await fetch(`${base}/healthz`);
    assertEquals([ok.status, await ok.json()], [200, { status: "ok", reasons: [] }]);
    monitor.observe(
      ev(Date.now() - T0, { role: "writer", role_id: "writer-0", event: "role_error" }),
    );
    const sick = await fetch(`${base}/healthz`);
    const body = await sick.json();
    assertEquals([sick.status, body.status], [503, "unhealthy"]);
    // snake_case keys, as every JSON document neuralake prints.
    assertEquals(Object.keys(body), ["status", "reasons"]);
    assert(body.reasons[0].includes("writer-0 is crash-looping"), JSON.stringify(body));
    const missing = await fetch(`${base}/nope`);
    await missing.body?.cancel();
    assertEquals(missing.status, 404);
  } finally {
    await monitor.close();
  }
});

Deno.test("parseHostPort() reads host:port and [v6]:port, and names a bad value", () => {
  assertEquals(parseHostPort("127.0.0.1:9464"), { hostname: "127.0.0.1", port: 9464 });
  assertEquals(parseHostPort("[::1]:0"), { hostname: "::1", port: 0 });
  assertThrows(() => parseHostPort("9464"), 'Invalid --metrics-addr "9464"');
  assertThrows(() => parseHostPort("host:70000"), "expected host:port");
});
