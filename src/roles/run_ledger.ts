/**
 * The run ledger: which batches of a streaming run are acknowledged, which
 * are in flight (reported as committing, not yet acknowledged) and how many
 * attempts failed, and how in-flight batches are settled against the table
 * after a writer died or the run stopped. Pure: no clock, no I/O, so every
 * crash window can be unit-tested.
 *
 * Its memory does not grow with the run's length: acknowledged batches are
 * kept per writer as ranges of sequences and a digest of their rows
 * (batch_tally.ts), which the end-of-run verification compares with the
 * table's; in flight are only the batches between `committing` and their
 * outcome.
 *
 * Invariants:
 * - A batch is acknowledged only when its writer reported the commit, or
 *   when reconciliation found the batch's `txn` in the table (sequence at or
 *   below the writer's last committed one).
 * - Reconciliation empties a writer's in-flight set: every in-flight batch
 *   becomes acknowledged or unacknowledged, never both, never neither.
 * - Acknowledging a batch twice keeps the first row count (a writer never
 *   commits one sequence twice).
 */

import { BatchTally } from "./batch_tally.ts";

/** Acknowledged batches: writer id -> its batches' sequences and rows. */
export type Acknowledged = ReadonlyMap<string, BatchTally>;

/** How reconciliation settled one in-flight batch. */
export interface Settled {
  writer: string;
  seq: number;
  rows: number;
  /** `acknowledged`: its commit is in the table; `unacknowledged`: it is not. */
  outcome: "acknowledged" | "unacknowledged";
}

/** Counts over the ledger. */
export interface LedgerTotals {
  batchesAcknowledged: number;
  rowsAcknowledged: number;
  batchesPending: number;
  /** Failed commit attempts (the writer retries the sequence). */
  attemptsFailed: number;
  /** Batches settled as not committed. */
  batchesUnacknowledged: number;
}

/**
 * The ledger of one run.
 *
 * @example
 * ```ts
 * const ledger = new RunLedger();
 * ledger.committing("writer-0", 0, 500);
 * ledger.committing("writer-0", 1, 500);
 * ledger.acked("writer-0", 0, 500);
 * // The writer died; its restart found batch 1's txn in the table.
 * ledger.reconcile("writer-0", 1); // [{ seq: 1, outcome: "acknowledged", ... }]
 * ledger.totals().rowsAcknowledged; // 1000
 * ```
 */
export class RunLedger {
  readonly #acked = new Map<string, BatchTally>();
  readonly #pending = new Map<string, Map<number, number>>();
  /** The highest sequence each writer reported as committing. */
  readonly #highest = new Map<string, number>();
  #attemptsFailed = 0;
  #unacknowledged = 0;

  /** A writer is about to commit `seq` with `rows` rows. */
  committing(writer: string, seq: number, rows: number): void {
    mapOf(this.#pending, writer).set(seq, rows);
    if (seq > (this.#highest.get(writer) ?? -1)) this.#highest.set(writer, seq);
  }

  /**
   * A killed writer had announced `seq` before its death (roles/
   * announced_slot.ts): in flight as if it had reported `committing`, unless
   * the ledger already heard of that batch or a later one.
   */
  announced(writer: string, seq: number, rows: number): void {
    if (seq > (this.#highest.get(writer) ?? -1)) this.committing(writer, seq, rows);
  }

  /** A writer's commit of `seq` succeeded. */
  acked(writer: string, seq: number, rows: number): void {
    this.#tally(writer).add(seq, rows);
    this.#pending.get(writer)?.delete(seq);
  }

  /** An attempt to commit `seq` failed; the writer tries the sequence again. */
  failed(writer: string, seq: number): void {
    this.#attemptsFailed++;
    this.#pending.get(writer)?.delete(seq);
  }

  /**
   * Settles a writer's in-flight batches given the highest sequence that the
   * table holds for it (`-1` for none): those at or below it were committed
   * before the writer could say so, the others were not.
   */
  reconcile(writer: string, lastCommittedSeq: number): Settled[] {
    const inFlight = this.#pending.get(writer);
    if (!inFlight) return [];
    const settled: Settled[] = [];
    for (const [seq, rows] of [...inFlight].sort((a, b) => a[0] - b[0])) {
      inFlight.delete(seq);
      if (this.#acked.get(writer)?.seqs.has(seq)) continue;
      if (seq <= lastCommittedSeq) {
        this.#tally(writer).add(seq, rows);
        settled.push({ writer, seq, rows, outcome: "acknowledged" });
      } else {
        this.#unacknowledged++;
        settled.push({ writer, seq, rows, outcome: "unacknowledged" });
      }
    }
    return settled;
  }

  /** The writers that have (or had) batches in the ledger. */
  writers(): string[] {
    return [...new Set([...this.#acked.keys(), ...this.#pending.keys()])];
  }

  /** The acknowledged batches (a live view: do not change it). */
  get acknowledged(): Acknowledged {
    return this.#acked;
  }

  /**
   * Numbers the ledger holds: two per range of acknowledged sequences, one
   * per batch in flight. It stays the same however many batches a run
   * acknowledges, as long as they leave no holes.
   */
  get retained(): number {
    let n = 0;
    for (const tally of this.#acked.values()) n += 2 * tally.seqs.rangeCount;
    for (const perWriter of this.#pending.values()) n += perWriter.size;
    return n;
  }

  #tally(writer: string): BatchTally {
    let tally = this.#acked.get(writer);
    if (!tally) {
      tally = new BatchTally();
      this.#acked.set(writer, tally);
    }
    return tally;
  }

  /** Counts for the results and the progress line. */
  totals(): LedgerTotals {
    let batches = 0;
    let rows = 0;
    for (const tally of this.#acked.values()) {
      batches += tally.seqs.size;
      rows += tally.rows;
    }
    let pending = 0;
    for (const perWriter of this.#pending.values()) pending += perWriter.size;
    return {
      batchesAcknowledged: batches,
      rowsAcknowledged: rows,
      batchesPending: pending,
      attemptsFailed: this.#attemptsFailed,
      batchesUnacknowledged: this.#unacknowledged,
    };
  }
}

function mapOf(outer: Map<string, Map<number, number>>, key: string): Map<number, number> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
