/**
 * The batch a writer in a worker is about to commit, in shared memory: the
 * write-ahead of its `committing` report that survives the worker.
 *
 * Why: a worker posts `committing` before each commit, so that the run can
 * settle a batch whose writer died between commit and acknowledgement. But
 * `terminate()` drops the posts a worker made that its host has not yet
 * received, and a kill may land a few milliseconds after the commit: the
 * batch is then in the table and unknown to the run (a chaos run's
 * verification found "writer-2 batch 438" so, once in three). A word of
 * shared memory written before the post is still there after the kill.
 * Child processes need none: what they wrote to their pipe before a SIGKILL
 * is read all the same.
 *
 * Invariants:
 * - The writer stores the rows, then the sequence, and bumps a counter
 *   around both; a read retries while the counter shows a store in progress
 *   or changed under it, so a read never pairs one batch's sequence with
 *   another's rows.
 * - A slot never written reads as undefined.
 */

const COUNTER = 0;
const SEQ = 1;
const ROWS = 2;

/** A new slot, holding no batch. */
export function newAnnouncedSlot(): SharedArrayBuffer {
  const slot = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(slot), SEQ, -1);
  return slot;
}

/** Records that the writer is about to commit batch `seq` of `rows` rows. */
export function announce(slot: SharedArrayBuffer, seq: number, rows: number): void {
  const words = new Int32Array(slot);
  Atomics.add(words, COUNTER, 1); // odd: a store in progress
  Atomics.store(words, ROWS, rows);
  Atomics.store(words, SEQ, seq);
  Atomics.add(words, COUNTER, 1);
}

/** The last batch announced in `slot`, or undefined if none was. */
export function lastAnnounced(slot: SharedArrayBuffer): { seq: number; rows: number } | undefined {
  const words = new Int32Array(slot);
  for (;;) {
    const before = Atomics.load(words, COUNTER);
    const seq = Atomics.load(words, SEQ);
    const rows = Atomics.load(words, ROWS);
    // A killed worker stops mid-store at worst once; its counter stays odd.
    if (before % 2 === 1) return undefined;
    if (Atomics.load(words, COUNTER) !== before) continue;
    return seq < 0 ? undefined : { seq, rows };
  }
}
