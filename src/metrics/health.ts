/**
 * The health of a running job, as `/healthz` reports it: healthy unless a
 * role is crash-looping or commits have been failing for longer than a
 * threshold. Pure: it learns from metrics events and judges at a time it is
 * given, so each rule is unit-tested with an injected clock.
 *
 * Rules:
 * - crash-looping: one role crashed (`role_error`) at least `crashLoopCount`
 *   times within the last `crashLoopWindowMs`;
 * - commits failing: a batch of a writer or an ingest failed, or one of
 *   them crashed, no batch committed since, and the first such failure is
 *   older than `commitFailureMs`; the reason names the roles that failed
 *   since;
 * - broker unreachable: an ingest has reported Kafka unreachable
 *   (`broker_unreachable`), not reachable again since, for longer than
 *   `commitFailureMs` (no batch can commit meanwhile); the reason names the
 *   ingest and its last error.
 */

import { isBatchRole, type MetricsEvent } from "./events.ts";

/** Thresholds of the health rules. */
export interface HealthOptions {
  /** Crashes of one role that make a crash loop. @default 3 */
  crashLoopCount?: number;
  /** The window in which they count, in ms. @default 300_000 */
  crashLoopWindowMs?: number;
  /** How long commits may fail before the job is unhealthy, in ms. @default 60_000 */
  commitFailureMs?: number;
}

/** What `/healthz` answers. */
export interface HealthStatus {
  healthy: boolean;
  /** Why the job is unhealthy; empty when healthy. */
  reasons: string[];
}

/**
 * Tracks health from events.
 *
 * @example
 * ```ts
 * const health = new HealthTracker({ crashLoopCount: 2 });
 * health.status(Date.now()); // { healthy: true, reasons: [] }
 * ```
 */
export class HealthTracker {
  readonly #crashes = new Map<string, number[]>();
  #lastCommit = -Infinity;
  #failingSince: number | undefined;
  /** The roles whose batches failed (or that crashed) since `#failingSince`. */
  readonly #failingRoles = new Set<string>();
  /** Per ingest whose broker is unreachable: since when, and the last error. */
  readonly #outages = new Map<string, { since: number; error: string }>();
  readonly #count: number;
  readonly #window: number;
  readonly #commitFailureMs: number;

  constructor(options: HealthOptions = {}) {
    this.#count = options.crashLoopCount ?? 3;
    this.#window = options.crashLoopWindowMs ?? 300_000;
    this.#commitFailureMs = options.commitFailureMs ?? 60_000;
  }

  /** Learns from one event; `at` is its epoch time in ms. */
  observe(e: MetricsEvent, at: number = Date.parse(e.time)): void {
    switch (e.event) {
      case "batch_committed":
        this.#lastCommit = Math.max(this.#lastCommit, at);
        if (this.#failingSince !== undefined && at >= this.#failingSince) {
          this.#failingSince = undefined;
          this.#failingRoles.clear();
        }
        break;
      case "batch_failed":
        this.#failing(e.role_id, at);
        break;
      case "broker_unreachable": {
        const since = at - Math.max(0, e.total_ms ?? 0);
        const known = this.#outages.get(e.role_id);
        this.#outages.set(e.role_id, {
          since: Math.min(known?.since ?? since, since),
          error: e.detail ?? "",
        });
        break;
      }
      case "broker_reachable":
        this.#outages.delete(e.role_id);
        break;
      case "restart":
        // A new process of that role reports its own outage, if any.
        this.#outages.delete(e.role_id);
        break;
      case "role_error": {
        // Only the crashes within the window count: older ones are dropped
        // here too, not only when /healthz is asked, so a job that crashes
        // now and then for a week and is never scraped holds a few times.
        const times = (this.#crashes.get(e.role_id) ?? []).filter((t) => at - t <= this.#window);
        times.push(at);
        this.#crashes.set(e.role_id, times);
        if (isBatchRole(e)) this.#failing(e.role_id, at);
        break;
      }
      default:
        break;
    }
  }

  /** Crash times held, over all roles (at most those within the window). */
  get retainedCrashes(): number {
    let n = 0;
    for (const times of this.#crashes.values()) n += times.length;
    return n;
  }

  /** The health at epoch time `now`. */
  status(now: number): HealthStatus {
    const reasons: string[] = [];
    for (const [id, times] of this.#crashes) {
      const recent = times.filter((t) => now - t <= this.#window);
      this.#crashes.set(id, recent);
      if (recent.length >= this.#count) {
        reasons.push(
          `${id} is crash-looping: ${recent.length} crashes in the last ${
            Math.round(this.#window / 1000)
          } s`,
        );
      }
    }
    if (this.#failingSince !== undefined && now - this.#failingSince > this.#commitFailureMs) {
      reasons.push(
        `commits have failed for ${Math.round((now - this.#failingSince) / 1000)} s (threshold ${
          Math.round(this.#commitFailureMs / 1000)
        } s) with no batch committed since: ${[...this.#failingRoles].sort().join(", ")} failing`,
      );
    }
    for (const [id, outage] of [...this.#outages].sort(([a], [b]) => a.localeCompare(b))) {
      if (now - outage.since <= this.#commitFailureMs) continue;
      reasons.push(
        `${id} has not reached Kafka for ${Math.round((now - outage.since) / 1000)} s ` +
          `(threshold ${Math.round(this.#commitFailureMs / 1000)} s)${
            outage.error ? `: ${outage.error}` : ""
          }`,
      );
    }
    return { healthy: reasons.length === 0, reasons };
  }

  #failing(roleId: string, at: number): void {
    if (at < this.#lastCommit) return;
    this.#failingSince ??= at;
    this.#failingRoles.add(roleId);
  }
}
