/**
 * When a writer cuts a batch: the flush rule as one named predicate, after
 * kafka-delta-ingest's `should_complete_file` (a buffer is complete when it
 * is big enough or old enough). A writer's rows accrue at its share of the
 * run's rate (all at once when the rate is 0, unlimited), so a batch is
 * complete when it holds `batchRows` rows or its window is `batchIntervalMs`
 * old, whichever comes first.
 *
 * Pure apart from the clock the caller passes in; rows owed but not yet cut
 * (the fraction of a row, or rows beyond `batchRows`) carry over to the next
 * window, so the long-run rate is exact.
 */

/** The limits of a writer's batches. */
export interface BatchLimits {
  /** The most rows in a batch. */
  batchRows: number;
  /** The longest a batch stays open, in ms. */
  batchIntervalMs: number;
  /** This writer's rows per second, or 0 for as fast as possible. */
  ratePerSecond: number;
}

/** The open batch of one writer. */
export class BatchWindow {
  readonly limits: BatchLimits;
  #openedAt: number;
  #carry = 0;

  constructor(limits: BatchLimits, now: number) {
    this.limits = limits;
    this.#openedAt = now;
  }

  /** When the open batch's first row was due. */
  get openedAt(): number {
    return this.#openedAt;
  }

  /** Rows the open batch holds at `now` (before the `batchRows` cap). */
  rowsDue(now: number): number {
    if (this.limits.ratePerSecond <= 0) return this.limits.batchRows;
    return this.limits.ratePerSecond * (now - this.#openedAt) / 1000 + this.#carry;
  }

  /**
   * The flush rule: the batch is full, or its window has run out. `rows`:
   * the rows it holds, where they come from outside (Kafka ingest) rather
   * than at the writer's rate.
   */
  shouldComplete(now: number, rows: number = this.rowsDue(now)): boolean {
    return rows >= this.limits.batchRows || now - this.#openedAt >= this.limits.batchIntervalMs;
  }

  /** How long until `shouldComplete` turns true, in ms (0 if it is); `rows` as there. */
  msUntilComplete(now: number, rows?: number): number {
    if (this.shouldComplete(now, rows)) return 0;
    const byInterval = this.#openedAt + this.limits.batchIntervalMs - now;
    if (rows !== undefined) return Math.max(1, byInterval);
    const byRows = (this.limits.batchRows - this.rowsDue(now)) / this.limits.ratePerSecond * 1000;
    return Math.max(1, Math.min(byInterval, Math.ceil(byRows)));
  }

  /**
   * Cuts the batch at `now`: its rows (whole rows, at most `batchRows`; 0
   * means nothing is due yet) and opens the next window.
   */
  complete(now: number): number {
    const due = this.rowsDue(now);
    const rows = Math.min(this.limits.batchRows, Math.floor(due));
    this.#carry = this.limits.ratePerSecond > 0 ? due - rows : 0;
    this.#openedAt = now;
    return rows;
  }
}
