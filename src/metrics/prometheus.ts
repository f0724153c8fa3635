/**
 * The Prometheus view of a running job: metrics events in, the text
 * exposition format 0.0.4 out (prom-client renders it). Counters, the two
 * latency histograms and the table gauges are updated as events arrive, so
 * a scrape costs no more than rendering.
 *
 * Every series is labelled by `role` (writer, ingest, compactor, vacuum,
 * orchestrator), `role_id` (the instance, such as `writer-0`) and `table`
 * (its URI), except the table gauges, which are labelled by `table` only.
 * Counter names end in `_total`, and latencies are in seconds, as
 * Prometheus asks.
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { type MetricsEvent, type Role, subjectRole } from "./events.ts";

/** The content type of the exposition format served at `/metrics`. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const LABELS = ["role", "role_id", "table"] as const;
const COMMIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const VISIBILITY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const MiB = 1024 * 1024;

/**
 * The metrics of one job against one table.
 *
 * @example
 * ```ts
 * const exporter = new PrometheusExporter("file:///data/t", "orchestrator", "orchestrator");
 * exporter.observe({ t_ms: 5, time: new Date().toISOString(), role: "writer",
 *   role_id: "writer-0", event: "batch_committed", rows: 500, commit_ms: 12 });
 * await exporter.render(); // "# HELP neuralake_rows_committed_total ..."
 * ```
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  readonly #rows: Counter<typeof LABELS[number]>;
  readonly #commits: Counter<typeof LABELS[number]>;
  readonly #conflicts: Counter<typeof LABELS[number]>;
  readonly #failed: Counter<typeof LABELS[number]>;
  readonly #compacted: Counter<typeof LABELS[number]>;
  readonly #vacuumed: Counter<typeof LABELS[number]>;
  readonly #restarts: Counter<typeof LABELS[number]>;
  readonly #crashes: Counter<typeof LABELS[number]>;
  readonly #faults: Counter<typeof LABELS[number]>;
  readonly #commitLatency: Histogram<typeof LABELS[number]>;
  readonly #visibility: Histogram<typeof LABELS[number]>;
  readonly #version: Gauge<"table">;
  readonly #files: Gauge<"table">;
  readonly #rss: Gauge<typeof LABELS[number]>;
  readonly #heap: Gauge<typeof LABELS[number]>;

  /**
   * `table` labels every series; `role` and `roleId` name this process,
   * whose own resident memory is read at each scrape.
   */
  constructor(readonly table: string, readonly role: Role, readonly roleId: string) {
    const registers = [this.registry];
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: LABELS, registers });
    this.#rows = counter(
      "neuralake_rows_committed_total",
      "Rows of committed (acknowledged) writer batches",
    );
    this.#commits = counter(
      "neuralake_commits_total",
      "Successful commits: writer batches and compactions",
    );
    this.#conflicts = counter(
      "neuralake_commit_conflicts_total",
      "Commit attempts that lost their version to another writer",
    );
    this.#failed = counter(
      "neuralake_batches_failed_total",
      "Writer batches whose commit failed (the sequence is tried again)",
    );
    this.#compacted = counter(
      "neuralake_files_compacted_total",
      "Small files rewritten into larger ones by compaction",
    );
    this.#vacuumed = counter("neuralake_files_vacuumed_total", "Data files deleted by vacuum");
    this.#restarts = counter(
      "neuralake_role_restarts_total",
      "Roles started again after they died or were killed",
    );
    this.#crashes = counter(
      "neuralake_role_crashes_total",
      "Roles that failed, exited unasked or did not stop when asked",
    );
    this.#faults = counter(
      "neuralake_chaos_faults_total",
      "Storage faults and partitions injected by --chaos",
    );
    this.#commitLatency = new Histogram({
      name: "neuralake_commit_latency_seconds",
      help: "Time from a batch's first commit attempt until its commit was created",
      labelNames: LABELS,
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.#visibility = new Histogram({
      name: "neuralake_visibility_latency_seconds",
      help: "Time from a batch's first generated row until its commit was visible",
      labelNames: LABELS,
      buckets: VISIBILITY_BUCKETS,
      registers,
    });
    this.#version = new Gauge({
      name: "neuralake_table_version",
      help: "The latest table version seen",
      labelNames: ["table"],
      registers,
    });
    this.#files = new Gauge({
      name: "neuralake_table_files",
      help: "Live data files of the latest version seen",
      labelNames: ["table"],
      registers,
    });
    const own = { role, role_id: roleId, table };
    this.#rss = new Gauge({
      name: "neuralake_process_resident_memory_bytes",
      help: "Resident memory of each role's process (roles in workers share one)",
      labelNames: LABELS,
      registers,
      collect() {
        this.set(own, Deno.memoryUsage().rss);
      },
    });
    this.#heap = new Gauge({
      name: "neuralake_heap_used_bytes",
      help: "V8 heap in use of each role's isolate (its worker's, or its process's)",
      labelNames: LABELS,
      registers,
      collect() {
        this.set(own, Deno.memoryUsage().heapUsed);
      },
    });
  }

  /** Updates the metrics with one event. */
  observe(e: MetricsEvent): void {
    const labels = { role: subjectRole(e), role_id: e.role_id, table: this.table };
    switch (e.event) {
      case "batch_committed":
        this.#rows.inc(labels, finite(e.rows));
        this.#commits.inc(labels);
        if (isFinite(e.commit_ms)) this.#commitLatency.observe(labels, e.commit_ms! / 1000);
        if (isFinite(e.visibility_ms)) this.#visibility.observe(labels, e.visibility_ms! / 1000);
        this.#seenVersion(e.version);
        break;
      case "compaction":
        if (e.version !== undefined) this.#commits.inc(labels);
        this.#compacted.inc(labels, finite(e.files_in));
        this.#seenVersion(e.version);
        break;
      case "commit_conflict":
      case "compaction_conflict":
        this.#conflicts.inc(labels);
        break;
      case "batch_failed":
        this.#failed.inc(labels);
        break;
      case "vacuum":
        this.#vacuumed.inc(labels, finite(e.files_deleted));
        break;
      case "restart":
        this.#restarts.inc(labels);
        break;
      case "role_error":
        this.#crashes.inc(labels);
        break;
      case "fault":
        this.#faults.inc(labels);
        break;
      case "table_state":
        this.#seenVersion(e.version);
        if (isFinite(e.files_total)) this.#files.set({ table: this.table }, e.files_total!);
        break;
      default:
        break;
    }
    if (isFinite(e.rss_mb) && e.role_id !== this.roleId) this.#rss.set(labels, e.rss_mb! * MiB);
    if (isFinite(e.heap_mb) && e.role_id !== this.roleId) this.#heap.set(labels, e.heap_mb! * MiB);
  }

  /** The exposition text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  #versionSeen = -1;

  #seenVersion(version: number | bigint | undefined): void {
    if (version === undefined) return;
    const v = Number(version);
    if (v > this.#versionSeen) {
      this.#versionSeen = v;
      this.#version.set({ table: this.table }, v);
    }
  }
}

function isFinite(value: number | undefined): boolean {
  return value !== undefined && Number.isFinite(value);
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}
