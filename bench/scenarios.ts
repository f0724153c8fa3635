/**
 * The benchmark scenarios, each run for neuralake and for delta-rs on the
 * same data in the same run: streaming micro-batch append, bulk append,
 * compaction, vacuum, snapshot load, scan, and streaming on S3.
 */

import process from "node:process";
import { parse } from "csv-parse/sync";
import type { ColumnBatch } from "../src/columnar/batch.ts";
import { formatTimestamp } from "../src/columnar/scalar.ts";
import { NEURAL_FIELDS } from "../src/sources/neural.ts";
import { latestSnapshotOf, openTable, snapshotOf } from "../src/ops/table.ts";
import { writeTable } from "../src/ops/write.ts";
import { createTable } from "../src/ops/create.ts";
import { schemaFromFields } from "../src/delta/schema.ts";
import { compactOnce } from "../src/ops/compaction.ts";
import { vacuum } from "../src/ops/vacuum.ts";
import { scanTable } from "../src/ops/scan.ts";
import { loadSnapshot } from "../src/delta/snapshot.ts";
import { LocalStore } from "../src/storage/local.ts";
import { parquetCheckpointCodec } from "../src/ops/checkpoint_codec.ts";
import { resolveConfig } from "../src/roles/config.ts";
import { runStream } from "../src/roles/orchestrator.ts";
import { deltaRsBench } from "./delta_rs.ts";
import { limit } from "./limit.ts";
import { finishedStream, streamVerdict } from "./kept.ts";
import { KAFKA_SCENARIOS } from "./kafka.ts";
import {
  copyTree,
  manyCommitsTable,
  manyFilesTable,
  neuralBatch,
  scanTableFixture,
  smallFilesTable,
  tombstonedTable,
  treeBytes,
  writePool,
} from "./fixtures.ts";
import { measurePairs, median, type ScenarioResult, type SideRun } from "./harness.ts";

/** What every scenario gets. */
export interface BenchContext {
  quick: boolean;
  repetitions: number;
  warmup: number;
  /** A scratch directory, removed at the end. */
  work: string;
  /**
   * Where the evidence of a failed repetition is kept (`bench-results/<run
   * stamp>-failed`, made on first use): it outlives the scratch directory.
   */
  keepDir: string;
  progress: (line: string) => void;
  /** The shared pool of generated rows, as a Parquet file for delta-rs. */
  pool(rows: number): Promise<string>;
  /** S3 settings for the S3 scenario, when a server is available. */
  s3?: { bucket: string; env: Record<string, string>; storageOptions: Record<string, string> };
  /** The Kafka broker of the Kafka scenarios, when one is running. */
  kafka?: { brokers: string[] };
}

/** A scenario: a name and how to run it. */
export interface Scenario {
  name: string;
  run(ctx: BenchContext): Promise<ScenarioResult[]>;
}

let counter = 0;
/** Prepared tables kept between runs (git-ignored): slow to build, never written by a bench. */
const BENCH_CACHE = new URL("../.cache/bench", import.meta.url).pathname;

function fresh(ctx: BenchContext, label: string): string {
  return `${ctx.work}/${label}-${counter++}`;
}

async function removeQuietly(path: string) {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}

/**
 * CPU seconds (user + system, every thread) this process has used since
 * `since`: on a machine shared with other work, the CPU an operation costs
 * varies far less than its wall time.
 */
function cpuSeconds(since?: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Per batch: encode + upload + commit, from a run's metrics CSV. */
async function appendLatencies(csvPath: string): Promise<number[]> {
  const records = parse(await Deno.readTextFile(csvPath), { columns: true }) as Record<
    string,
    string
  >[];
  return records
    .filter((r) => r.event === "batch_committed" && r.commit_ms !== "")
    .map((r) => Number(r.encode_ms) + Number(r.upload_ms) + Number(r.commit_ms));
}

function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1))]!;
}

/** Bytes per row of the data files the writers committed, from a run's metrics CSV. */
async function writtenBytesPerRow(csvPath: string): Promise<number> {
  const records = parse(await Deno.readTextFile(csvPath), { columns: true }) as Record<
    string,
    string
  >[];
  let bytes = 0;
  let rows = 0;
  for (const r of records) {
    if (r.event !== "batch_committed") continue;
    bytes += Number(r.bytes);
    rows += Number(r.rows);
  }
  return rows ? bytes / rows : 0;
}

/** Streaming micro-batch append with 3 writers: neuralake's roles (with compaction and vacuum) against 3 delta-rs processes. */
function streaming(name: string, s3: boolean): Scenario {
  return {
    name,
    async run(ctx) {
      if (s3 && !ctx.s3) {
        throw new Error(
          "The S3 scenario needs the S3 server: run scripts/s3-server.sh start first",
        );
      }
      const seconds = ctx.quick ? 3 : 10;
      const batchSizes = s3 ? [5_000] : [500, 5_000, 50_000];
      const pool = await ctx.pool(ctx.quick ? 200_000 : 1_000_000);
      const results: ScenarioResult[] = [];
      for (const rows of batchSizes) {
        const uriOf = (label: string) =>
          s3 ? `s3://${ctx.s3!.bucket}/bench/${label}-${crypto.randomUUID()}` : fresh(ctx, label);
        results.push(
          ...await measurePairs(
            name,
            `3 writers, ${rows.toLocaleString("en-US")} rows/batch, ${seconds} s`,
            [
              { key: "rows_per_second", label: "rows/s", better: "higher" },
              { key: "commits_per_second", label: "commits/s", better: "higher" },
              { key: "latency_p50", label: "append latency p50 (ms)", better: "lower" },
              { key: "latency_p99", label: "append latency p99 (ms)", better: "lower" },
              ...(s3 ? [] : [{
                key: "bytes_per_row",
                label: "bytes/row as written",
                better: "lower" as const,
              }]),
            ],
            {
              repetitions: ctx.repetitions,
              warmup: ctx.warmup,
              sameRowsAcrossSides: false,
              notes:
                "neuralake runs with compaction and vacuum on; bytes/row as written counts each side's writers' files before any compaction (delta-rs's rows cycle through a pool, so a compacted delta-rs table would fold repeats); append latency is encode + upload + commit; a delta-rs writer whose commit fails after delta-rs's own retries writes the batch again, as a client would, within the batch's latency",
            },
            async (rep) => {
              const table = uriOf("ours");
              const out = fresh(ctx, "runs");
              const config = resolveConfig({
                profile: "local",
                env: {},
                flags: [
                  ["table", table],
                  ["out", out],
                  ["durationMs", `${seconds}s`],
                  ["writers", "3"],
                  ["batchRows", String(rows)],
                  ["compaction.intervalMs", "1s"],
                ],
              });
              const run = await runStream(config, { progress: false });
              const { results: r, dir } = run;
              const latencies = await appendLatencies(dir.metricsCsv);
              const bytesPerRow = await writtenBytesPerRow(dir.metricsCsv);
              const verdict = await streamVerdict(
                finishedStream(run),
                table,
                ctx.keepDir,
                `${s3 ? "s3-" : ""}stream-${rows}-rows-rep${rep}`,
                ctx.progress,
              );
              if (!s3) await removeQuietly(table);
              return {
                sample: {
                  rows_per_second: r.totals.rows_per_second,
                  commits_per_second: r.totals.commits / r.wall_seconds,
                  latency_p50: percentile(latencies, 50),
                  latency_p99: percentile(latencies, 99),
                  bytes_per_row: bytesPerRow,
                },
                expectedRows: r.totals.rows_acknowledged,
                ...verdict,
              };
            },
            async () => {
              const uri = uriOf("theirs");
              const r = await deltaRsBench({
                op: "stream",
                uri,
                pool,
                rows,
                seconds,
                writers: 3,
                measure_bytes: !s3,
                ...(s3 ? { storage_options: ctx.s3!.storageOptions } : {}),
              });
              if (!s3) await removeQuietly(uri);
              return { sample: r, expectedRows: r.rows, tableRows: r.table_rows };
            },
            ctx.progress,
          ),
        );
      }
      return results;
    },
  };
}

/** Bulk append: N rows as one write. */
const bulk: Scenario = {
  name: "bulk append",
  async run(ctx) {
    const results: ScenarioResult[] = [];
    for (const total of ctx.quick ? [1_000_000] : [1_000_000, 10_000_000]) {
      const pool = await ctx.pool(total);
      // neuralake's input, generated before timing (delta-rs loads its Arrow table before timing too).
      const batches: ColumnBatch[] = [];
      for (let start = 0; start < total; start += 1_000_000) {
        batches.push(neuralBatch("pool", 0, Math.min(1_000_000, total - start), start));
      }
      results.push(
        ...await measurePairs(
          "bulk append",
          `${total.toLocaleString("en-US")} rows, one commit`,
          [
            { key: "rows_per_second", label: "rows/s", better: "higher" },
            { key: "mb_per_second", label: "output MB/s", better: "higher" },
            { key: "bytes_per_row", label: "bytes/row", better: "lower" },
          ],
          { repetitions: ctx.repetitions, warmup: ctx.warmup, sameRowsAcrossSides: true },
          async () => {
            const dir = fresh(ctx, "bulk-ours");
            const table = await openTable(dir);
            const t0 = performance.now();
            const r = await writeTable(table, {
              fields: NEURAL_FIELDS,
              async *batches() {
                yield* batches;
              },
            });
            const seconds = (performance.now() - t0) / 1000;
            const rows = (await snapshotOf(table)).files.size > 0 ? r.rows : 0;
            await removeQuietly(dir);
            return {
              sample: {
                rows_per_second: r.rows / seconds,
                mb_per_second: r.bytes / 1e6 / seconds,
                bytes_per_row: r.bytes / r.rows,
              },
              expectedRows: total,
              tableRows: rows,
            };
          },
          async () => {
            const dir = fresh(ctx, "bulk-theirs");
            const r = await deltaRsBench({ op: "bulk", uri: dir, pool, rows: total });
            await removeQuietly(dir);
            return {
              sample: {
                rows_per_second: r.rows / r.seconds,
                mb_per_second: r.bytes / 1e6 / r.seconds,
                bytes_per_row: r.bytes / r.rows,
              },
              expectedRows: total,
              tableRows: r.table_rows,
            };
          },
          ctx.progress,
        ),
      );
    }
    return results;
  },
};

/**
 * One neuralake side of a compaction pair: compacts a fresh copy of
 * `fixture` into files of `target` bytes, timed from the compaction's start
 * (the copy and the snapshot are not), and removes the copy. The table rows
 * are the rows committed if one file is left, else minus the file count.
 */
async function compactCopy(
  ctx: BenchContext,
  fixture: string,
  name: string,
  { target, inputBytes, expectedRows }: {
    target: number;
    inputBytes: number;
    expectedRows: number;
  },
) {
  const dir = fresh(ctx, name);
  await copyTree(fixture, dir);
  const table = await openTable(dir);
  const state = await snapshotOf(table);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const bins = await compactOnce(table, state, { targetFileSize: target, minFiles: 2 });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  const after = await snapshotOf(table);
  const rows = bins.reduce((n, b) => n + (b.kind === "committed" ? b.rows : 0), 0);
  await removeQuietly(dir);
  return {
    sample: { mb_per_second: inputBytes / 1e6 / seconds, seconds, cpu_seconds: cpu },
    expectedRows,
    tableRows: after.files.size === 1 ? rows : -after.files.size,
  };
}

/**
 * Compaction of many files into one target size. `copyable` files are what
 * the stream job writes (one row group of tens of thousands of rows each),
 * which neuralake copies byte for byte; the small ones are re-encoded by both
 * sides.
 */
function compaction(name: string, shape: (quick: boolean) => { files: number; rows: number }) {
  return {
    name,
    async run(ctx: BenchContext): Promise<ScenarioResult[]> {
      const { files, rows: rowsPerFile } = shape(ctx.quick);
      const fixture = fresh(ctx, "compaction-fixture");
      ctx.progress(`preparing a table of ${files} files of ${rowsPerFile} rows`);
      await smallFilesTable(fixture, files, rowsPerFile);
      const inputBytes = await treeBytes(fixture) - await treeBytes(`${fixture}/_delta_log`);
      const target = 512 * 1024 * 1024;
      const results = await measurePairs(
        name,
        `${files.toLocaleString("en-US")} files x ${
          rowsPerFile.toLocaleString("en-US")
        } rows into one`,
        [
          { key: "mb_per_second", label: "input MB/s", better: "higher" },
          { key: "seconds", label: "wall time (s)", better: "lower" },
          { key: "cpu_seconds", label: "CPU time (s)", better: "lower" },
        ],
        { repetitions: ctx.repetitions, warmup: ctx.warmup, sameRowsAcrossSides: true },
        () =>
          compactCopy(ctx, fixture, "compact-ours", {
            target,
            inputBytes,
            expectedRows: files * rowsPerFile,
          }),
        async () => {
          const dir = fresh(ctx, "compact-theirs");
          await copyTree(fixture, dir);
          const r = await deltaRsBench({ op: "compact", uri: dir, target_size: target });
          await removeQuietly(dir);
          return {
            sample: {
              mb_per_second: inputBytes / 1e6 / r.seconds,
              seconds: r.seconds,
              cpu_seconds: r.cpu_seconds,
            },
            expectedRows: files * rowsPerFile,
            tableRows: r.files_after === 1 ? r.table_rows : -r.files_after,
          };
        },
        ctx.progress,
      );
      await removeQuietly(fixture);
      return results;
    },
  };
}

/**
 * Vacuum of many expired, unreferenced files. Both sides open the table
 * before the clock starts. Two variants: a full pass that lists the table
 * (delta-rs `full=True`), and a log-only pass over the tombstones (delta-rs's
 * default). A third pairs the full pass with the floor of any pass on this
 * disk: the same files unlinked one by one on one thread, with nothing else
 * timed (`unlink` in bench/py/delta_rs_bench.py). Its files/s against
 * delta-rs's full pass bounds the full variant's ratio on this table in the
 * same run: a pass that unlinks on one thread cannot beat it.
 */
const vacuumScenario: Scenario = {
  name: "vacuum",
  async run(ctx) {
    const files = ctx.quick ? 2_000 : 10_000;
    const fixture = fresh(ctx, "vacuum-fixture");
    await tombstonedTable(fixture, files);
    const keep = [...(await snapshotOf(await openTable(fixture))).files.values()].map((add) =>
      add.path
    );
    const metrics = [
      { key: "files_per_second", label: "files deleted/s", better: "higher" as const },
      { key: "cpu_seconds", label: "CPU time (s)", better: "lower" as const },
    ];
    const ours = async (mode: "full" | "log-only"): Promise<SideRun> => {
      const dir = fresh(ctx, "vacuum-ours");
      await copyTree(fixture, dir);
      const table = await openTable(dir);
      await latestSnapshotOf(table);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await vacuum(table.store, () => latestSnapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        mode,
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(c0);
      const rows = (await snapshotOf(table)).files.size;
      await removeQuietly(dir);
      return {
        sample: {
          files_per_second: r.filesDeleted / seconds,
          cpu_seconds: cpu,
          deleted: r.filesDeleted,
        },
        expectedRows: files === r.filesDeleted ? 1 : -1,
        tableRows: rows,
      };
    };
    const theirs = async (op: "vacuum" | "unlink", full: boolean): Promise<SideRun> => {
      const dir = fresh(ctx, "vacuum-theirs");
      await copyTree(fixture, dir);
      const r = await deltaRsBench({ op, uri: dir, full, keep });
      await removeQuietly(dir);
      return {
        sample: {
          files_per_second: r.deleted / r.seconds,
          cpu_seconds: r.cpu_seconds,
          deleted: r.deleted,
        },
        expectedRows: files === r.deleted ? 1 : -1,
        tableRows: r.table_rows,
      };
    };
    const count = files.toLocaleString("en-US");
    const results: ScenarioResult[] = [];
    const options = { repetitions: ctx.repetitions, warmup: ctx.warmup, sameRowsAcrossSides: true };
    for (const mode of ["full", "log-only"] as const) {
      results.push(
        ...await measurePairs(
          "vacuum",
          `${count} expired unreferenced files, ${
            mode === "full" ? "full (lists the table)" : "log-only (tombstones)"
          }`,
          metrics,
          options,
          () => ours(mode),
          () => theirs("vacuum", mode === "full"),
          ctx.progress,
        ),
      );
    }
    results.push(
      ...await measurePairs(
        "vacuum",
        `${count} expired unreferenced files, full, against the unlink floor`,
        metrics,
        {
          ...options,
          peer: "unlink floor",
          notes:
            "the peer unlinks the same files one by one on one thread (os.unlink by name in the open directory, as a C loop of unlinkat does), listed before its clock starts: no pass that unlinks on one thread is faster, so its files/s over delta-rs's full pass above bounds the full variant's ratio",
        },
        () => ours("full"),
        () => theirs("unlink", true),
        ctx.progress,
      ),
    );
    return results;
  },
};

/** The time to open the table in `dir`, ours against delta-rs's; both must see `files` files. */
function measureOpen(
  ctx: BenchContext,
  dir: string,
  variant: string,
  files: number,
): Promise<ScenarioResult[]> {
  return measurePairs(
    "snapshot load",
    variant,
    [
      { key: "ms", label: "open time (ms)", better: "lower" },
      // On a machine shared with other work the CPU an open costs varies far
      // less than its wall time.
      { key: "cpu_ms", label: "CPU time (ms)", better: "lower" },
    ],
    { repetitions: ctx.repetitions, warmup: ctx.warmup, sameRowsAcrossSides: true },
    async () => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const snapshot = await loadSnapshot(new LocalStore(dir), parquetCheckpointCodec);
      const ms = performance.now() - t0;
      const cpu_ms = cpuSeconds(c0) * 1000;
      return { sample: { ms, cpu_ms }, expectedRows: files, tableRows: snapshot.files.size };
    },
    async () => {
      const r = await deltaRsBench({ op: "open", uri: dir });
      return {
        sample: { ms: r.seconds * 1000, cpu_ms: r.cpu_seconds * 1000 },
        expectedRows: files,
        tableRows: r.files,
      };
    },
    ctx.progress,
  );
}

/** Opening a table: snapshot load with and without checkpoints. */
const snapshotLoad: Scenario = {
  name: "snapshot load",
  async run(ctx) {
    const results: ScenarioResult[] = [];
    for (const commits of ctx.quick ? [1_000] : [1_000, 10_000]) {
      for (const every of [undefined, 100]) {
        const dir = fresh(ctx, `commits-${commits}-${every ?? "none"}`);
        ctx.progress(`preparing a table of ${commits} commits${every ? " with checkpoints" : ""}`);
        await manyCommitsTable(dir, commits, every);
        const variant = `${commits.toLocaleString("en-US")} commits, ${
          every ? `checkpoint every ${every}` : "no checkpoint"
        }`;
        results.push(...await measureOpen(ctx, dir, variant, commits));
      }
    }
    // A big table: 100,000 files in 1,000 commits of 100 adds, a checkpoint
    // every 100 commits (the last at the final version, as for 10,000 commits
    // above, which hold 10,000 files): open time should grow no faster than
    // the file count.
    if (!ctx.quick) {
      const files = 100_000;
      ctx.progress(`preparing (or reusing from .cache/bench) a table of ${files} files`);
      const dir = await manyFilesTable(BENCH_CACHE, files, 100, 100);
      const variant = `${
        files.toLocaleString("en-US")
      } files in 1,000 commits, checkpoint every 100`;
      results.push(...await measureOpen(ctx, dir, variant, files));
    }
    return results;
  },
};

/** Scans: all rows, and a predicate that statistics prune to 1% of the files. */
const scan: Scenario = {
  name: "scan",
  async run(ctx) {
    const files = ctx.quick ? 20 : 100;
    const rowsPerFile = ctx.quick ? 50_000 : 100_000;
    const dir = fresh(ctx, "scan-fixture");
    const { oneFile, oneFileRows } = await scanTableFixture(dir, files, rowsPerFile);
    const results: ScenarioResult[] = [];
    for (const selective of [false, true]) {
      const where = selective
        ? `timestamp_us >= '${formatTimestamp(BigInt(oneFile[0]))}' and timestamp_us < '${
          formatTimestamp(BigInt(oneFile[1]))
        }'`
        : undefined;
      results.push(
        ...await measurePairs(
          "scan",
          selective
            ? `predicate selecting rows of 1 of ${files} files`
            : `full scan, ${(files * rowsPerFile).toLocaleString("en-US")} rows`,
          [
            { key: "rows_per_second", label: "rows/s", better: "higher" },
            { key: "files_read", label: "files read", better: "lower" },
          ],
          { repetitions: ctx.repetitions, warmup: ctx.warmup, sameRowsAcrossSides: true },
          async () => {
            const t0 = performance.now();
            const s = await scanTable(await openTable(dir), where ? { where } : {});
            let rows = 0;
            for await (const batch of s.batches) rows += batch.length;
            const seconds = (performance.now() - t0) / 1000;
            return {
              sample: { rows_per_second: rows / seconds, files_read: s.stats.filesRead },
              expectedRows: selective ? oneFileRows : files * rowsPerFile,
              tableRows: rows,
            };
          },
          async () => {
            const r = await deltaRsBench({
              op: "scan",
              uri: dir,
              ...(selective ? { between: oneFile } : {}),
            });
            return {
              sample: { rows_per_second: r.rows / r.seconds, files_read: r.files_read },
              expectedRows: selective ? oneFileRows : files * rowsPerFile,
              tableRows: r.rows,
            };
          },
          ctx.progress,
        ),
      );
    }
    return results;
  },
};

/** Small appends one after another on the S3 server: the latency of each. */
const s3SmallAppends: Scenario = {
  name: "small appends on S3",
  async run(ctx) {
    if (!ctx.s3) {
      throw new Error("The S3 scenario needs the S3 server: run scripts/s3-server.sh start first");
    }
    const count = ctx.quick ? 20 : 50;
    const rows = 10;
    const pool = await ctx.pool(ctx.quick ? 200_000 : 1_000_000);
    const uriOf = (label: string) => `s3://${ctx.s3!.bucket}/bench/${label}-${crypto.randomUUID()}`;
    return await measurePairs(
      "small appends on S3",
      `${count} appends of ${rows} rows, one after another`,
      [
        { key: "latency_p50", label: "append latency p50 (ms)", better: "lower" },
        { key: "latency_p99", label: "append latency p99 (ms)", better: "lower" },
      ],
      {
        repetitions: ctx.repetitions,
        warmup: ctx.warmup,
        sameRowsAcrossSides: true,
        notes: "whole appends on both sides: encode, upload and commit",
      },
      async () => {
        const table = await openTable(uriOf("appends-ours"));
        const latencies: number[] = [];
        await createTable(table, {
          schema: schemaFromFields(NEURAL_FIELDS.map((f) => ({ ...f, nullable: true }))),
        });
        for (let i = 0; i < count; i++) {
          const batch = neuralBatch("writer-0", i, rows, i * rows);
          const t0 = performance.now();
          await writeTable(table, {
            fields: NEURAL_FIELDS,
            async *batches() {
              yield batch;
            },
          }, {
            autoCheckpoint: false,
          });
          latencies.push(performance.now() - t0);
        }
        const tableRows = await scanRows(table);
        return {
          sample: {
            latency_p50: percentile(latencies, 50),
            latency_p99: percentile(latencies, 99),
          },
          expectedRows: count * rows,
          tableRows,
        };
      },
      async () => {
        const r = await deltaRsBench({
          op: "appends",
          uri: uriOf("appends-theirs"),
          pool,
          rows,
          count,
          storage_options: ctx.s3!.storageOptions,
        });
        return { sample: r, expectedRows: r.rows, tableRows: r.table_rows };
      },
      ctx.progress,
    );
  },
};

async function scanRows(table: Awaited<ReturnType<typeof openTable>>): Promise<number> {
  const s = await scanTable(table, { columns: ["batch_seq"] });
  let rows = 0;
  for await (const b of s.batches) rows += b.length;
  return rows;
}

/** A Kafka scenario, which needs the run's broker. */
function kafkaScenario(name: string): Scenario {
  const scenario = KAFKA_SCENARIOS.find((s) => s.name === name)!;
  return {
    name,
    run(ctx) {
      if (!ctx.kafka) {
        throw new Error(
          "The Kafka scenarios need a Kafka broker: scripts/kafka-server.sh start did not succeed",
        );
      }
      return scenario.run({ ...ctx, brokers: ctx.kafka.brokers });
    },
  };
}

/**
 * What keeping row ids costs compaction: the stream job's files (one row
 * group of 50,000 rows each) in a row-tracking table, whose row groups are
 * copied with the two materialized columns encoded beside them, against the
 * same files in a table without row tracking (copied as they are), both by
 * neuralake.
 */
const compactionRowTracking = {
  name: "compaction, row tracking",
  async run(ctx: BenchContext): Promise<ScenarioResult[]> {
    const files = ctx.quick ? 40 : 200;
    const rowsPerFile = 50_000;
    const tracked = fresh(ctx, "compaction-tracked-fixture");
    const plain = fresh(ctx, "compaction-plain-fixture");
    ctx.progress(`preparing two tables of ${files} files of ${rowsPerFile} rows`);
    await smallFilesTable(tracked, files, rowsPerFile, { rowTracking: true });
    await smallFilesTable(plain, files, rowsPerFile);
    const inputBytes = await treeBytes(plain) - await treeBytes(`${plain}/_delta_log`);
    const target = 512 * 1024 * 1024;
    const run = (fixture: string) =>
      compactCopy(ctx, fixture, "compact-row-tracking", {
        target,
        inputBytes,
        expectedRows: files * rowsPerFile,
      });
    const results = await measurePairs(
      "compaction, row tracking",
      `${files.toLocaleString("en-US")} files x ${
        rowsPerFile.toLocaleString("en-US")
      } rows into one, row ids kept`,
      [
        { key: "mb_per_second", label: "input MB/s", better: "higher" },
        { key: "seconds", label: "wall time (s)", better: "lower" },
        { key: "cpu_seconds", label: "CPU time (s)", better: "lower" },
      ],
      {
        repetitions: ctx.repetitions,
        warmup: ctx.warmup,
        sameRowsAcrossSides: true,
        peer: "neuralake without row tracking",
      },
      () => run(tracked),
      () => run(plain),
      ctx.progress,
    );
    await removeQuietly(tracked);
    await removeQuietly(plain);
    return results;
  },
};

/** Every scenario, in run order. */
export const SCENARIOS: Scenario[] = [
  streaming("streaming append", false),
  limit,
  bulk,
  compaction("compaction", (quick) => ({ files: quick ? 200 : 1_000, rows: 1_000 })),
  // The files a stream job's writers leave at 50,000 rows per batch.
  compaction("compaction, streaming files", (quick) => ({ files: quick ? 40 : 200, rows: 50_000 })),
  compactionRowTracking,
  vacuumScenario,
  snapshotLoad,
  scan,
  streaming("streaming append on S3", true),
  s3SmallAppends,
  ...KAFKA_SCENARIOS.map((s) => kafkaScenario(s.name)),
];

export { median, writePool };
