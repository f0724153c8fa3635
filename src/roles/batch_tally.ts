/**
 * A writer's batches in memory that does not grow with their number: the
 * sequences as sorted, disjoint ranges (a healthy writer's acknowledged
 * batches are one range, 0..n), and the row count of each batch folded into
 * a digest that two tallies compare. A stream of a week commits millions of
 * batches per writer; a map of every sequence to its rows held all of them
 * until the end of the run, and so did the verification's map of the
 * batches it found.
 *
 * The digest is two sums modulo 2^32 of `rows × w(seq)`, each `w` an odd
 * 32-bit weight drawn from the sequence by a different hash. It is additive,
 * so a batch whose rows come in several pieces (row groups, a partition's
 * files) adds up to the batch, in any order. Two tallies of the same
 * sequences have equal digests when every batch has the same rows in both;
 * one batch with other rows always changes both sums (an odd weight times a
 * difference below 2^31 is never 0 modulo 2^32), and several differences
 * cancel in both only by a chance of about 2^-64.
 *
 * Invariants:
 * - `SeqRanges` holds each sequence at most once, in ranges that neither
 *   overlap nor touch; its size is the number of sequences held.
 * - `BatchTally.add` counts a sequence once: a second `add` of a sequence it
 *   holds changes nothing and returns false.
 */

import { fmix32 } from "../sources/prng.ts";

/** A set of non-negative integer sequences, as sorted disjoint ranges. */
export class SeqRanges {
  /** Range starts and ends (inclusive), ascending; `#lo[i + 1] > #hi[i] + 1`. */
  #lo: number[] = [];
  #hi: number[] = [];
  #size = 0;

  /** True if `seq` is held. */
  has(seq: number): boolean {
    const i = this.#rangeAtOrBefore(seq);
    return i >= 0 && seq <= this.#hi[i]!;
  }

  /** Adds `seq`; false if it was already held. */
  add(seq: number): boolean {
    const n = this.#lo.length;
    // The common case: the next sequence after the last.
    if (n > 0 && seq === this.#hi[n - 1]! + 1) {
      this.#hi[n - 1] = seq;
      this.#size++;
      return true;
    }
    const i = this.#rangeAtOrBefore(seq);
    if (i >= 0 && seq <= this.#hi[i]!) return false;
    const joinsLeft = i >= 0 && this.#hi[i]! + 1 === seq;
    const joinsRight = i + 1 < n && this.#lo[i + 1]! - 1 === seq;
    if (joinsLeft && joinsRight) {
      this.#hi[i] = this.#hi[i + 1]!;
      this.#lo.splice(i + 1, 1);
      this.#hi.splice(i + 1, 1);
    } else if (joinsLeft) this.#hi[i] = seq;
    else if (joinsRight) this.#lo[i + 1] = seq;
    else {
      this.#lo.splice(i + 1, 0, seq);
      this.#hi.splice(i + 1, 0, seq);
    }
    this.#size++;
    return true;
  }

  /** How many sequences are held. */
  get size(): number {
    return this.#size;
  }

  /** How many ranges hold them (the memory this set keeps). */
  get rangeCount(): number {
    return this.#lo.length;
  }

  /** The ranges, ascending, as `[first, last]`. */
  *ranges(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.#lo.length; i++) yield [this.#lo[i]!, this.#hi[i]!];
  }

  /** The ranges of sequences held here and not in `other`, ascending. */
  without(other: SeqRanges): [number, number][] {
    const out: [number, number][] = [];
    const theirs = [...other.ranges()];
    let j = 0;
    for (const [lo, hi] of this.ranges()) {
      let from = lo;
      while (j < theirs.length && theirs[j]![1] < from) j++;
      let k = j;
      while (from <= hi) {
        const next = theirs[k];
        if (next === undefined || next[0] > hi) {
          out.push([from, hi]);
          break;
        }
        if (next[0] > from) out.push([from, next[0] - 1]);
        from = Math.max(from, next[1] + 1);
        k++;
      }
    }
    return out;
  }

  /** The index of the last range starting at or before `seq`, or -1. */
  #rangeAtOrBefore(seq: number): number {
    let lo = 0;
    let hi = this.#lo.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#lo[mid]! <= seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }
}

/**
 * One writer's batches: which sequences, how many rows in all, and a digest
 * of each batch's rows.
 *
 * @example
 * ```ts
 * const acked = new BatchTally();
 * acked.add(0, 500);
 * acked.add(1, 480);
 * const found = new BatchTally();
 * found.addRows(1, 200);
 * found.addRows(0, 500);
 * found.addRows(1, 280); // batch 1 in two pieces
 * acked.sameRows(found); // true
 * ```
 */
export class BatchTally {
  readonly seqs = new SeqRanges();
  rows = 0;
  #a = 0;
  #b = 0;

  /** Adds batch `seq` of `rows` rows, once: false (and nothing changed) if `seq` was held. */
  add(seq: number, rows: number): boolean {
    if (!this.seqs.add(seq)) return false;
    this.#fold(seq, rows);
    return true;
  }

  /** Adds `rows` rows to batch `seq`, held already or not (a piece of a batch). */
  addRows(seq: number, rows: number): void {
    this.seqs.add(seq);
    this.#fold(seq, rows);
  }

  /** True when both tallies have the same rows in all and, by the digest, per batch. */
  sameRows(other: BatchTally): boolean {
    return this.rows === other.rows && this.#a === other.#a && this.#b === other.#b;
  }

  #fold(seq: number, rows: number): void {
    this.rows += rows;
    this.#a = (this.#a + Math.imul(rows, weight(seq, 0x9e3779b9))) >>> 0;
    this.#b = (this.#b + Math.imul(rows, weight(seq, 0x85ebca6b))) >>> 0;
  }
}

/** An odd 32-bit weight of `seq` (up to 2^53), by murmur3's finalizer over its two words. */
function weight(seq: number, salt: number): number {
  const low = seq >>> 0;
  const high = Math.floor(seq / 4294967296) >>> 0;
  return (fmix32(low ^ fmix32(high ^ salt)) | 1) >>> 0;
}
