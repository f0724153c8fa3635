/**
 * The end-of-run verification of a Kafka-sourced stream. Its rows were not
 * made here, so the check is against the topic itself: every partition's
 * messages, from the first offset Kafka holds up to the partition's `txn`
 * marker in the table (the last offset committed), are read again with a
 * throwaway consumer group, decoded as the ingest roles decode them, and
 * tallied per message identity `(session_id, writer_id, batch_seq)`. The
 * table's rows are tallied the same way. Then:
 *
 * - every message up to each marker is in the table with exactly its rows
 *   (none lost, none twice: a message committed twice doubles its rows);
 * - no rows of the topic's sessions lie beyond the markers (no offset was
 *   written that is not recorded as committed);
 * - the rows of the topic's sessions in the table equal the sum over
 *   partitions of the rows of the offsets from the first to the marker;
 * - the table passes `verify`.
 *
 * A message that cannot be decoded fails the check, unless the run has a
 * dead-letter table holding its topic, partition and offset: the ingest
 * roles set it aside there, and it is accounted for, not missing.
 *
 * Its memory does not grow with the topic: the messages are tallied per
 * producer as ranges of sequences and a digest of each one's rows
 * (kafka_tally.ts, as the run ledger keeps a writer's batches), and bad and
 * dead-lettered offsets per partition as ranges; the table is read one row
 * group at a time. Its time is the reading: there is no deadline on the
 * whole read-back, only on a stall (no message of the committed ranges for
 * `stallMs`), which fails the check naming where each partition stopped. A
 * long read-back reports its progress (`onProgress`, every
 * `progressEveryMs`).
 *
 * Rows of other sessions (data the table held from elsewhere) are counted
 * and named in the detail, not judged. The check assumes the neural schema
 * (the stream's table), whose identity columns name a message's rows.
 */

import type { Verification, VerificationCheck } from "../metrics/results.ts";
import { scanTable } from "../ops/scan.ts";
import { snapshotOf, type Table, TableNotFoundError } from "../ops/table.ts";
import { verifyTable } from "../ops/verify.ts";
import { MessageRows } from "../sources/message_rows.ts";
import { NEURAL_FIELDS } from "../sources/neural.ts";
import { sleep } from "../util/backoff.ts";
import { endOffsets, startOffsets } from "../sources/kafka.ts";
import { SeqRanges } from "./batch_tally.ts";
import { joinGroup } from "./kafka_consumer.ts";
import { partitionAppId } from "./kafka_offsets.ts";
import { compareMessages, Examples, TableMessages, TopicMessages } from "./kafka_tally.ts";

/** What the verification needs to read the topic again. */
export interface KafkaSource {
  brokers: string[];
  topic: string;
  group: string;
  /** A suffix of the throwaway group that reads the topic again (the run's id). */
  runId: string;
  /**
   * The longest the read-back may go without a message of the committed
   * ranges (a broker down, a marker past the end of the log): then the check
   * fails, saying where each partition stopped. The read-back as a whole has
   * no deadline; it takes as long as the topic takes to read. @default 120000
   */
  stallMs?: number;
  /** The run's dead-letter table (--dead-letter): bad messages there are accounted for. */
  deadLetter?: Table | undefined;
  /** Each partition's marker when the run started: rows after it are this run's. */
  startMarkers?: ReadonlyMap<number, number>;
  /** Called every `progressEveryMs` while the topic or the table is read. */
  onProgress?: (progress: ReadBackProgress) => void;
  /** How often `onProgress` is called, in ms. @default 10000 */
  progressEveryMs?: number;
}

/** How far a long read-back has come. */
export interface ReadBackProgress {
  /** `topic`: messages read again; `table`: data files of the table read. */
  phase: "topic" | "table";
  done: number;
  total: number;
  elapsedMs: number;
}

/** A Kafka run's verification, with the rows the run committed according to the table. */
export interface KafkaVerification extends Verification {
  /** Rows of the offsets after the start markers up to the final ones (0 when unread). */
  rowsThisRun: number;
}

/** One partition's committed range, as read back from Kafka. */
interface PartitionRead {
  marker: number;
  /** The first offset the log held when the read began. */
  start: number;
  first: number | undefined;
  last: number;
  messages: number;
  rows: number;
  /** Rows of offsets after the partition's marker at the run's start. */
  rowsThisRun: number;
  gaps: number;
  /** Offsets of the messages that could not be decoded. */
  bad: SeqRanges;
}

const KEY_COLUMNS = ["session_id", "writer_id", "batch_seq"] as const;

/** Verifies a Kafka-sourced run's table against its topic, up to each partition's marker. */
export async function verifyKafkaRun(
  table: Table,
  source: KafkaSource,
): Promise<KafkaVerification> {
  const checks: VerificationCheck[] = [];
  const count = (n: number) => n.toLocaleString("en-US");
  const list = (items: string[]) =>
    items.slice(0, 5).join("; ") + (items.length > 5 ? `; and ${items.length - 5} more` : "");

  const snapshot = await snapshotOf(table);
  const markers = new Map<number, number>();
  const prefix = partitionAppId(source.group, source.topic, 0).replace(/0$/, "");
  for (const [appId, txn] of snapshot.txns) {
    if (!appId.startsWith(prefix)) continue;
    const partition = Number(appId.slice(prefix.length));
    if (Number.isInteger(partition)) markers.set(partition, Number(txn.version));
  }

  const topic = new TopicMessages();
  let reads: Map<number, PartitionRead>;
  try {
    reads = await readCommitted(source, markers, topic);
  } catch (error) {
    checks.push({
      name: "kafka_read_back",
      passed: false,
      detail: `could not read ${source.topic} again up to the markers: ${(error as Error).message}`,
    });
    return { passed: false, checks, rowsThisRun: 0 };
  }
  const ranges = [...reads].sort(([a], [b]) => a - b).map(([p, r]) =>
    r.start > r.marker
      ? `partition ${p}: offsets 0..${r.marker} no longer in the log (it starts at ${r.start}), ` +
        `not judged`
      : `partition ${p}: offsets ${r.first ?? "-"}..${r.marker} (${count(r.messages)} messages, ${
        count(r.rows)
      } rows${r.gaps ? `, ${r.gaps} offset gaps` : ""}${
        r.start > 0 ? `; offsets before ${r.start} no longer in the log, not judged` : ""
      })`
  );
  const lag = await notIngested(source, markers);
  const lettered = source.deadLetter
    ? await deadLettered(source.deadLetter, source.topic)
    : new Map<number, SeqRanges>();
  const bad = new Examples();
  let setAside = 0;
  for (const [p, r] of reads) {
    const aside = lettered.get(p) ?? new SeqRanges();
    const unlettered = r.bad.without(aside);
    let unletteredCount = 0;
    for (const [lo, hi] of unlettered) {
      const n = hi - lo + 1;
      unletteredCount += n;
      bad.add(`partition ${p} offset ${lo === hi ? lo : `${lo}..${hi}`}`, n);
    }
    setAside += r.bad.size - unletteredCount;
  }
  const expectedRows = [...reads.values()].reduce((n, r) => n + r.rows, 0);
  const aside = setAside > 0
    ? `; ${count(setAside)} bad messages are in the dead-letter table ${source.deadLetter!.uri}`
    : "";
  const undecoded = bad.count === 0
    ? ""
    : `; ${count(bad.count)} messages could not be decoded${
      source.deadLetter ? " and are not in the dead-letter table" : ""
    }: ${bad}`;
  checks.push({
    name: "kafka_committed_ranges_read_back",
    passed: bad.count === 0,
    detail: markers.size === 0
      ? `no partition of ${source.topic} has a marker of group ${source.group} in the table`
      : `${list(ranges)}${aside}${undecoded}${lag}`,
  });

  // The table's rows, per message identity.
  const found = new TableMessages(topic, {
    partitioned: snapshot.metadata.partitionColumns.length > 0,
  });
  // Files by their smallest batch_seq: each producer's sequences come nearly
  // in order, so the tallies hold few ranges (by path, a file's every fourth
  // sequence of a 4-partition topic would stay apart until the end).
  const scan = await scanTable(table, { columns: [...KEY_COLUMNS], orderBy: "batch_seq" });
  const progress = progressEvery(source);
  for await (const { file, batch } of scan.pieces) {
    progress("table", scan.stats.filesRead, scan.stats.filesTotal);
    const s = batch.columns[0]!.values as string[];
    const w = batch.columns[1]!.values as string[];
    const q = batch.columns[2]!.values as BigInt64Array;
    // A message's rows lie together in a file: tally runs of one identity, not rows.
    forEachRun(s, w, q, batch.length, (session, writer, seq, rows) => {
      found.addRun(file, session, writer, seq, rows);
    });
  }
  const compared = compareMessages(topic, found);
  // Committed offsets the topic's retention deleted before the read-back:
  // their rows are in the table and no longer in the topic, so rows the
  // topic lacks may be theirs and are named, not judged.
  const deleted = [...reads.values()].reduce((n, r) => n + Math.min(r.start, r.marker + 1), 0);
  const unjudged = deleted > 0
    ? `not judged: ${count(deleted)} offsets up to the markers are no longer in ` +
      `${source.topic} (deleted by its retention before the read-back), and rows the topic ` +
      `lacks may be theirs`
    : "";
  checks.push({
    name: "every_committed_message_once",
    passed: compared.missing.count === 0 && compared.wrong.count === 0,
    detail: compared.missing.count + compared.wrong.count === 0
      ? `${count(compared.messages)} messages (session_id, writer_id, batch_seq) up to the ` +
        `markers, each with exactly its rows`
      : `missing: ${compared.missing}; duplicated or partial: ${compared.wrong}`,
  });
  checks.push({
    name: "no_rows_beyond_markers",
    passed: compared.beyond.count === 0 || deleted > 0,
    detail: compared.beyond.count === 0
      ? "no row of the topic's sessions lies past a partition's committed offset"
      : deleted > 0
      ? `${unjudged}: ${compared.beyond}`
      : `${compared.beyond}`,
  });
  checks.push({
    name: "rows_equal_committed_offset_ranges",
    passed: deleted > 0 ? found.rows >= expectedRows : found.rows === expectedRows,
    detail:
      `${count(found.rows)} rows of the topic's sessions in the table, ${
        count(expectedRows)
      } rows in the offsets up to the markers` +
      (deleted > 0 ? ` (at least as many are needed; ${unjudged})` : "") +
      (found.otherRows > 0 ? `; ${count(found.otherRows)} rows of other sessions not judged` : ""),
  });
  const report = await verifyTable(table);
  for (const c of report.checks) {
    checks.push({
      name: `table_${c.name}`,
      passed: c.passed,
      detail: (c.skipped ? "skipped: " : c.warning ? "warning: " : "") + c.detail +
        (c.problems.length ? `: ${c.problems.slice(0, 3).join("; ")}` : ""),
    });
  }
  const rowsThisRun = [...reads.values()].reduce((n, r) => n + r.rowsThisRun, 0);
  return { passed: checks.every((c) => c.passed), checks, rowsThisRun };
}

/** A reporter that calls `onProgress` at most every `progressEveryMs`, and at the first call. */
function progressEvery(
  source: KafkaSource,
): (phase: ReadBackProgress["phase"], done: number, total: number) => void {
  const every = source.progressEveryMs ?? 10_000;
  const started = performance.now();
  let next = started + every;
  return (phase, done, total) => {
    if (!source.onProgress) return;
    const now = performance.now();
    if (now < next) return;
    next = now + every;
    source.onProgress({ phase, done, total, elapsedMs: Math.round(now - started) });
  };
}

/** The offsets of each partition of `topic` in a dead-letter table, as ranges (none if absent). */
async function deadLettered(table: Table, topic: string): Promise<Map<number, SeqRanges>> {
  const found = new Map<number, SeqRanges>();
  try {
    await snapshotOf(table);
  } catch (error) {
    if (error instanceof TableNotFoundError) return found;
    throw error;
  }
  const scan = await scanTable(table, { columns: ["topic", "partition", "offset"] });
  for await (const { batch } of scan.pieces) {
    const t = batch.columns[0]!.values as string[];
    const p = batch.columns[1]!.values as Int32Array;
    const o = batch.columns[2]!.values as BigInt64Array;
    for (let i = 0; i < batch.length; i++) {
      if (t[i] !== topic) continue;
      let offsets = found.get(p[i]!);
      if (!offsets) found.set(p[i]!, offsets = new SeqRanges());
      offsets.add(Number(o[i]!));
    }
  }
  return found;
}

/**
 * What the topic held beyond the markers when the run ended (not judged:
 * a run stopped by --duration or a signal may end behind), as a detail.
 */
async function notIngested(
  source: KafkaSource,
  markers: ReadonlyMap<number, number>,
): Promise<string> {
  let ends: bigint[];
  try {
    ends = await endOffsets({ brokers: source.brokers }, source.topic);
  } catch (error) {
    return `; the topic's end offsets could not be read: ${(error as Error).message}`;
  }
  const behind: string[] = [];
  let total = 0;
  ends.forEach((end, partition) => {
    const next = (markers.get(partition) ?? -1) + 1;
    const n = Number(end) - next;
    if (n <= 0) return;
    total += n;
    behind.push(`partition ${partition}: ${n.toLocaleString("en-US")} from offset ${next}`);
  });
  return total === 0
    ? "; every message the topic held at the end was ingested"
    : `; not ingested by the end of the run (not judged): ${
      total.toLocaleString("en-US")
    } messages (${behind.slice(0, 8).join(", ")})`;
}

/**
 * Reads each marked partition from its first offset to its marker with a
 * throwaway group, tallying each message's rows in `topic`. Throws when no
 * message of the ranges comes for `stallMs`, naming where each partition is.
 */
async function readCommitted(
  source: KafkaSource,
  markers: ReadonlyMap<number, number>,
  topic: TopicMessages,
): Promise<Map<number, PartitionRead>> {
  const reads = new Map<number, PartitionRead>();
  const starts = markers.size > 0
    ? await startOffsets({ brokers: source.brokers }, source.topic)
    : [];
  let total = 0;
  for (const [p, marker] of markers) {
    const start = Number(starts[p] ?? 0n);
    // A partition whose log starts past its marker has nothing left to read.
    const read: PartitionRead = {
      marker,
      start,
      first: undefined,
      last: start > marker ? marker : -1,
      messages: 0,
      rows: 0,
      rowsThisRun: 0,
      gaps: 0,
      bad: new SeqRanges(),
    };
    reads.set(p, read);
    total += Math.max(0, marker + 1 - start);
  }
  const pending = () => [...reads.values()].some((r) => r.last < r.marker);
  if (!pending()) return reads;
  const consumer = await joinGroup({
    brokers: source.brokers,
    topic: source.topic,
    group: `${source.group}.verify.${source.runId}`,
    maxWaitMs: 200,
    clientId: "neuralake-verify",
  });
  const si = NEURAL_FIELDS.findIndex((f) => f.name === "session_id");
  const wi = NEURAL_FIELDS.findIndex((f) => f.name === "writer_id");
  const qi = NEURAL_FIELDS.findIndex((f) => f.name === "batch_seq");
  const stallMs = source.stallMs ?? 120_000;
  const progress = progressEvery(source);
  let read = 0;
  let lastProgress = performance.now();
  try {
    while (pending()) {
      const idle = performance.now() - lastProgress;
      if (idle > stallMs) {
        const behind = [...reads].filter(([, r]) => r.last < r.marker).map(([p, r]) =>
          `partition ${p} at offset ${r.last < 0 ? "none" : r.last} of ${r.marker}`
        );
        const outage = consumer.outage();
        throw new Error(
          `no message of the committed ranges came for ${Math.round(idle / 1000)} s after ${
            read.toLocaleString("en-US")
          } of ${total.toLocaleString("en-US")} messages: ${behind.join(", ")}${
            outage ? `; the broker: ${outage.error}` : ""
          }`,
        );
      }
      const messages = await consumer.poll((partitions) =>
        Promise.resolve(new Map(partitions.map((p) => [p, undefined])))
      );
      if (messages.length === 0) await sleep(50);
      for (const m of messages) {
        const r = reads.get(m.partition);
        const offset = Number(m.offset);
        if (r === undefined || offset > r.marker || offset <= r.last) continue;
        if (r.first === undefined) r.first = offset;
        else if (offset !== r.last + 1) r.gaps++;
        r.last = offset;
        r.messages++;
        read++;
        lastProgress = performance.now();
        // Capacity 1: an empty batch takes a message whole, whatever its size.
        const rows = new MessageRows(NEURAL_FIELDS, 1);
        const outcome = rows.add(m.value);
        const batch = rows.take();
        if (outcome.kind !== "added" || batch === undefined) {
          r.bad.add(offset);
          continue;
        }
        r.rows += batch.length;
        if (offset > (source.startMarkers?.get(m.partition) ?? -1)) r.rowsThisRun += batch.length;
        const s = batch.columns[si]!.values as string[];
        const w = batch.columns[wi]!.values as string[];
        const q = batch.columns[qi]!.values as BigInt64Array;
        forEachRun(s, w, q, batch.length, (session, writer, seq, n) => {
          topic.add(session, writer, seq, n);
        });
      }
      progress("topic", read, total);
    }
  } finally {
    await consumer.close().catch(() => {});
  }
  return reads;
}

/** Calls `each` once per run of rows with one identity, with the run's length. */
function forEachRun(
  s: string[],
  w: string[],
  q: BigInt64Array,
  length: number,
  each: (session: string, writer: string, seq: number, rows: number) => void,
): void {
  for (let start = 0; start < length;) {
    let end = start + 1;
    while (end < length && q[end] === q[start] && w[end] === w[start] && s[end] === s[start]) {
      end++;
    }
    each(s[start]!, w[start]!, Number(q[start]!), end - start);
    start = end;
  }
}
