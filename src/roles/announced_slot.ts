/**
 * The batches a writer in a worker is about to commit, in shared memory: the
 * write-ahead of its `committing` reports that survives the worker.
 *
 * Why: a worker posts `committing` before each commit, so that the run can
 * settle a batch whose writer died between commit and acknowledgement. But
 * `terminate()` drops the posts a worker made that its host has not yet
 * received, and a kill may land a few milliseconds after the commit: the
 * batch is then in the table and unknown to the run (a chaos run's
 * verification found "writer-2 batch 438" so, once in three). Words of
 * shared memory written before the post are still there after the kill.
 * The last `ANNOUNCED_KEPT` batches are kept, not only the last: a host
 * whose thread was busy for longer than a batch has more than one post of
 * the writer still undelivered when it kills it. Child processes need none:
 * what they wrote to their pipe before a SIGKILL is read all the same.
 *
 * Invariants:
 * - Batch `seq` lives in entry `seq % ANNOUNCED_KEPT`. The writer stores -1
 *   as its sequence, then the rows, then the sequence; a read takes an
 *   entry only if its sequence is the same before and after reading the
 *   rows, so it never pairs one batch's sequence with another's rows, even
 *   while a terminated worker still runs to its next event-loop turn.
 * - A slot never written reads as no batch.
 */

/** How many of the latest announced batches a slot keeps. */
export const ANNOUNCED_KEPT = 64;

/** A new slot, holding no batch. */
export function newAnnouncedSlot(): SharedArrayBuffer {
  const slot = new SharedArrayBuffer(2 * ANNOUNCED_KEPT * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(slot).fill(-1);
  return slot;
}

/** Records that the writer is about to commit batch `seq` of `rows` rows. */
export function announce(slot: SharedArrayBuffer, seq: number, rows: number): void {
  const words = new Int32Array(slot);
  const at = 2 * (seq % ANNOUNCED_KEPT);
  Atomics.store(words, at, -1); // no batch while the entry changes
  Atomics.store(words, at + 1, rows);
  Atomics.store(words, at, seq);
}

/** The batches announced in `slot` that it still keeps, oldest first. */
export function recentAnnounced(slot: SharedArrayBuffer): { seq: number; rows: number }[] {
  const words = new Int32Array(slot);
  const out: { seq: number; rows: number }[] = [];
  for (let at = 0; at < words.length; at += 2) {
    const seq = Atomics.load(words, at);
    const rows = Atomics.load(words, at + 1);
    if (seq >= 0 && Atomics.load(words, at) === seq) out.push({ seq, rows });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** The last batch announced in `slot`, or undefined if none was. */
export function lastAnnounced(slot: SharedArrayBuffer): { seq: number; rows: number } | undefined {
  return recentAnnounced(slot).at(-1);
}
