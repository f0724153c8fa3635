/**
 * `scan` output streams with bounded memory: a file whose one row group
 * prints as more than 1 GB of NDJSON goes through a pipe while the process
 * stays far below that in resident memory, and `--limit` stops reading files
 * once it has its rows.
 */

import { type ColumnBatch, type Field, sliceBatch } from "../../src/columnar/batch.ts";
import { addFor } from "../../src/ops/data_files.ts";
import { createTable } from "../../src/ops/create.ts";
import { openTable, type Table } from "../../src/ops/table.ts";
import { commit, newIntent } from "../../src/delta/transaction.ts";
import { type EncodeOptions, encodeParquet } from "../../src/parquet/encode.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { bytesSource, openParquet, readColumns } from "../../src/parquet/decode.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli, NEURALAKE_RUN } from "../_helpers/cli.ts";
import {
  type ByteTarget,
  csvWriter,
  ndjsonWriter,
  parquetWriter,
  tableWriter,
  TextSink,
} from "../../src/cli/scan_output.ts";

/** Writes each batch as one data file and commits them all in one version. */
async function tableOf(
  dir: string,
  batches: ColumnBatch[],
  options: EncodeOptions = {},
): Promise<Table> {
  const table = await openTable(dir);
  const fields = batches[0]!.fields;
  await createTable(table, { schema: schemaFromFields(fields) });
  const adds = [];
  for (let i = 0; i < batches.length; i++) {
    const file = encodeParquet(batches[i]!, options);
    const key = `part-${String(i).padStart(5, "0")}.snappy.parquet`;
    await table.store.put(key, file.bytes);
    adds.push({ add: addFor(key, file, {}, fields) });
  }
  const outcome = await commit(table.store, adds, newIntent(0), { operation: "WRITE" });
  assertEquals(outcome.kind, "committed");
  return table;
}

/** Resident set size high-water mark of a process, in bytes (Linux). */
async function peakRss(pid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined; // the process has exited
  }
}

Deno.test("scan streams more than 1 GB of NDJSON from one row group with bounded memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-scan-stream-" });
  try {
    const rows = 10_000_000;
    const label = "L".repeat(100);
    const fields: Field[] = [{ name: "label", type: "string", nullable: true }];
    // One row group of ten million rows: dictionary encoded, a few kilobytes on disk.
    await tableOf(dir, [{
      fields,
      columns: [{ values: new Array<string>(rows).fill(label) }],
      length: rows,
    }], { rowGroupRows: rows });

    const line = `{"label":"${label}"}\n`;
    const expected = rows * line.length;
    assert(expected > 1 << 30, "the output must exceed 1 GiB");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...NEURALAKE_RUN,
        "scan",
        dir,
        "--format",
        "ndjson",
        "--columns",
        "label",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let bytes = 0;
    let peak = 0;
    let sinceCheck = 0;
    let head = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      if (head.length < line.length * 2) head += decoder.decode(chunk.subarray(0, line.length * 2));
      bytes += chunk.length;
      sinceCheck += chunk.length;
      // Every 64 MiB of output, the child's peak resident memory so far.
      if (sinceCheck >= 64 << 20) {
        sinceCheck = 0;
        peak = Math.max(peak, await peakRss(child.pid) ?? 0);
      }
    }
    const status = await child.status;
    assertEquals(status.code, 0, await stderr);
    assertEquals(bytes, expected);
    assert(head.startsWith(line + line), head.slice(0, 300));
    assert(peak > 0, "the child's memory was never sampled");
    // Output of 1.1 GB went through a process that never held it.
    assert(peak < 600 << 20, `peak resident memory ${peak} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan --limit reads no file once it has its rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-scan-limit-" });
  try {
    const fields: Field[] = [{ name: "id", type: "long", nullable: true }];
    const batches = Array.from({ length: 8 }, (_, f) => ({
      fields,
      columns: [{ values: BigInt64Array.from({ length: 10 }, (_, i) => BigInt(f * 10 + i)) }],
      length: 10,
    }));
    const table = await tableOf(dir, batches);
    for (const [limit, files] of [[5, 1], [10, 1], [11, 2], [25, 3]] as const) {
      const scan = await scanTable(table, { limit });
      const ids: bigint[] = [];
      for await (const batch of scan.batches) {
        ids.push(...(batch.columns[0]!.values as BigInt64Array));
      }
      assertEquals(ids, Array.from({ length: limit }, (_, i) => BigInt(i)));
      assertEquals(scan.stats.filesRead, files, `files read for --limit ${limit}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan writes every format the same from many row groups as from one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nl-scan-formats-" });
  try {
    const fields: Field[] = [
      { name: "id", type: "long", nullable: true },
      { name: "name", type: "string", nullable: true },
    ];
    const rows = 5000;
    const batch: ColumnBatch = {
      fields,
      columns: [
        { values: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)) },
        {
          values: Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? "" : `n,"${i}"`)),
          nulls: Uint8Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? 1 : 0)),
        },
      ],
      length: rows,
    };
    // Two files of many small row groups.
    await tableOf(dir, [sliceBatch(batch, 0, 3000), sliceBatch(batch, 3000, rows)], {
      rowGroupRows: 256,
    });
    const ndjson = await cli(["scan", dir, "--format", "ndjson"]);
    assertEquals(ndjson.code, 0, ndjson.stderr);
    const lines = ndjson.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.length, rows);
    assertEquals(lines[7], { id: 7, name: null });
    assertEquals(lines[4999], { id: 4999, name: 'n,"4999"' });

    const csv = await cli(["scan", dir, "--format", "csv"]);
    assertEquals(csv.code, 0, csv.stderr);
    const csvLines = csv.stdout.trimEnd().split("\n");
    assertEquals(csvLines.length, rows + 1);
    assertEquals(csvLines.slice(0, 3), ["id,name", "0,", '1,"n,""1"""']);

    const table = await cli(["scan", dir, "--format", "table"]);
    assertEquals(table.code, 0, table.stderr);
    const tableLines = table.stdout.trimEnd().split("\n");
    assertEquals(tableLines.length, rows + 2);
    // Aligned on the first 1000 rows: ids up to 999.
    assertEquals(tableLines[0], "id   name");
    assertEquals(tableLines[2]!.trimEnd(), "0");
    assertEquals(tableLines[3], '1    n,"1"');
    assertEquals(tableLines.at(-1), '4999  n,"4999"');

    const json = await cli(["scan", dir, "--json"]);
    assertEquals(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assertEquals(doc.rows, lines);
    assertEquals(doc.stats.rows, rows);
    assertEquals(doc.columns.map((c: Field) => c.name), ["id", "name"]);

    const out = `${dir}/out.parquet`;
    const parquet = await cli(["scan", dir, "--format", "parquet", "--output", out]);
    assertEquals(parquet.code, 0, parquet.stderr);
    const file = await openParquet(bytesSource(await Deno.readFile(out), out));
    assert(file.rowGroups.length > 1, "streamed Parquet has one row group per scanned group");
    const back = await readColumns(file, { fields });
    assertEquals([...(back.columns[0]!.values as BigInt64Array)], [...batch.columns[0]!.values]);
    assertEquals(back.columns[1]!.nulls, batch.columns[1]!.nulls);
    assertEquals(back.columns[1]!.values[4999], 'n,"4999"');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every scan output format writes each batch's bytes before the scan ends", async () => {
  const fields: Field[] = [{ name: "id", type: "long", nullable: true }];
  const batchOfIds = (from: number, n: number): ColumnBatch => ({
    fields,
    columns: [{ values: BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i)) }],
    length: n,
  });
  const target = () => {
    const t = {
      bytes: 0,
      write(b: Uint8Array) {
        t.bytes += b.length;
        return Promise.resolve(b.length);
      },
    };
    return t;
  };
  // Small chunks so that a batch of rows fills several.
  const writers = {
    ndjson: (t: ByteTarget) => ndjsonWriter(new TextSink(t, 4096), fields),
    csv: (t: ByteTarget) => csvWriter(new TextSink(t, 4096), fields),
    table: (t: ByteTarget) => tableWriter(new TextSink(t, 4096), fields, 100),
    parquet: (t: ByteTarget) => parquetWriter(t, fields),
  };
  for (const [format, make] of Object.entries(writers)) {
    const t = target();
    const writer = make(t);
    const seen: number[] = [];
    for (let b = 0; b < 4; b++) {
      await writer.batch(batchOfIds(b * 10_000, 10_000));
      seen.push(t.bytes);
    }
    await writer.end();
    // Output grows with every batch: nothing waits for the end.
    for (let b = 1; b < 4; b++) assert(seen[b]! > seen[b - 1]!, `${format}: ${seen}`);
    assert(seen[0]! > 0, `${format}: nothing written after the first batch`);
    assert(t.bytes - seen[3]! < t.bytes / 4, `${format}: most bytes came at the end`);
  }
});
