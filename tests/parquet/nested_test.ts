/**
 * encodeRecords and readRecords: checkpoint-shaped nested files round-trip
 * through pyarrow, and the checkpoints Spark and delta-rs wrote read exactly
 * as pyarrow reads them.
 */

import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { canonical, parquetTool, type Tagged, tagNested } from "../_helpers/pyarrow.ts";
import {
  bytesSource,
  openParquet,
  type ParquetFile,
  readRecords,
} from "../../src/parquet/decode.ts";
import { encodeRecords, type NestedField } from "../../src/parquet/nested.ts";
import { tempDir } from "./_fixtures.ts";
import { logParquetFiles } from "../_helpers/fixtures.ts";
import { CHECKPOINT_SCHEMA } from "../../src/ops/checkpoint_codec.ts";

/**
 * The checkpoint schema neuralake writes, plus a column of the scalar types a
 * checkpoint lacks (timestamps, decimals, dates, doubles, binary).
 */
const CHECKPOINT: NestedField[] = [
  ...CHECKPOINT_SCHEMA,
  {
    name: "extras",
    type: {
      struct: [
        { name: "ts", type: "timestamp" },
        { name: "amount", type: "decimal(20,2)" },
        { name: "small", type: "decimal(5,1)" },
        { name: "day", type: "date" },
        { name: "score", type: "double" },
        { name: "blob", type: "binary" },
      ],
    },
  },
];

function checkpointRecords(): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: "5f0b1c9e-0000-4000-8000-000000000001",
        name: null,
        format: { provider: "parquet", options: {} },
        schemaString: '{"type":"struct","fields":[]}',
        partitionColumns: ["day", "region"],
        configuration: { "delta.checkpointInterval": "10", "delta.appendOnly": "true" },
        createdTime: 1_700_000_000_000n,
      },
    },
    { txn: { appId: "writer-07", version: 42n, lastUpdated: 1_700_000_000_001 } },
    { domainMetadata: { domain: "neuralake", configuration: "{}", removed: false } },
    {
      remove: {
        path: "day=2024-01-01/part-0.parquet",
        deletionTimestamp: 1_700_000_000_002n,
        dataChange: false,
        partitionValues: new Map([["day", "2024-01-01"], ["region", null]]),
        size: 10n,
      },
    },
    {
      extras: {
        ts: -1n,
        amount: -(10n ** 19n) + 1n,
        small: 9999n,
        day: -719162,
        score: -0,
        blob: new Uint8Array([0, 255]),
      },
    },
  ];
  for (let i = 0; i < 40; i++) {
    records.push({
      add: {
        path: `day=2024-01-0${i % 3}/part-${i}.parquet`,
        partitionValues: { day: `2024-01-0${i % 3}`, region: i % 4 ? "M1" : null },
        size: BigInt(1000 + i),
        modificationTime: 1_700_000_000_000n + BigInt(i),
        dataChange: true,
        tags: i % 5 === 0 ? { "INSERTION_TIME": "1", "unicode ключ": "значение" } : null,
        stats: i % 2 ? `{"numRecords":${i}}` : null,
      },
    });
  }
  return records;
}

async function pyRows(bytes: Uint8Array): Promise<Record<string, Tagged>[]> {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/checkpoint.parquet`;
    await Deno.writeFile(path, bytes);
    return (await parquetTool({ cmd: "rows", path })).rows;
  } finally {
    await dir.remove();
  }
}

function tagRecords(
  file: ParquetFile,
  records: Record<string, unknown>[],
): Record<string, Tagged>[] {
  return records.map((r) =>
    Object.fromEntries(
      file.schema.children.map((c) => [c.element.name, tagNested(r[c.element.name], c)]),
    )
  );
}

Deno.test("encodeRecords writes a checkpoint-shaped file that pyarrow reads back exactly", async () => {
  const records = checkpointRecords();
  const { bytes, numRows } = encodeRecords(CHECKPOINT, records);
  assertEquals(numRows, records.length);
  const file = await openParquet(bytesSource(bytes, "checkpoint.parquet"));
  const py = await pyRows(bytes);
  assertEquals(py.length, records.length);
  // Our own reading of the same bytes, tagged by schema, matches pyarrow's.
  const ours = tagRecords(file, await readRecords(file));
  assertEquals(ours.map(canonical), py.map(canonical));
  // And the values are the ones we wrote, spot-checked in pyarrow's terms.
  assertEquals(py[1]!.metaData, {
    struct: {
      id: { s: "5f0b1c9e-0000-4000-8000-000000000001" },
      name: null,
      description: null,
      format: { struct: { provider: { s: "parquet" }, options: { map: [] } } },
      schemaString: { s: '{"type":"struct","fields":[]}' },
      partitionColumns: { list: [{ s: "day" }, { s: "region" }] },
      configuration: {
        map: [[{ s: "delta.checkpointInterval" }, { s: "10" }], [{ s: "delta.appendOnly" }, {
          s: "true",
        }]],
      },
      createdTime: { i: "1700000000000" },
    },
  });
  assertEquals(py[0]!.add, null);
  assertEquals(py[4]!.remove, {
    struct: {
      path: { s: "day=2024-01-01/part-0.parquet" },
      deletionTimestamp: { i: "1700000000002" },
      dataChange: false,
      extendedFileMetadata: null,
      partitionValues: { map: [[{ s: "day" }, { s: "2024-01-01" }], [{ s: "region" }, null]] },
      size: { i: "10" },
      deletionVector: null,
      baseRowId: null,
      defaultRowCommitVersion: null,
    },
  });
  const extras = (py[5]!.extras as { struct: Record<string, Tagged> }).struct;
  assertEquals(extras.amount, { d: String(-(10n ** 19n) + 1n) });
  assertEquals(extras.ts, { i: "-1" });
  assertEquals(extras.day, { i: "-719162" });
  const add0 = (py[6]!.add as { struct: Record<string, Tagged> }).struct;
  assertEquals(add0.tags, {
    map: [[{ s: "INSERTION_TIME" }, { s: "1" }], [{ s: "unicode ключ" }, { s: "значение" }]],
  });
  assertEquals(add0.stats, null);
});

Deno.test("readRecords returns exact JS values for a checkpoint we wrote", async () => {
  const file = await openParquet(
    bytesSource(encodeRecords(CHECKPOINT, checkpointRecords()).bytes, "cp"),
  );
  const rows = await readRecords(file, ["metaData", "extras", "txn"]);
  assertEquals(Object.keys(rows[0]!).sort(), ["extras", "metaData", "txn"]);
  assertEquals((rows[1]!.metaData as Record<string, unknown>).configuration, {
    "delta.checkpointInterval": "10",
    "delta.appendOnly": "true",
  });
  assertEquals(rows[2]!.txn, { appId: "writer-07", version: 42n, lastUpdated: 1_700_000_000_001n });
  assertEquals(rows[5]!.extras, {
    ts: -1n,
    amount: -(10n ** 19n) + 1n,
    small: 9999n,
    day: -719162,
    score: -0,
    blob: new Uint8Array([0, 255]),
  });
});

Deno.test("encodeRecords refuses values that do not match the schema", () => {
  assertThrows(
    () => encodeRecords(CHECKPOINT, [{ add: { path: 7 } }]),
    "Cannot encode record 0: add.path must be a string, got number 7",
  );
  assertThrows(
    () => encodeRecords([{ name: "x", type: "long", nullable: false }], [{}]),
    "Cannot encode record 0: x is required but null",
  );
});

// Every checkpoint, v2 top-level checkpoint and sidecar Parquet file of the
// fixture tables (Spark and delta-rs), read as records as pyarrow reads them.
for (const path of logParquetFiles()) {
  const name = path.slice(path.indexOf("/tables/") + 8);
  Deno.test(`readRecords reads ${name} as pyarrow does`, async () => {
    const file = await openParquet(bytesSource(await Deno.readFile(path), name));
    const ours = tagRecords(file, await readRecords(file));
    const py = (await parquetTool({ cmd: "rows", path })).rows as Record<string, Tagged>[];
    assertEquals(ours.length, py.length);
    ours.forEach((row, i) => assertEquals(canonical(row), canonical(py[i]), `row ${i}`));
  });
}
