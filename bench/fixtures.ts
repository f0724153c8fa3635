/**
 * Data and tables that both sides of a benchmark start from: one pool of
 * generated neural rows (column batches for neuralake, a Parquet file that
 * delta-rs loads into Arrow), and prepared tables that each repetition
 * copies, so neither side ever measures the other's leftovers.
 */

import type { ColumnBatch } from "../src/columnar/batch.ts";
import { NEURAL_FIELDS, NeuralGenerator } from "../src/sources/neural.ts";
import { encodeParquet, ParquetFileBuilder } from "../src/parquet/encode.ts";
import { type Action, serializeActions } from "../src/delta/actions.ts";
import { commitKey } from "../src/delta/log_path.ts";
import { createTableActions } from "../src/ops/create.ts";
import { schemaFromFields } from "../src/delta/schema.ts";
import { addFor, dataFileKey } from "../src/ops/data_files.ts";
import { LocalStore } from "../src/storage/local.ts";
import { writeCheckpoint } from "../src/delta/checkpoint.ts";
import { loadSnapshot } from "../src/delta/snapshot.ts";
import { parquetCheckpointCodec } from "../src/ops/checkpoint_codec.ts";

/** A deterministic batch of neural rows. */
export function neuralBatch(writer: string, seq: number, rows: number, startRow = 0): ColumnBatch {
  const generator = new NeuralGenerator({ seed: 42 });
  return generator.generate({
    writerId: writer,
    sessionId: "bench",
    batchSeq: seq,
    tick0: generator.tickAt(Date.UTC(2026, 0, 1)),
    startRow,
    rows,
  });
}

/** Writes `rows` generated rows as one Parquet file (the delta-rs side's pool). */
export async function writePool(path: string, rows: number): Promise<void> {
  const builder = new ParquetFileBuilder(NEURAL_FIELDS, { rowGroupRows: 1 << 20 }, rows * 6);
  const chunk = 1_000_000;
  for (let start = 0; start < rows; start += chunk) {
    builder.writeBatch(neuralBatch("pool", 0, Math.min(chunk, rows - start), start));
  }
  await Deno.writeFile(path, builder.finish().bytes);
}

async function writeLog(store: LocalStore, version: number, actions: Action[]): Promise<void> {
  await store.put(commitKey(version), new TextEncoder().encode(serializeActions(actions)));
}

/** A neural table with `files` data files of `rowsPerFile` rows, all in version 0. */
export async function smallFilesTable(
  dir: string,
  files: number,
  rowsPerFile: number,
  options: { rowTracking?: boolean } = {},
): Promise<void> {
  const store = new LocalStore(dir);
  const adds: Action[] = [];
  for (let f = 0; f < files; f++) {
    const file = encodeParquet(neuralBatch("w", f, rowsPerFile, f * rowsPerFile));
    const key = dataFileKey("", f);
    await store.put(key, file.bytes);
    const add = addFor(key, file, {}, NEURAL_FIELDS);
    // With row tracking, ids as a writer assigns them: each file's after the last.
    if (options.rowTracking) {
      Object.assign(add, { baseRowId: f * rowsPerFile, defaultRowCommitVersion: 0 });
    }
    adds.push({ add });
  }
  // Row tracking as Databricks turns it on (createTable knows no such property).
  const tracking = {
    "delta.enableRowTracking": "true",
    "delta.rowTracking.materializedRowIdColumnName": "_row-id-col-bench",
    "delta.rowTracking.materializedRowCommitVersionColumnName": "_row-commit-version-col-bench",
  };
  const create = createTableActions({ schema: schemaFromFields(NEURAL_FIELDS) }).map(
    (a): Action => {
      if (!options.rowTracking) return a;
      if ("protocol" in a) {
        return {
          protocol: {
            minReaderVersion: 1,
            minWriterVersion: 7,
            writerFeatures: ["rowTracking", "domainMetadata", "appendOnly", "invariants"],
          },
        };
      }
      if ("metaData" in a) {
        return {
          metaData: { ...a.metaData, configuration: { ...a.metaData.configuration, ...tracking } },
        };
      }
      return a;
    },
  );
  const mark: Action[] = options.rowTracking
    ? [{
      domainMetadata: {
        domain: "delta.rowTracking",
        configuration: JSON.stringify({ rowIdHighWaterMark: files * rowsPerFile - 1 }),
        removed: false,
      },
    }]
    : [];
  await writeLog(store, 0, [...create, ...adds, ...mark]);
}

/**
 * A table with `files` files removed long ago (tombstones past any retention,
 * files last modified a day ago) and one live file.
 */
export async function tombstonedTable(dir: string, files: number): Promise<void> {
  const store = new LocalStore(dir, { fsync: false });
  const fields = [{ name: "n", type: "long" as const, nullable: true }];
  const one = encodeParquet({ fields, columns: [{ values: new BigInt64Array([1n]) }], length: 1 });
  const adds: Action[] = [];
  const removes: Action[] = [];
  const longAgo = Date.now() - 86_400_000;
  for (let f = 0; f <= files; f++) {
    const key = dataFileKey("", f);
    await store.put(key, one.bytes);
    const add = addFor(key, one, {}, fields, { modificationTime: longAgo });
    adds.push({ add });
    if (f > 0) {
      // As delta-rs, Spark and neuralake write them: with the file's size.
      removes.push({
        remove: { path: add.path, deletionTimestamp: longAgo, dataChange: true, size: add.size },
      });
      await Deno.utime(`${dir}/${key}`, new Date(longAgo), new Date(longAgo));
    }
  }
  await writeLog(store, 0, [...createTableActions({ schema: schemaFromFields(fields) }), ...adds]);
  await writeLog(store, 1, removes);
  for (const name of ["00000000000000000000.json", "00000000000000000001.json"]) {
    await Deno.utime(`${dir}/_delta_log/${name}`, new Date(longAgo), new Date(longAgo));
  }
}

/**
 * A table of `commits` commits of one add each (data files need not exist to
 * open a table), with a checkpoint every `checkpointEvery` versions or none.
 */
export async function manyCommitsTable(
  dir: string,
  commits: number,
  checkpointEvery: number | undefined,
): Promise<void> {
  const store = new LocalStore(dir, { fsync: false });
  const schema = schemaFromFields(NEURAL_FIELDS);
  await writeLog(store, 0, createTableActions({ schema }).filter((a) => !("commitInfo" in a)));
  const stats =
    '{"numRecords":1000,"minValues":{"neuron_id":0},"maxValues":{"neuron_id":1023},"nullCount":{"neuron_id":0}}';
  for (let v = 1; v <= commits; v++) {
    await writeLog(store, v, [
      { commitInfo: { timestamp: 1_700_000_000_000 + v, operation: "WRITE", engineInfo: "bench" } },
      {
        add: {
          path: `part-${String(v).padStart(5, "0")}-bench.c000.snappy.parquet`,
          partitionValues: {},
          size: 12_345,
          modificationTime: 1_700_000_000_000 + v,
          dataChange: true,
          stats,
        },
      },
      { txn: { appId: `writer-${v % 3}`, version: Math.floor(v / 3) } },
    ]);
    if (checkpointEvery && v % checkpointEvery === 0) {
      const state = await loadSnapshot(store, parquetCheckpointCodec, { version: v });
      await writeCheckpoint(store, parquetCheckpointCodec, state);
    }
  }
}

/**
 * A table of `files` files added `perCommit` to a commit (data files need
 * not exist), with a checkpoint every `checkpointEvery` commits, the last at
 * its final version. Built once into `cacheDir` (through a temporary
 * sibling, renamed when complete) and reused by later runs: 100,000 files
 * take minutes to build on a loaded machine. Returns the table's directory.
 */
export async function manyFilesTable(
  cacheDir: string,
  files: number,
  perCommit: number,
  checkpointEvery: number,
): Promise<string> {
  const dir = `${cacheDir}/files-${files}-per-${perCommit}-checkpoint-${checkpointEvery}-v1`;
  if (await Deno.stat(`${dir}/_delta_log/_last_checkpoint`).then(() => true, () => false)) {
    return dir;
  }
  await Deno.mkdir(cacheDir, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: cacheDir, prefix: "building-" });
  try {
    const store = new LocalStore(tmp, { fsync: false });
    const schema = schemaFromFields(NEURAL_FIELDS);
    await writeLog(store, 0, createTableActions({ schema }).filter((a) => !("commitInfo" in a)));
    const stats =
      '{"numRecords":1000,"minValues":{"neuron_id":0},"maxValues":{"neuron_id":1023},"nullCount":{"neuron_id":0}}';
    const commits = Math.ceil(files / perCommit);
    for (let v = 1; v <= commits; v++) {
      const actions: Action[] = [
        {
          commitInfo: { timestamp: 1_700_000_000_000 + v, operation: "WRITE", engineInfo: "bench" },
        },
      ];
      for (let f = (v - 1) * perCommit; f < Math.min(files, v * perCommit); f++) {
        actions.push({
          add: {
            path: `part-${String(f).padStart(6, "0")}-bench.c000.snappy.parquet`,
            partitionValues: {},
            size: 12_345,
            modificationTime: 1_700_000_000_000 + v,
            dataChange: true,
            stats,
          },
        });
      }
      await writeLog(store, v, actions);
      if (v % checkpointEvery === 0 || v === commits) {
        const state = await loadSnapshot(store, parquetCheckpointCodec, { version: v });
        await writeCheckpoint(store, parquetCheckpointCodec, state);
      }
    }
    await Deno.rename(tmp, dir);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  return dir;
}

/**
 * A neural table of `files` files of `rowsPerFile` rows with increasing
 * timestamps. A file boundary can split a sample tick (1024 rows share a
 * timestamp), so the range returned leaves out the middle file's first and
 * last ticks: every row in it is in that one file, and no other file can
 * hold a row in it.
 */
export async function scanTableFixture(dir: string, files: number, rowsPerFile: number): Promise<{
  /** A timestamp range (µs) whose rows all lie in one file: [from, to). */
  oneFile: [number, number];
  /** How many rows lie in that range. */
  oneFileRows: number;
}> {
  const store = new LocalStore(dir, { fsync: false });
  const adds: Action[] = [];
  let oneFile: [number, number] = [0, 0];
  let oneFileRows = 0;
  for (let f = 0; f < files; f++) {
    const batch = neuralBatch("w", f, rowsPerFile, f * rowsPerFile);
    const file = encodeParquet(batch);
    const key = dataFileKey("", f);
    await store.put(key, file.bytes);
    adds.push({ add: addFor(key, file, {}, NEURAL_FIELDS) });
    if (f === Math.floor(files / 2)) {
      const ts = batch.columns[0]!.values as BigInt64Array;
      const first = ts[0]!;
      const last = ts[ts.length - 1]!;
      const from = ts.find((t) => t > first)!;
      oneFile = [Number(from), Number(last)];
      oneFileRows = ts.filter((t) => t >= from && t < last).length;
    }
  }
  await writeLog(store, 0, [
    ...createTableActions({ schema: schemaFromFields(NEURAL_FIELDS) }),
    ...adds,
  ]);
  return { oneFile, oneFileRows };
}

/** Copies a directory tree, keeping modification times (`cp -a`). */
export async function copyTree(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!out.success) {
    throw new Error(`cp -a ${from} ${to} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Sums the sizes of the files under a directory. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await treeBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}
