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
 */

import type { Verification, VerificationCheck } from "../metrics/results.ts";
import { scanTable } from "../ops/scan.ts";
import type { Table } from "../ops/table.ts";
import { verifyTable } from "../ops/verify.ts";
import { snapshotOf } from "../ops/table.ts";

/** Acknowledged batches: writer id -> batch sequence -> rows. */
export type Acknowledged = Map<string, Map<number, number>>;

/** Verifies the rows of one session (run) against what was acknowledged. */
export async function verifyRun(
  table: Table,
  sessionId: string,
  acknowledged: Acknowledged,
): Promise<Verification> {
  const checks: VerificationCheck[] = [];
  const found = new Map<string, Map<number, number>>();
  // Files each batch was found in: a batch is one file (one per partition),
  // so a batch met in more files than that was written more than once.
  const seenIn = new Map<string, number>();
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
      const perWriter = found.get(writer) ?? new Map<number, number>();
      perWriter.set(seq, (perWriter.get(seq) ?? 0) + count);
      found.set(writer, perWriter);
      let group = fileGroups.get(key);
      if (!group) {
        const files = (seenIn.get(key) ?? 0) + 1;
        seenIn.set(key, files);
        group = {
          writer,
          seq,
          files,
          repeated: files > 1 && !partitioned,
          base: micros(timeWords, runs[0]![0]),
          last: -Infinity,
          increasing: true,
          chunks: [],
        };
        fileGroups.set(key, group);
      }
      if (group.repeated) {
        duplicates += count;
        duplicateExample ||= `${writer} batch ${seq} (in ${group.files} files)`;
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
  const missing: string[] = [];
  const wrongCount: string[] = [];
  for (const [writer, batches] of acknowledged) {
    for (const [seq, rows] of batches) {
      ackRows += rows;
      const have = found.get(writer)?.get(seq);
      if (have === undefined) missing.push(`${writer} batch ${seq} (${rows} rows)`);
      else if (have !== rows) {
        wrongCount.push(`${writer} batch ${seq}: ${have} rows, acknowledged ${rows}`);
      }
    }
  }
  const unacknowledged: string[] = [];
  const gaps: string[] = [];
  for (const [writer, batches] of found) {
    for (const [seq, rows] of batches) {
      if (!acknowledged.get(writer)?.has(seq)) {
        unacknowledged.push(`${writer} batch ${seq} (${rows} rows)`);
      }
    }
    const seqs = [...batches.keys()].sort((a, b) => a - b);
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== seqs[i - 1]! + 1) {
        gaps.push(`${writer}: batches ${seqs[i - 1]! + 1}..${seqs[i]! - 1}`);
      }
    }
  }
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
      ? `${
        count([...acknowledged.values()].reduce((n, m) => n + m.size, 0))
      } batches present with their row counts`
      : `missing: ${list(missing) || "none"}; wrong counts: ${list(wrongCount) || "none"}`,
  });
  checks.push({
    name: "no_unacknowledged_batches",
    passed: unacknowledged.length === 0,
    detail: unacknowledged.length === 0
      ? "every batch in the table was acknowledged"
      : list(unacknowledged),
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
      detail: (c.skipped ? "skipped: " : "") + c.detail +
        (c.problems.length ? `: ${c.problems.slice(0, 3).join("; ")}` : ""),
    });
  }
  return { passed: checks.every((c) => c.passed), checks };
}

/** A batch's rows met so far in the file being read. */
interface FileGroup {
  writer: string;
  seq: number;
  /** How many files the batch was met in, this one included. */
  files: number;
  /** Met in an earlier file of an unpartitioned table: every row repeats. */
  repeated: boolean;
  base: number;
  last: number;
  increasing: boolean;
  chunks: Float64Array[];
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
