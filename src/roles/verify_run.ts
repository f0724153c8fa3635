/**
 * The end-of-run verification: the rows acknowledged to writers are exactly
 * the rows of this run in the table. Every acknowledged batch is present with
 * its row count, no batch is present that was not acknowledged, no key
 * `(writer_id, batch_seq, neuron_id, timestamp_us)` appears twice, each
 * writer's batch sequences have no gaps, and the table passes `verify`.
 *
 * The table is read row group by row group, four columns only, so memory
 * stays bounded by one file's keys whatever the size of the run. A key
 * repeated within a file is found directly, even across its row groups; a
 * batch repeated in two files is found because a batch is one file (per
 * partition), and by the row counts.
 *
 * Neither side is a map of every batch: the acknowledged batches come as the
 * run ledger keeps them (per writer, ranges of sequences and a digest of
 * each batch's rows, roles/batch_tally.ts), and the batches found are
 * tallied the same way as the scan goes, so a run of a week is verified in
 * the memory of a run of a minute. Missing, unacknowledged and skipped
 * batches are named by their sequences; a batch with other rows than
 * acknowledged is found by the digest, which names its writer.
 */

import type { Verification, VerificationCheck } from "../metrics/results.ts";
import { scanTable } from "../ops/scan.ts";
import type { Table } from "../ops/table.ts";
import { verifyTable } from "../ops/verify.ts";
import { snapshotOf } from "../ops/table.ts";
import { BatchTally } from "./batch_tally.ts";
import type { Acknowledged } from "./run_ledger.ts";

export type { Acknowledged };

/** Verifies the rows of one session (run) against what was acknowledged. */
export async function verifyRun(
  table: Table,
  sessionId: string,
  acknowledged: Acknowledged,
): Promise<Verification> {
  const checks: VerificationCheck[] = [];
  // Per writer, the acknowledged batches found, and the others.
  const found = new Map<string, { acked: BatchTally; other: BatchTally }>();
  const foundOf = (writer: string) => {
    let f = found.get(writer);
    if (!f) {
      f = { acked: new BatchTally(), other: new BatchTally() };
      found.set(writer, f);
    }
    return f;
  };
  const partitioned = (await snapshotOf(table)).metadata.partitionColumns.length > 0;
  let tableRows = 0;
  let duplicates = 0;
  let duplicateExample = "";
  const scan = await scanTable(table, {
    columns: ["writer_id", "batch_seq", "neuron_id", "timestamp_us"],
    where: `session_id = '${sessionId.replaceAll("'", "''")}'`,
  });
  // The key groups of the file being read. A file gives one piece per row
  // group, and a batch may span row groups, so a group's keys are checked for
  // repeats once its file is done.
  let currentFile: string | undefined;
  const fileGroups = new Map<string, FileGroup>();
  const finishFile = () => {
    for (const group of fileGroups.values()) {
      if (group.increasing) continue;
      const keys = concatKeys(group.chunks);
      keys.sort();
      for (let i = 1; i < keys.length; i++) {
        if (keys[i] === keys[i - 1]) {
          duplicates++;
          duplicateExample ||= `${group.writer} batch ${group.seq}`;
        }
      }
    }
    fileGroups.clear();
  };
  for await (const { file, batch } of scan.pieces) {
    if (file !== currentFile) {
      finishFile();
      currentFile = file;
    }
    const writers = batch.columns[0]!.values as string[];
    const seqs = batch.columns[1]!.values as BigInt64Array;
    const neurons = batch.columns[2]!.values as Int32Array;
    const times = batch.columns[3]!.values as BigInt64Array;
    // The same 64-bit values as 32-bit halves: no BigInt per row.
    const timeWords = new Int32Array(times.buffer, times.byteOffset, times.length * 2);
    tableRows += batch.length;
    // A file holds whole batches one after another (a compacted file keeps
    // its inputs in order), so group runs of equal (writer, seq) rather than
    // building a key per row. A batch met twice in one file is merged.
    const groups = new Map<string, [number, number][]>();
    for (let start = 0; start < batch.length;) {
      const writer = writers[start]!;
      const seq = seqs[start]!;
      let end = start + 1;
      while (end < batch.length && seqs[end] === seq && writers[end] === writer) end++;
      const key = `${writer}\u0000${seq}`;
      const runs = groups.get(key);
      if (runs) runs.push([start, end]);
      else groups.set(key, [[start, end]]);
      start = end;
    }
    for (const [key, runs] of groups) {
      const [writer, seqText] = key.split("\u0000") as [string, string];
      const seq = Number(seqText);
      let count = 0;
      for (const [a, b] of runs) count += b - a;
      const f = foundOf(writer);
      const side = acknowledged.get(writer)?.seqs.has(seq) ? f.acked : f.other;
      let group = fileGroups.get(key);
      if (!group) {
        // A batch is one file (one per partition): met in an earlier file
        // of an unpartitioned table, it was written more than once.
        const metBefore = side.seqs.has(seq);
        group = {
          writer,
          seq,
          repeated: metBefore && !partitioned,
          base: micros(timeWords, runs[0]![0]),
          last: -Infinity,
          increasing: true,
          chunks: [],
        };
        fileGroups.set(key, group);
      }
      side.addRows(seq, count);
      if (group.repeated) {
        duplicates += count;
        duplicateExample ||= `${writer} batch ${seq} (in more than one file)`;
      }
      // Keys as exact doubles: microseconds since the batch's first sample
      // times 65536, plus the neuron. A batch comes out of the generator in
      // (tick, neuron) order, so strictly increasing keys prove uniqueness
      // without sorting; otherwise the file's keys of the batch are sorted.
      const keys = new Float64Array(count);
      let k = 0;
      for (const [a, b] of runs) {
        for (let i = a; i < b; i++) {
          const value = (micros(timeWords, i) - group.base) * 65536 + neurons[i]!;
          if (value <= group.last) group.increasing = false;
          group.last = value;
          keys[k++] = value;
        }
      }
      group.chunks.push(keys);
    }
  }
  finishFile();

  let ackRows = 0;
  let ackBatches = 0;
  const missing: string[] = [];
  const wrongCount: string[] = [];
  for (const [writer, batches] of acknowledged) {
    ackRows += batches.rows;
    ackBatches += batches.seqs.size;
    const f = found.get(writer)?.acked ?? new BatchTally();
    const lost = batches.seqs.without(f.seqs);
    for (const range of lost) missing.push(`${writer} ${batchRange(range)}`);
    // With every batch present, the digest compares each batch's rows.
    if (lost.length === 0 && !batches.sameRows(f)) {
      wrongCount.push(
        `${writer}: a batch's rows differ from its acknowledged count (${
          f.rows.toLocaleString("en-US")
        } rows in its ${batches.seqs.size} batches, acknowledged ${
          batches.rows.toLocaleString("en-US")
        })`,
      );
    }
  }
  const unacknowledged: string[] = [];
  const gaps: string[] = [];
  for (const [writer, f] of found) {
    for (const range of f.other.seqs.ranges()) {
      unacknowledged.push(`${writer} ${batchRange(range)}`);
    }
    // The two sides hold disjoint sequences: a gap is where neither has one.
    const ranges = [...f.acked.seqs.ranges(), ...f.other.seqs.ranges()].sort((a, b) => a[0] - b[0]);
    let end: number | undefined;
    for (const [lo, hi] of ranges) {
      if (end !== undefined && lo > end + 1) gaps.push(`${writer}: batches ${end + 1}..${lo - 1}`);
      end = Math.max(end ?? hi, hi);
    }
  }
  let unacknowledgedRows = 0;
  for (const f of found.values()) unacknowledgedRows += f.other.rows;
  const count = (n: number) => n.toLocaleString("en-US");
  const list = (items: string[]) =>
    items.slice(0, 5).join("; ") + (items.length > 5 ? `; and ${items.length - 5} more` : "");

  checks.push({
    name: "rows_acknowledged_equal_rows_in_table",
    passed: ackRows === tableRows,
    detail: `${count(ackRows)} rows acknowledged, ${
      count(tableRows)
    } rows of this run in the table`,
  });
  checks.push({
    name: "every_acknowledged_batch_present",
    passed: missing.length === 0 && wrongCount.length === 0,
    detail: missing.length + wrongCount.length === 0
      ? `${count(ackBatches)} batches present with their row counts`
      : `missing: ${list(missing) || "none"}; wrong counts: ${list(wrongCount) || "none"}`,
  });
  checks.push({
    name: "no_unacknowledged_batches",
    passed: unacknowledged.length === 0,
    detail: unacknowledged.length === 0
      ? "every batch in the table was acknowledged"
      : `${list(unacknowledged)} (${count(unacknowledgedRows)} rows)`,
  });
  checks.push({
    name: "no_duplicate_keys",
    passed: duplicates === 0,
    detail: duplicates === 0
      ? "(writer_id, batch_seq, neuron_id, timestamp_us) is unique"
      : `${count(duplicates)} repeated keys, first in ${duplicateExample}`,
  });
  checks.push({
    name: "batch_sequences_contiguous",
    passed: gaps.length === 0,
    detail: gaps.length === 0 ? "no writer skipped a batch" : list(gaps),
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
  return { passed: checks.every((c) => c.passed), checks };
}

/** A batch's rows met so far in the file being read. */
interface FileGroup {
  writer: string;
  seq: number;
  /** Met in an earlier file of an unpartitioned table: every row repeats. */
  repeated: boolean;
  base: number;
  last: number;
  increasing: boolean;
  chunks: Float64Array[];
}

/** A range of batch sequences in words: `batch 5` or `batches 5..7`. */
function batchRange([lo, hi]: [number, number]): string {
  return lo === hi ? `batch ${lo}` : `batches ${lo}..${hi}`;
}

function concatKeys(chunks: Float64Array[]): Float64Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Row `i` of int64 values (little-endian halves) as a double; exact below 2^53. */
function micros(words: Int32Array, i: number): number {
  return words[i * 2 + 1]! * 4294967296 + (words[i * 2]! >>> 0);
}
