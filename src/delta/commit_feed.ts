/**
 * Commits that this process made to one table, shared between the
 * committers that run in it (Deno workers included, through one
 * `SharedArrayBuffer`), so that a committer learns the head of the log
 * without asking the store.
 *
 * Why: a writer of a stream reads the table once and then only knows its
 * own commits, so on a table with other writers its first put after every
 * batch lands on a version taken since, and every commit costs a lost race:
 * a conditional PUT refused, a round of GETs for the winners, a second PUT.
 * On MinIO with 3 writers at 1,024,000 rows/s (2026-12-01) that was 86 % of
 * the commits. The committers of one stream job are in one process; each
 * publishes the bytes of every version it created, so the others judge those
 * winners from memory and put at the head at once.
 *
 * Why shared memory and not messages: a feed used to post every commit and
 * every claim on a `BroadcastChannel`, and every listener (the other
 * writers, the compactor, vacuum) woke up and deserialized each one, needed
 * or not: one post of a 2 KB commit with 4 listeners cost ~315 µs of the
 * process's CPU, 4–7 % of a writer's samples (docs/benchmarks.md). Now a
 * commit is written once into a ring of bytes that every feed of the table
 * maps, and read (copied and parsed) only by a committer that needs that
 * version; nobody is woken.
 *
 * Invariants:
 * - Only versions whose put-if-absent this process saw succeed are
 *   published, with the exact bytes put: a version's bytes never change once
 *   created, so a known commit is the commit a GET would return. A version
 *   is published once its key is taken, which on local disk is before the
 *   directory flush that makes it durable (delta/transaction.ts): readers in
 *   other processes see it from that moment too, and a committer that builds
 *   on it says `created` only after flushing the same directory itself.
 * - A read returns those exact bytes or nothing: a slot is published under a
 *   sequence number (odd while it changes) and read between two loads of it;
 *   the bytes are copied out and kept only if no writer has reserved the
 *   ring past them since (the ring's cursor only grows, and a writer
 *   reserves before it writes) and their checksum matches the slot's. A
 *   writer killed halfway leaves a slot that reads as unknown.
 * - The memory is named after the table's URI and its metadata id, so two
 *   tables, or a table deleted and created again at the same URI, never
 *   share commits.
 * - A committer about to put a version claims it; another committer of this
 *   process that would put the same version waits for the claimant's
 *   outcome (at most its own `claimWaitMs` from the claim) instead of losing
 *   a race to it. Two claims that cross still both put, and one loses as
 *   before: a claim only orders, the store's put-if-absent decides.
 * - Missing versions are normal (another process, a version overwritten in
 *   the ring, a commit too large for it): the commit then loses the race and
 *   reads the winners from the store as before. The feed only ever saves
 *   requests.
 */

import { type Action, parseCommit } from "./actions.ts";
import { commitKey } from "./log_path.ts";

/** Commits known without reading them from the store. */
export interface KnownCommits {
  /** The actions of `version`, if known. */
  get(version: number): Action[] | undefined;
  /** Records `version`, just created with exactly `body`. */
  add(version: number, body: Uint8Array): void;
  /**
   * Waits while another committer of this process is putting `version` (up
   * to a bound), then announces that this one puts it. False if `version`
   * became known while waiting: the caller moves past it instead.
   */
  claim?(version: number): Promise<boolean>;
  /** This committer's put at `version`, claimed, did not create it. */
  release?(version: number): void;
}

/**
 * The memory behind the feeds of one table, to hand to a worker (it is
 * shared, not copied, by `postMessage`) so that its feeds join this
 * process's.
 */
export interface SharedFeed {
  /** The table's URI and metadata id. */
  readonly key: string;
  readonly buffer: SharedArrayBuffer;
}

/** Options of a `CommitFeed`. */
export interface CommitFeedOptions {
  /**
   * Versions remembered (slots; version v lives in slot v mod this). Only
   * the first feed of a table in a process sets it. @default 1024
   */
  limit?: number;
  /** Bytes of commits remembered, likewise. @default 2 MiB */
  ringBytes?: number;
  /** The longest wait behind another committer's claim, in ms. @default 1000 */
  claimWaitMs?: number;
  /** The memory of another thread's feed of this table, to join it. */
  shared?: SharedFeed | undefined;
}

const DEFAULT_LIMIT = 1024;
const DEFAULT_RING_BYTES = 2 * 1024 * 1024;
/**
 * The longest wait behind another committer's claim: a claimant that died
 * holds no one up for longer.
 */
const DEFAULT_CLAIM_WAIT_MS = 1000;
/** How often a committer behind another's claim looks whether it ended, in ms. */
const CLAIM_POLL_MS = 1;
/** A commit larger than this share of the ring is not published. */
const LARGEST_SHARE = 4;

const MAGIC = 0x4e4c4b46;
/** Int32 words per slot: sequence, version, length, checksum. */
const SLOT_WORDS = 4;
/** Header: magic, slots, ring bytes, unused (Int32 x 4), then the cursor (BigInt64). */
const HEADER_BYTES = 24;

/** The feeds' memory of each table in this thread, by key, with how many feeds use it. */
const memories = new Map<string, { memory: FeedMemory; users: number }>();

/**
 * Known commits of one table, shared with every `CommitFeed` of the same
 * table in this thread, and in other threads given its `shared` memory.
 * Close it when done (`using` closes it however the scope ends), so that the
 * memory of a table no feed uses any more is let go.
 *
 * @example
 * ```ts
 * using feed = new CommitFeed(store.uri, snapshot.metadata.id);
 * await commit(store, actions, intent, description, { known: feed });
 * ```
 */
export class CommitFeed implements KnownCommits {
  readonly #key: string;
  readonly #memory: FeedMemory;
  readonly #claimWaitMs: number;
  #closed = false;

  constructor(tableUri: string, tableId: string, options: CommitFeedOptions = {}) {
    this.#key = `neuralake-commits ${tableUri} ${tableId}`;
    this.#claimWaitMs = options.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS;
    let entry = memories.get(this.#key);
    if (!entry) {
      const shared = options.shared?.key === this.#key ? options.shared : undefined;
      const memory = shared ? new FeedMemory(shared.buffer) : FeedMemory.create(
        options.limit ?? DEFAULT_LIMIT,
        options.ringBytes ?? DEFAULT_RING_BYTES,
      );
      entry = { memory, users: 0 };
      memories.set(this.#key, entry);
    }
    entry.users++;
    this.#memory = entry.memory;
  }

  /** This feed's memory, for a worker's feeds of the same table to join. */
  get shared(): SharedFeed {
    return { key: this.#key, buffer: this.#memory.buffer };
  }

  get(version: number): Action[] | undefined {
    const bytes = this.#memory.read(version);
    return bytes && parseCommit(new TextDecoder().decode(bytes), commitKey(version));
  }

  add(version: number, body: Uint8Array): void {
    this.#memory.write(version, body);
    this.#memory.endClaim(version);
  }

  async claim(version: number): Promise<boolean> {
    for (;;) {
      if (this.#memory.read(version)) return false;
      const wait = this.#memory.tryClaim(version, this.#claimWaitMs);
      if (wait <= 0) return true;
      await this.#memory.waitForClaim(version, wait);
    }
  }

  release(version: number): void {
    this.#memory.endClaim(version);
  }

  /** The number of versions known. */
  get size(): number {
    return this.#memory.size();
  }

  /** Stops using the memory; what is known stays readable through this feed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const entry = memories.get(this.#key);
    if (entry?.memory === this.#memory && --entry.users === 0) memories.delete(this.#key);
  }

  /** Closes the feed at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The number of tables whose feed memory this thread holds (for tests). */
export function feedMemoriesHeld(): number {
  return memories.size;
}

/**
 * One table's shared memory: a header, a slot per remembered version, a
 * claim per slot, and a ring of commit bytes.
 */
class FeedMemory {
  readonly buffer: SharedArrayBuffer;
  readonly #slotCount: number;
  readonly #ringBytes: number;
  /** The bytes reserved in the ring so far, ever (only grows). */
  readonly #cursor: BigInt64Array;
  /** Per slot: sequence (odd while it changes), version, length, checksum. */
  readonly #slots: Int32Array;
  /** Per slot: the version claimed, or -1. */
  readonly #claims: Int32Array;
  /** Per slot: where its bytes start in the ring, counted from the ring's first byte ever. */
  readonly #starts: Float64Array;
  /** Per slot: when its claim was made (epoch ms). */
  readonly #claimedAt: Float64Array;
  readonly #ring: Uint8Array;

  static create(slotCount: number, ringBytes: number): FeedMemory {
    if (!Number.isSafeInteger(slotCount) || slotCount < 1) {
      throw new RangeError(`A commit feed needs at least one slot, got ${slotCount}`);
    }
    const buffer = new SharedArrayBuffer(FeedMemory.#layout(slotCount, ringBytes).total);
    const header = new Int32Array(buffer, 0, 4);
    header.set([MAGIC, slotCount, ringBytes, 0]);
    const memory = new FeedMemory(buffer);
    memory.#claims.fill(-1);
    return memory;
  }

  static #layout(slotCount: number, ringBytes: number) {
    const slots = HEADER_BYTES + 8; // after the cursor
    const claims = slots + slotCount * SLOT_WORDS * 4;
    const floats = align8(claims + slotCount * 4);
    const ring = floats + slotCount * 16;
    return { slots, claims, floats, ring, total: ring + ringBytes };
  }

  constructor(buffer: SharedArrayBuffer) {
    const [magic, slotCount, ringBytes] = new Int32Array(buffer, 0, 4);
    if (magic !== MAGIC) throw new TypeError("Not the memory of a commit feed");
    this.buffer = buffer;
    this.#slotCount = slotCount!;
    this.#ringBytes = ringBytes!;
    const at = FeedMemory.#layout(this.#slotCount, this.#ringBytes);
    this.#cursor = new BigInt64Array(buffer, 16, 1);
    this.#slots = new Int32Array(buffer, at.slots, this.#slotCount * SLOT_WORDS);
    this.#claims = new Int32Array(buffer, at.claims, this.#slotCount);
    this.#starts = new Float64Array(buffer, at.floats, this.#slotCount);
    this.#claimedAt = new Float64Array(buffer, at.floats + this.#slotCount * 8, this.#slotCount);
    this.#ring = new Uint8Array(buffer, at.ring, this.#ringBytes);
  }

  /** Publishes `body` as the bytes of `version`; false if it is too large to. */
  write(version: number, body: Uint8Array): boolean {
    const n = body.length;
    if (!isSlotVersion(version) || n === 0 || n > this.#ringBytes / LARGEST_SHARE) return false;
    // Reserve before writing: a reader judges its copy by the cursor.
    let start: number;
    do start = Number(Atomics.add(this.#cursor, 0, BigInt(n))); while (
      (start % this.#ringBytes) + n > this.#ringBytes
    ); // no room before the end: skip it
    this.#ring.set(body, start % this.#ringBytes);
    const slot = version % this.#slotCount;
    const i = slot * SLOT_WORDS;
    const changing = (Atomics.load(this.#slots, i) + 1) | 1;
    Atomics.store(this.#slots, i, changing);
    Atomics.store(this.#slots, i + 1, version);
    Atomics.store(this.#slots, i + 2, n);
    Atomics.store(this.#slots, i + 3, checksum(body, version));
    this.#starts[slot] = start;
    Atomics.store(this.#slots, i, changing + 1);
    return true;
  }

  /** A copy of the exact bytes of `version`, or undefined if not known. */
  read(version: number): Uint8Array | undefined {
    if (!isSlotVersion(version)) return undefined;
    const slot = version % this.#slotCount;
    const i = slot * SLOT_WORDS;
    const sequence = Atomics.load(this.#slots, i);
    if ((sequence & 1) !== 0 || Atomics.load(this.#slots, i + 1) !== version) return undefined;
    const n = Atomics.load(this.#slots, i + 2);
    const sum = Atomics.load(this.#slots, i + 3);
    const start = this.#starts[slot]!;
    if (n === 0) return undefined;
    const at = start % this.#ringBytes;
    const bytes = this.#ring.slice(at, at + n);
    if (Atomics.load(this.#slots, i) !== sequence) return undefined;
    // Overwritten once any reservation reached a lap past our first byte.
    if (Number(Atomics.load(this.#cursor, 0)) > start + this.#ringBytes) return undefined;
    return checksum(bytes, version) === sum ? bytes : undefined;
  }

  /**
   * Claims `version` for the caller: 0 if it now holds the claim, else the
   * ms left of another committer's claim (at most `waitMs` from when it was
   * made).
   */
  tryClaim(version: number, waitMs: number): number {
    if (!isSlotVersion(version)) return 0;
    const slot = version % this.#slotCount;
    const held = Atomics.load(this.#claims, slot);
    const now = Date.now();
    if (held === version) {
      const left = this.#claimedAt[slot]! + waitMs - now;
      if (left > 0) return left;
    }
    if (Atomics.compareExchange(this.#claims, slot, held, version) !== held) return 1;
    this.#claimedAt[slot] = now;
    return 0;
  }

  /** Ends a claim of `version` (created, or lost). */
  endClaim(version: number): void {
    if (!isSlotVersion(version)) return;
    Atomics.compareExchange(this.#claims, version % this.#slotCount, version, -1);
  }

  /**
   * Resolves when the claim of `version` ends, or after `ms`. It looks every
   * `CLAIM_POLL_MS`: `Atomics.waitAsync` would wake at once, but Deno does
   * not count its promise as pending work, so a thread with nothing else to
   * do would end its event loop under it.
   */
  async waitForClaim(version: number, ms: number): Promise<void> {
    const slot = version % this.#slotCount;
    const until = Date.now() + ms;
    while (Atomics.load(this.#claims, slot) === version && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(CLAIM_POLL_MS, ms)));
    }
  }

  /** The number of versions readable. */
  size(): number {
    let n = 0;
    for (let slot = 0; slot < this.#slotCount; slot++) {
      if (this.read(Atomics.load(this.#slots, slot * SLOT_WORDS + 1))) n++;
    }
    return n;
  }
}

/** Versions that fit a slot's Int32 word (2^31 commits is beyond any table). */
function isSlotVersion(version: number): boolean {
  return Number.isSafeInteger(version) && version >= 0 && version <= 0x7fffffff;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * FNV-1a over the version and the bytes: a torn or overwritten copy, or the
 * fields of two versions that share a slot mixed, do not pass for a commit.
 */
function checksum(bytes: Uint8Array, version: number): number {
  let hash = Math.imul(0x811c9dc5 ^ version, 0x01000193);
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash | 0;
}
