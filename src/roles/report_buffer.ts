/**
 * A role's reports to the orchestrator, posted in batches: a stream writer
 * reports three times per batch (`committing`, `acked`, its
 * `batch_committed` event), and each post to the orchestrator's thread is a
 * structured clone and a wake-up of that thread; together they were 4–5 % of
 * a writer's CPU samples (docs/benchmarks.md). The buffer holds the reports
 * that nothing waits on and sends them with the next one that must go at
 * once, so a writer's batch costs one post.
 *
 * Invariants:
 * - Reports arrive in the order they were sent.
 * - Only `acked` and `event` reports are held, for at most `maxDelayMs`.
 *   Every other report goes at once, with everything held before it:
 *   `committing` must reach the orchestrator before its commit can land,
 *   and `dying`, `fatal` and `stopped` before the role is gone.
 * - A held report lost when the role is killed is what a kill between a
 *   commit and its report loses today: the batch's `committing` went out
 *   before its commit, and the orchestrator settles it from the table's
 *   `txn` (the run ledger), so the verification's counts stay exact.
 */

import type { Report } from "./messages.ts";

/** The longest a held report waits for company. @default 100 */
export const REPORT_HOLD_MS = 100;

/** Whether a report may wait for the next one that goes at once. */
function mayWait(report: Report): boolean {
  return report.type === "acked" || report.type === "event";
}

/**
 * Collects reports and posts them in order, as one array per post.
 *
 * @example
 * ```ts
 * const reports = new ReportBuffer((batch) => self.postMessage(batch));
 * reports.send({ type: "acked", id: "writer-0", seq: 0, rows: 10, version: 1 }); // held
 * reports.send({ type: "committing", id: "writer-0", seq: 1, rows: 10 }); // posts both
 * ```
 */
export class ReportBuffer {
  #held: Report[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #post: (reports: Report[]) => void;
  readonly #maxDelayMs: number;

  constructor(post: (reports: Report[]) => void, options: { maxDelayMs?: number } = {}) {
    this.#post = post;
    this.#maxDelayMs = options.maxDelayMs ?? REPORT_HOLD_MS;
  }

  /** Sends `report`: held if it may wait, else posted with everything held. */
  send(report: Report): void {
    this.#held.push(report);
    if (!mayWait(report)) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#maxDelayMs);
    }
  }

  /** Posts everything held now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#held.length === 0) return;
    const reports = this.#held;
    this.#held = [];
    this.#post(reports);
  }

  /** The number of reports held. */
  get held(): number {
    return this.#held.length;
  }
}
