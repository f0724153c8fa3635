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
import { parseDuration } from "../util/units.ts";

/** The variable that sets how long commits may fail before `/healthz` says 503. */
export const HEALTH_COMMIT_FAILURE_ENV = "NEURALAKE_HEALTH_COMMIT_FAILURE";

/**
 * Health thresholds from the environment: `NEURALAKE_HEALTH_COMMIT_FAILURE`
 * (a duration such as `30s`; default 60s) is how long commits may fail.
 */
export function healthOptionsFromEnv(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): HealthOptions {
  const text = env(HEALTH_COMMIT_FAILURE_ENV);
  if (text === undefined || text.trim() === "") return {};
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw new RangeError(`${HEALTH_COMMIT_FAILURE_ENV}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!(ms > 0)) {
    throw new RangeError(`${HEALTH_COMMIT_FAILURE_ENV} must be longer than 0, got "${text}"`);
  }
  return { commitFailureMs: ms };
}

/** Metrics and health of one job, and their endpoint when asked for. */
export class JobMonitor {
  readonly exporter: PrometheusExporter;
  readonly health: HealthTracker;
  #server: MetricsServer | undefined;

  /** `health` defaults to the thresholds of the environment (`healthOptionsFromEnv`). */
  constructor(
    table: string,
    role: Role,
    roleId: string,
    health: HealthOptions = healthOptionsFromEnv(),
  ) {
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
