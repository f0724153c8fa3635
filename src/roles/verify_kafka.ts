/**
 * The end-of-run verification of a Kafka-sourced stream. Its rows were not
 * made here, so the check is against the topic itself: every partition's
 * messages, from the first offset Kafka holds up to the partition's `txn`
 * marker in the table (the last offset committed), are read again with a
 * throwaway consumer group, decoded as the ingest roles decode them, and
 * counted per message key `(session_id, writer_id, batch_seq)`. The table's
 * rows are counted per the same key. Then:
 *
 * - every message up to each marker is in the table with exactly its rows
 *   (none lost, none twice: a message committed twice doubles its count);
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
 * Rows of other sessions (data the table held from elsewhere) are counted
 * and named in the detail, not judged. The check assumes the neural schema
 * (the stream's table), whose key identifies a message's rows.
 */

import type { Verification, VerificationCheck } from "../metrics/results.ts";
import { scanTable } from "../ops/scan.ts";
import { snapshotOf, type Table, TableNotFoundError } from "../ops/table.ts";
import { verifyTable } from "../ops/verify.ts";
import { MessageRows } from "../sources/message_rows.ts";
import { NEURAL_FIELDS } from "../sources/neural.ts";
import { sleep } from "../util/backoff.ts";
import { endOffsets } from "../sources/kafka.ts";
import { joinGroup } from "./kafka_consumer.ts";
import { partitionAppId } from "./kafka_offsets.ts";

/** What the verification needs to read the topic again. */
export interface KafkaSource {
  brokers: string[];
  topic: string;
  group: string;
  /** A suffix of the throwaway group that reads the topic again (the run's id). */
  runId: string;
  /** The longest the topic may take to read. @default 120000 */
  timeoutMs?: number;
  /** The run's dead-letter table (--dead-letter): bad messages there are accounted for. */
  deadLetter?: Table | undefined;
  /** Each partition's marker when the run started: rows after it are this run's. */
  startMarkers?: ReadonlyMap<number, number>;
}

/** A Kafka run's verification, with the rows the run committed according to the table. */
export interface KafkaVerification extends Verification {
  /** Rows of the offsets after the start markers up to the final ones (0 when unread). */
  rowsThisRun: number;
}

/** One partition's committed range, as read back from Kafka. */
interface PartitionRead {
  marker: number;
  first: number | undefined;
  last: number;
  messages: number;
  rows: number;
  /** Rows of offsets after the partition's marker at the run's start. */
  rowsThisRun: number;
  gaps: number;
  /** Offsets of the messages that could not be decoded. */
  bad: bigint[];
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

  const expected = new Map<string, number>();
  const sessions = new Set<string>();
  let reads: Map<number, PartitionRead>;
  try {
    reads = await readCommitted(source, markers, expected, sessions);
  } catch (error) {
    checks.push({
      name: "kafka_read_back",
      passed: false,
      detail: `could not read ${source.topic} again up to the markers: ${(error as Error).message}`,
    });
    return { passed: false, checks, rowsThisRun: 0 };
  }
  const ranges = [...reads].sort(([a], [b]) => a - b).map(([p, r]) =>
    `partition ${p}: offsets ${r.first ?? "-"}..${r.marker} (${count(r.messages)} messages, ${
      count(r.rows)
    } rows${r.gaps ? `, ${r.gaps} offset gaps` : ""})`
  );
  const lag = await notIngested(source, markers);
  const lettered = source.deadLetter
    ? await deadLettered(source.deadLetter, source.topic)
    : new Set<string>();
  const bad: string[] = [];
  let setAside = 0;
  for (const [p, r] of reads) {
    for (const offset of r.bad) {
      if (lettered.has(`${p}:${offset}`)) setAside++;
      else bad.push(`partition ${p} offset ${offset}`);
    }
  }
  const expectedRows = [...reads.values()].reduce((n, r) => n + r.rows, 0);
  const aside = setAside > 0
    ? `; ${count(setAside)} bad messages are in the dead-letter table ${source.deadLetter!.uri}`
    : "";
  const undecoded = bad.length === 0
    ? ""
    : `; ${bad.length} messages could not be decoded${
      source.deadLetter ? " and are not in the dead-letter table" : ""
    }: ${list(bad)}`;
  checks.push({
    name: "kafka_committed_ranges_read_back",
    passed: bad.length === 0,
    detail: markers.size === 0
      ? `no partition of ${source.topic} has a marker of group ${source.group} in the table`
      : `${list(ranges)}${aside}${undecoded}${lag}`,
  });

  // The table's rows, per message key.
  const found = new Map<string, number>();
  let otherRows = 0;
  const scan = await scanTable(table, { columns: [...KEY_COLUMNS] });
  for await (const { batch } of scan.pieces) {
    const s = batch.columns[0]!.values as string[];
    const w = batch.columns[1]!.values as string[];
    const q = batch.columns[2]!.values as BigInt64Array;
    // A message's rows lie together in a file: count runs of one key, not rows.
    forEachRun(s, w, q, batch.length, (key, session, rows) => {
      if (!sessions.has(session)) otherRows += rows;
      else found.set(key, (found.get(key) ?? 0) + rows);
    });
  }
  let tableRows = 0;
  for (const n of found.values()) tableRows += n;

  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [key, rows] of expected) {
    const have = found.get(key);
    if (have === undefined) missing.push(`${readable(key)} (${rows} rows)`);
    else if (have !== rows) wrong.push(`${readable(key)}: ${have} rows, the message has ${rows}`);
  }
  const beyond: string[] = [];
  for (const [key, rows] of found) {
    if (!expected.has(key)) beyond.push(`${readable(key)} (${rows} rows)`);
  }
  checks.push({
    name: "every_committed_message_once",
    passed: missing.length === 0 && wrong.length === 0,
    detail: missing.length + wrong.length === 0
      ? `${count(expected.size)} message keys (session_id, writer_id, batch_seq) up to the ` +
        `markers, each with exactly its rows`
      : `missing: ${list(missing) || "none"}; duplicated or partial: ${list(wrong) || "none"}`,
  });
  checks.push({
    name: "no_rows_beyond_markers",
    passed: beyond.length === 0,
    detail: beyond.length === 0
      ? "no row of the topic's sessions lies past a partition's committed offset"
      : list(beyond),
  });
  checks.push({
    name: "rows_equal_committed_offset_ranges",
    passed: tableRows === expectedRows,
    detail:
      `${count(tableRows)} rows of the topic's sessions in the table, ${
        count(expectedRows)
      } rows in the offsets up to the markers` +
      (otherRows > 0 ? `; ${count(otherRows)} rows of other sessions not judged` : ""),
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

/** The `partition:offset` of each message of `topic` in a dead-letter table (none if absent). */
async function deadLettered(table: Table, topic: string): Promise<Set<string>> {
  const found = new Set<string>();
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
    for (let i = 0; i < batch.length; i++) if (t[i] === topic) found.add(`${p[i]}:${o[i]}`);
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
 * throwaway group, adding each message's rows per key to `expected`.
 */
async function readCommitted(
  source: KafkaSource,
  markers: ReadonlyMap<number, number>,
  expected: Map<string, number>,
  sessions: Set<string>,
): Promise<Map<number, PartitionRead>> {
  const reads = new Map<number, PartitionRead>();
  for (const [p, marker] of markers) {
    reads.set(p, {
      marker,
      first: undefined,
      last: -1,
      messages: 0,
      rows: 0,
      rowsThisRun: 0,
      gaps: 0,
      bad: [],
    });
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
  const deadline = Date.now() + (source.timeoutMs ?? 120_000);
  try {
    while (pending()) {
      if (Date.now() > deadline) {
        const behind = [...reads].filter(([, r]) => r.last < r.marker).map(([p, r]) =>
          `partition ${p} at ${r.last} of ${r.marker}`
        );
        throw new Error(`timed out: ${behind.join(", ")}`);
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
        // Capacity 1: an empty batch takes a message whole, whatever its size.
        const rows = new MessageRows(NEURAL_FIELDS, 1);
        const outcome = rows.add(m.value);
        const batch = rows.take();
        if (outcome.kind !== "added" || batch === undefined) {
          r.bad.push(m.offset);
          continue;
        }
        r.rows += batch.length;
        if (offset > (source.startMarkers?.get(m.partition) ?? -1)) r.rowsThisRun += batch.length;
        const s = batch.columns[si]!.values as string[];
        const w = batch.columns[wi]!.values as string[];
        const q = batch.columns[qi]!.values as BigInt64Array;
        forEachRun(s, w, q, batch.length, (key, session, rows) => {
          sessions.add(session);
          expected.set(key, (expected.get(key) ?? 0) + rows);
        });
      }
    }
  } finally {
    await consumer.close().catch(() => {});
  }
  return reads;
}

/** Calls `each` once per run of rows with one key, with the run's length. */
function forEachRun(
  s: string[],
  w: string[],
  q: BigInt64Array,
  length: number,
  each: (key: string, session: string, rows: number) => void,
): void {
  for (let start = 0; start < length;) {
    let end = start + 1;
    while (end < length && q[end] === q[start] && w[end] === w[start] && s[end] === s[start]) {
      end++;
    }
    each(messageKey(s[start]!, w[start]!, q[start]!), s[start]!, end - start);
    start = end;
  }
}

function messageKey(session: string, writer: string, seq: bigint): string {
  return `${session}\u0000${writer}\u0000${seq}`;
}

function readable(key: string): string {
  const [session, writer, seq] = key.split("\u0000");
  return `${writer} batch ${seq} (session ${session})`;
}
