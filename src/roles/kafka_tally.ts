/**
 * What the Kafka verification (verify_kafka.ts) compares, in memory that
 * does not grow with the number of messages. A message's rows share one
 * identity `(session_id, writer_id, batch_seq)`; per `(session, writer)`
 * both sides keep the sequences as ranges and a digest of each sequence's
 * rows (`BatchTally`, batch_tally.ts, as the run ledger keeps a writer's
 * batches). A producer numbers its messages 0, 1, 2, ... across the
 * partitions, so a week of them is one range per writer.
 *
 * - `TopicMessages` is the topic read back up to the markers: every message
 *   adds its rows under its sequence. A sequence met twice in the topic (a
 *   producer that sent a message again) adds up, and is remembered as
 *   repeated (ranges again), so the table's second copy is not named as a
 *   duplicate: the digests still judge it.
 * - `TableMessages` is the table read row group by row group, fed runs of
 *   rows with one identity. Rows whose sequence the topic holds go to one
 *   tally, the others to another (named as beyond the markers), so one bad
 *   row of the second kind never hides a duplicate of the first. In an
 *   unpartitioned table a message lies in one file, whole and contiguous
 *   (ingest writes a batch of whole messages per file and compaction copies
 *   files in order), so a sequence met in an earlier file, or met again
 *   after other rows of the same file, is named as a duplicate; the file's
 *   own sequences are kept as ranges too.
 * - `compareMessages` names lost sequences (ranges the topic has and the
 *   table lacks), sequences beyond the topic's, named duplicates, and
 *   writers whose rows differ from the topic's by the digest when nothing
 *   else explains it (a partial message, or a copy in a partitioned table).
 *
 * What it holds is the gaps between sequences seen: one range per producer
 * at the end of a complete read-back, and while reading, about a fetch's
 * worth of messages per partition, since the consumer fetches every
 * partition in turn and each one's sequences fill the others' gaps. A
 * partition whose marker lies far behind the others' leaves one gap per
 * message it did not commit, so the ranges then grow with that lag (they
 * still hold 16 bytes a gap, not a key per message).
 *
 * Sequences are compared as doubles: exact up to 2^53, which a batch_seq
 * (a long) of a real producer never reaches.
 */

import { BatchTally, SeqRanges } from "./batch_tally.ts";

/** How many examples a problem list names; the rest are counted. */
export const NAMED = 5;

/** The key of a producer's messages: session and writer. */
function writerKey(session: string, writer: string): string {
  return `${session}\u0000${writer}`;
}

function readableWriter(key: string): string {
  const [session, writer] = key.split("\u0000");
  return `${writer} (session ${session})`;
}

function ranges(list: Iterable<[number, number]>): string[] {
  const out: string[] = [];
  for (const [lo, hi] of list) out.push(lo === hi ? `${lo}` : `${lo}..${hi}`);
  return out;
}

/** A bounded list of examples, with how many there were and what they count. */
export class Examples {
  readonly items: string[] = [];
  /** How many examples were added, named or not. */
  entries = 0;
  /** What they count (messages, offsets): an example may stand for several. */
  count = 0;

  /** Adds an example standing for `weight` of what is counted. */
  add(item: string, weight = 1): void {
    if (this.items.length < NAMED) this.items.push(item);
    this.entries++;
    this.count += weight;
  }

  /** `a; b; c; and N more`, or `none`. */
  toString(): string {
    if (this.entries === 0) return "none";
    const more = this.entries - this.items.length;
    return this.items.join("; ") + (more > 0 ? `; and ${more.toLocaleString("en-US")} more` : "");
  }
}

/** The messages of a topic up to the markers, per producer. */
export class TopicMessages {
  readonly #writers = new Map<string, BatchTally>();
  /** Sequences met more than once in the topic, per producer. */
  readonly #repeated = new Map<string, SeqRanges>();
  /** Every session the topic's messages carry. */
  readonly sessions = new Set<string>();
  rows = 0;

  /**
   * Adds a run of `rows` rows of message `seq` of `writer` in `session`. A
   * sequence added before (another message, or another run of this one) is
   * remembered as repeated.
   */
  add(session: string, writer: string, seq: number, rows: number): void {
    const key = writerKey(session, writer);
    let tally = this.#writers.get(key);
    if (!tally) {
      this.sessions.add(session);
      this.#writers.set(key, tally = new BatchTally());
    }
    if (tally.seqs.has(seq)) {
      let repeated = this.#repeated.get(key);
      if (!repeated) this.#repeated.set(key, repeated = new SeqRanges());
      repeated.add(seq);
    }
    tally.addRows(seq, rows);
    this.rows += rows;
  }

  /** The tally of one producer, if the topic has its messages. */
  tallyOf(session: string, writer: string): BatchTally | undefined {
    return this.#writers.get(writerKey(session, writer));
  }

  /** True when `seq` of the producer is in the topic more than once. */
  repeated(session: string, writer: string, seq: number): boolean {
    return this.#repeated.get(writerKey(session, writer))?.has(seq) ?? false;
  }

  /** Every producer's tally, by writer key. */
  writers(): IterableIterator<[string, BatchTally]> {
    return this.#writers.entries();
  }

  /** How many ranges all the tallies hold (the memory this keeps). */
  get rangeCount(): number {
    let n = 0;
    for (const t of this.#writers.values()) n += t.seqs.rangeCount;
    for (const r of this.#repeated.values()) n += r.rangeCount;
    return n;
  }
}

/** A producer's rows found in the table: of sequences the topic holds, and of others. */
interface Found {
  inTopic: BatchTally;
  beyond: BatchTally;
}

/** The table's rows of the topic's sessions, per producer, fed as runs of one message. */
export class TableMessages {
  readonly #topic: TopicMessages;
  readonly #partitioned: boolean;
  readonly #found = new Map<string, Found>();
  /** Rows of sessions the topic does not carry (not judged). */
  otherRows = 0;
  /** Rows of the topic's sessions. */
  rows = 0;
  readonly duplicates = new Examples();
  /** Producers with a named duplicate. */
  readonly #duplicated = new Set<string>();
  #file: string | undefined;
  /** The sequences met in the current file, per producer. */
  readonly #fileSeqs = new Map<string, SeqRanges>();
  #lastKey: string | undefined;
  #lastSeq = -1;

  constructor(topic: TopicMessages, options: { partitioned: boolean }) {
    this.#topic = topic;
    this.#partitioned = options.partitioned;
  }

  /** Adds a run of `rows` rows with one identity, read from `file` (runs of a file come in order). */
  addRun(file: string, session: string, writer: string, seq: number, rows: number): void {
    if (!this.#topic.sessions.has(session)) {
      this.otherRows += rows;
      return;
    }
    this.rows += rows;
    if (file !== this.#file) {
      this.#file = file;
      this.#fileSeqs.clear();
      this.#lastKey = undefined;
    }
    const key = writerKey(session, writer);
    let found = this.#found.get(key);
    if (!found) {
      this.#found.set(key, found = { inTopic: new BatchTally(), beyond: new BatchTally() });
    }
    const expected = this.#topic.tallyOf(session, writer);
    const side = expected?.seqs.has(seq) ? found.inTopic : found.beyond;
    // The same message continued (the next row group, or a run split by the caller).
    const continues = key === this.#lastKey && seq === this.#lastSeq;
    this.#lastKey = key;
    this.#lastSeq = seq;
    if (!continues) {
      let inFile = this.#fileSeqs.get(key);
      if (!inFile) this.#fileSeqs.set(key, inFile = new SeqRanges());
      const again = !inFile.add(seq);
      const before = !again && !this.#partitioned && side.seqs.has(seq);
      if ((again || before) && !this.#topic.repeated(session, writer, seq)) {
        this.duplicates.add(
          `${writer} batch ${seq} (session ${session}) ${
            again ? "twice in one file" : "in more than one file"
          }`,
        );
        this.#duplicated.add(key);
      }
    }
    side.addRows(seq, rows);
  }

  /** The producers' rows found, by writer key. */
  found(key: string): Found | undefined {
    return this.#found.get(key);
  }

  /** Producers found in the table, by writer key. */
  keys(): IterableIterator<string> {
    return this.#found.keys();
  }

  /** True when a duplicate of the producer was named. */
  duplicated(key: string): boolean {
    return this.#duplicated.has(key);
  }
}

/** What the comparison of the topic's messages with the table's found. */
export interface MessageComparison {
  /** Messages of the topic the table lacks, as sequence ranges per producer. */
  missing: Examples;
  /** Messages in the table twice, named where found, else producers whose rows differ. */
  wrong: Examples;
  /** Rows of the topic's sessions whose sequences the topic does not hold. */
  beyond: Examples;
  /** How many message sequences the topic holds. */
  messages: number;
}

/** Compares the topic's messages with the table's. */
export function compareMessages(topic: TopicMessages, table: TableMessages): MessageComparison {
  const missing = new Examples();
  const wrong = new Examples();
  const beyond = new Examples();
  let messages = 0;
  for (const item of table.duplicates.items) wrong.add(item);
  wrong.entries = table.duplicates.entries;
  wrong.count = table.duplicates.count;
  for (const [key, expected] of topic.writers()) {
    messages += expected.seqs.size;
    const found = table.found(key);
    const have = found?.inTopic ?? new BatchTally();
    const lost = found ? expected.seqs.without(have.seqs) : [...expected.seqs.ranges()];
    let lostCount = 0;
    for (const [lo, hi] of lost) lostCount += hi - lo + 1;
    if (lost.length > 0) {
      const named = ranges(lost);
      missing.add(
        `${readableWriter(key)} batch ${named.slice(0, NAMED).join(", ")}${
          named.length > NAMED ? ` and ${named.length - NAMED} more ranges` : ""
        }`,
        lostCount,
      );
    } else if (!expected.sameRows(have) && !table.duplicated(key)) {
      wrong.add(
        `${readableWriter(key)}: the rows of its messages differ from the topic's (${
          have.rows.toLocaleString("en-US")
        } rows in the table, ${expected.rows.toLocaleString("en-US")} in the topic)`,
      );
    }
  }
  for (const key of table.keys()) {
    const extra = table.found(key)!.beyond;
    if (extra.seqs.size === 0) continue;
    const named = ranges(extra.seqs.ranges());
    beyond.add(
      `${readableWriter(key)} batch ${named.slice(0, NAMED).join(", ")}${
        named.length > NAMED ? ` and ${named.length - NAMED} more ranges` : ""
      } (${extra.rows.toLocaleString("en-US")} rows)`,
      extra.seqs.size,
    );
  }
  return { missing, wrong, beyond, messages };
}
