/**
 * The live monitoring of one long-running job: every metrics event feeds
 * the Prometheus exporter and the health tracker, and `--metrics-addr`
 * serves both. In `stream`, the roles' events (from workers or child
 * processes) all reach the orchestrator, so one endpoint covers the run.
 */

import type { MetricsEvent, Role } from "./events.ts";
import { type HealthOptions, HealthTracker } from "./health.ts";
import { PrometheusExporter } from "./prometheus.ts";
import { type MetricsServer, parseHostPort, serveMetrics } from "./server.ts";

/** Metrics and health of one job, and their endpoint when asked for. */
export class JobMonitor {
  readonly exporter: PrometheusExporter;
  readonly health: HealthTracker;
  #server: MetricsServer | undefined;

  constructor(table: string, role: Role, roleId: string, health: HealthOptions = {}) {
    this.exporter = new PrometheusExporter(table, role, roleId);
    this.health = new HealthTracker(health);
  }

  /** Learns from one event. */
  observe(event: MetricsEvent): void {
    this.exporter.observe(event);
    this.health.observe(event);
  }

  /** Starts serving on `address` (`host:port`); resolves the address bound. */
  serve(address: string): MetricsServer {
    this.#server = serveMetrics(parseHostPort(address), {
      metrics: () => this.exporter.render(),
      health: () => this.health.status(Date.now()),
    });
    return this.#server;
  }

  /** Stops serving, if it was. */
  async close(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
  }
}
