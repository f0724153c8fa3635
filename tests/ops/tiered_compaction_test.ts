/**
 * Tiered compaction planning (what the compactor role runs beside writers):
 * every byte is rewritten a bounded number of times whatever the write rate,
 * a large output is never re-read to take in a few small files, and the
 * table still converges to files of half the target to the target. Then one
 * table compacted twice with the executor, the second pass leaving the first
 * pass's output alone.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Add } from "../../src/delta/actions.ts";
import { appendBatch, appendTarget } from "../../src/ops/append.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import {
  type CompactionPlanOptions,
  planCompaction,
  rewriteBound,
} from "../../src/ops/compaction_plan.ts";
import { createTable } from "../../src/ops/create.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { openTable, schemaFromFields, snapshotOf } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";

const T = 32_000;
const TIERED: CompactionPlanOptions = { targetFileSize: T, minFiles: 8, tiered: {} };
const PACKED: CompactionPlanOptions = { targetFileSize: T, minFiles: 8 };

let clock = 0;
function file(path: string, size: number, deleted = 0): Add {
  return {
    path,
    size,
    partitionValues: {},
    modificationTime: clock++,
    dataChange: true,
    stats: JSON.stringify({ numRecords: 100 }),
    ...(deleted
      ? {
        deletionVector: {
          storageType: "u",
          pathOrInlineDv: "vBn[lx{q8@P<9BNH/isA",
          offset: 1,
          sizeInBytes: 36,
          cardinality: deleted,
        },
      }
      : {}),
  };
}

const smalls = (prefix: string, n: number, size = 400) =>
  Array.from({ length: n }, (_, i) => file(`${prefix}${i}`, size));
const paths = (bins: { files: Add[] }[]) => bins.map((b) => b.files.map((f) => f.path));

Deno.test("planCompaction() tiered never re-reads a large output to add a few small files", () => {
  const files = [file("out", 15_000), ...smalls("s", 5)];
  // Packing everything below the target merges the output again.
  assertEquals(paths(planCompaction(files, { ...PACKED, minFiles: 4 })), [
    ["out", "s0", "s1", "s2", "s3", "s4"],
  ]);
  assertEquals(paths(planCompaction(files, { ...TIERED, minFiles: 4 })), [
    ["s0", "s1", "s2", "s3", "s4"],
  ]);
  assertEquals(planCompaction([file("out", 15_000), ...smalls("s", 3)], TIERED), []);
});

Deno.test("planCompaction() tiered merges small files into a mid file, leaving the larger ones", () => {
  const files = [file("mid", 12_000), ...smalls("s", 10)];
  assertEquals(paths(planCompaction(files, TIERED)), [smalls("s", 10).map((f) => f.path)]);
  // Fewer than minFiles small files wait.
  assertEquals(planCompaction([file("mid", 12_000), ...smalls("s", 7)], TIERED), []);
});

Deno.test("planCompaction() tiered merges mid files once they reach the fill of the target", () => {
  const mids = [file("m0", 10_000), file("m1", 9_000), file("m2", 4_000)];
  // 23,000 bytes: under 3/4 of the target, and no growing merge.
  assertEquals(planCompaction(mids, TIERED), []);
  const more = [...mids, file("m3", 1_000), ...smalls("s", 3)];
  const bins = planCompaction(more, TIERED);
  assertEquals(paths(bins), [["m0", "m1", "m2", "m3", "s0", "s1", "s2"]]);
  assertEquals(bins[0]!.bytes, 25_200);
});

Deno.test("planCompaction() tiered leaves files of half the target or more alone, unless purging", () => {
  const files = [file("half", 16_000), file("near", 17_000), ...smalls("s", 8)];
  assertEquals(paths(planCompaction(files, TIERED)), [smalls("s", 8).map((f) => f.path)]);
  // A vector deleting over 5 % of a final file's rows still purges it, alone.
  const purging = [file("half", 16_000, 10), file("near", 17_000), ...smalls("s", 2)];
  assertEquals(paths(planCompaction(purging, TIERED)), [["half"]]);
  // A small file to purge is merged even where neither rule would merge.
  const small = [file("mid", 12_000), file("p", 400, 10)];
  assertEquals(paths(planCompaction(small, TIERED)), [["mid", "p"]]);
});

Deno.test("rewriteBound() counts growing merges up to half the target, then one finishing merge", () => {
  assertEquals(rewriteBound(16_000, T, 8), 0);
  assertEquals(rewriteBound(15_999, T, 8), 2);
  assertEquals(rewriteBound(2_000, T, 8), 2);
  assertEquals(rewriteBound(1_999, T, 8), 3);
  assertEquals(rewriteBound(250, T, 8), 3);
  assertEquals(rewriteBound(249, T, 8), 4);
});

/** A file of the simulation: its size and the most rewrites any of its bytes went through. */
interface SimFile extends Add {
  rewrites: number;
}

/**
 * Writers add `perPass` files of about `size` bytes (±20 %) before each
 * pass; each pass plans and applies its bins (a merged file is the sum of
 * its inputs). Then, with no more writes, passes run until none merges.
 */
function simulate(perPass: number, size: number, passes: number, options: CompactionPlanOptions) {
  let files: SimFile[] = [];
  let n = 0;
  let written = 0;
  let read = 0;
  let maxRewrites = 0;
  let smallest = Infinity;
  let mostBelowHalf = 0;
  const pass = () => {
    const bins = planCompaction(files, options);
    for (const bin of bins) {
      const gone = new Set<Add>(bin.files);
      files = files.filter((f) => !gone.has(f));
      read += bin.bytes;
      const rewrites = 1 + Math.max(...bin.files.map((f) => (f as SimFile).rewrites));
      maxRewrites = Math.max(maxRewrites, rewrites);
      files.push({ ...file(`c${n++}`, bin.bytes), rewrites });
    }
    return bins.length;
  };
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < perPass; i++) {
      const bytes = Math.round(size * (0.8 + 0.4 * ((n * 7919) % 101) / 100));
      smallest = Math.min(smallest, bytes);
      written += bytes;
      files.push({ ...file(`w${n++}`, bytes), rewrites: 0 });
    }
    pass();
    mostBelowHalf = Math.max(mostBelowHalf, files.filter((f) => f.size < T / 2).length);
  }
  while (pass() > 0);
  const left = files.filter((f) => f.size < T / 2);
  return {
    amplification: read / written,
    maxRewrites,
    smallest,
    mostBelowHalf,
    leftBelowHalf: left.length,
    leftBytes: left.reduce((s, f) => s + f.size, 0),
    finalFiles: files.filter((f) => f.size >= T / 2),
  };
}

Deno.test("planCompaction() tiered rewrites each byte a bounded number of times at any write rate", () => {
  for (const perPass of [1, 3, 10, 25, 40, 60, 100]) {
    const tiered = simulate(perPass, 400, 200, TIERED);
    const bound = rewriteBound(tiered.smallest, T, 8);
    assert(
      tiered.maxRewrites <= bound,
      `${perPass} files a pass: a byte was rewritten ${tiered.maxRewrites} times, over the bound ${bound}`,
    );
    assert(
      tiered.amplification <= bound,
      `${perPass} files a pass: read ${tiered.amplification} times the bytes written`,
    );
    // Small files do not pile up while the writes go on.
    assert(
      tiered.mostBelowHalf <= perPass + 3 * 8,
      `${perPass} files a pass: ${tiered.mostBelowHalf} files below half the target`,
    );
  }
  // Packing everything below the target rereads each output once per pass
  // until it is full: at 10 files a pass, 4.5 times the bytes written.
  const packed = simulate(10, 400, 200, PACKED);
  const tiered = simulate(10, 400, 200, TIERED);
  assert(packed.maxRewrites >= 7, `packed: ${packed.maxRewrites} rewrites`);
  assert(
    tiered.amplification * 2 < packed.amplification,
    `tiered ${tiered.amplification}, packed ${packed.amplification}`,
  );
});

Deno.test("planCompaction() tiered converges to files of half the target to the target", () => {
  for (const perPass of [1, 3, 10, 25, 40, 60, 100]) {
    const r = simulate(perPass, 400, 200, TIERED);
    for (const f of r.finalFiles) assert(f.size <= T, `${perPass} files a pass: ${f.size} bytes`);
    // What stays below half the target once the writes stop is a tail of
    // less than one target's worth: a few mid files, and small ones short of
    // a growing merge.
    assert(r.leftBelowHalf <= 2 * 8, `${perPass} files a pass: ${r.leftBelowHalf} files left`);
    assert(r.leftBytes < T, `${perPass} files a pass: ${r.leftBytes} bytes left`);
  }
});

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

Deno.test("compactOnce() tiered merges new small files without re-reading an earlier output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-tiered-" });
  try {
    const table = await openTable(dir);
    await createTable(table, { schema: schemaFromFields(FIELDS) });
    const target = appendTarget(table.store, FIELDS, []);
    let version = 0;
    let next = 0;
    // Files of 20,000 rows of spread-out longs: large enough to be copied.
    const append = async (files: number) => {
      for (let i = 0; i < files; i++) {
        const rows = Array.from({ length: 20_000 }, () => ({ n: BigInt(next++) * 2654435761n }));
        const result = await appendBatch(target, batchOf(FIELDS, rows), {
          readVersion: version,
          description: { operation: "WRITE", isBlindAppend: true },
        });
        assertEquals(result.outcome.kind, "committed");
        version++;
      }
    };
    await append(8);
    const size = [...(await snapshotOf(table)).files.values()][0]!.size;
    const options = { targetFileSize: size * 24, minFiles: 4, tiered: {} };
    const first = await compactOnce(table, await snapshotOf(table), options);
    assertEquals(first.map((o) => [o.kind, o.filesIn]), [["committed", 8]]);
    const output = first[0]!.bytesOut;
    await append(5);
    const second = await compactOnce(table, await snapshotOf(table), options);
    assertEquals(second.map((o) => [o.kind, o.filesIn]), [["committed", 5]]);
    assert(second[0]!.bytesIn < output, `read ${second[0]!.bytesIn} bytes`);
    const state = await snapshotOf(table);
    assertEquals(state.files.size, 2);
    let rows = 0;
    for await (const batch of (await scanTable(table, { columns: ["n"] })).batches) {
      rows += batch.length;
    }
    assertEquals(rows, 13 * 20_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
