/**
 * The Parquet checkpoint codec reads `add` actions straight from the leaves
 * of their fields; what it reads must be what the assembled records hold
 * (checked through `toAction`, on every fixture checkpoint and sidecar of
 * Spark and delta-rs), and every field it writes comes back.
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit, toAction } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { parquetCheckpointCodec } from "../../src/ops/checkpoint_codec.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { openParquet, readRecords } from "../../src/parquet/decode.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { fixturePath, logParquetFiles } from "../_helpers/fixtures.ts";

/** A checkpoint record as its JSON action: numbers for bigints, absent null struct fields. */
function asJson(value: unknown, inMap = false): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map((v) => asJson(v));
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null && !inMap) continue;
      out[k] = asJson(v, ["partitionValues", "tags", "configuration", "options"].includes(k));
    }
    return out;
  }
  return value;
}

Deno.test("the checkpoint codec reads every fixture checkpoint's actions as its assembled records hold them", async () => {
  let adds = 0;
  for (const path of logParquetFiles()) {
    const slash = path.indexOf("/_delta_log/");
    const key = path.slice(slash + 1);
    const actions = await parquetCheckpointCodec.read(new LocalStore(path.slice(0, slash)), key);
    const file = await openParquet(bytesSource(await Deno.readFile(path), key));
    const columns = ["txn", "add", "remove", "metaData", "protocol", "domainMetadata"].filter((c) =>
      file.columns.some((f) => f.name === c)
    );
    const records = await readRecords(file, columns, { skipFields: ["partitionValues_parsed"] });
    const want: Action[] = [];
    // Files whose statistics are only in `stats_parsed` (writeStatsAsJson=false):
    // the next test checks the stats the codec makes of them.
    const fromParsed = new Set<string>();
    // Files whose partition values are only in `partitionValues_parsed`:
    // tests/ops/partition_values_parsed_test.ts checks the values made of them.
    const valuesFromParsed = new Set<string>();
    records.forEach((record, i) => {
      const column = columns.find((c) => record[c] != null);
      const add = record.add as Record<string, unknown> | null;
      if (add) {
        if (add.partitionValues == null) valuesFromParsed.add(add.path as string);
        const parsed = asJson(add.stats_parsed) as Record<string, unknown> | undefined;
        delete add.stats_parsed;
        if (add.stats == null && parsed?.numRecords != null) fromParsed.add(add.path as string);
      }
      if (column) want.push(toAction({ [column]: asJson(record[column]) }, `${key}: row ${i}`)!);
    });
    const got = actions.filter((a) => !("sidecar" in a || "checkpointMetadata" in a));
    for (const a of got) {
      if ("add" in a && fromParsed.has(a.add.path)) {
        assert(typeof a.add.stats === "string", `${a.add.path}: no stats from stats_parsed`);
        delete a.add.stats;
      }
      if ("add" in a && valuesFromParsed.has(a.add.path)) {
        assert(Object.keys(a.add.partitionValues).length > 0, `${a.add.path}: no partition values`);
        a.add.partitionValues = {};
      }
    }
    assertEquals(got, want, key);
    adds += want.filter((a) => "add" in a).length;
  }
  assert(adds >= 50, `only ${adds} adds checked`);
});

Deno.test("every field of an add comes back from a Parquet checkpoint", async () => {
  const actions: Action[] = [
    { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["deletionVectors"] } },
    {
      metaData: {
        id: "t",
        format: { provider: "parquet", options: {} },
        schemaString: '{"type":"struct","fields":[]}',
        partitionColumns: ["p"],
        configuration: {},
        createdTime: 1,
      },
    },
    { txn: { appId: "w", version: 2 ** 40 } },
    {
      add: {
        path: "p=a/every field.parquet",
        partitionValues: { p: "a", q: null },
        size: 2 ** 53 - 1,
        modificationTime: 1_700_000_000_123,
        dataChange: false,
        stats: '{"numRecords":3}',
        tags: { t: "1", u: null },
        deletionVector: {
          storageType: "u",
          pathOrInlineDv: "ab^-aqEH.-t@S}K{vb[*k^",
          offset: 4,
          sizeInBytes: 40,
          cardinality: 2,
        },
        baseRowId: 7,
        defaultRowCommitVersion: 3,
        clusteringProvider: "liquid",
      },
    },
    {
      add: {
        path: "p=b/plain.parquet",
        partitionValues: { p: "b" },
        size: 0,
        modificationTime: 0,
        dataChange: true,
      },
    },
    { remove: { path: "p=c/gone.parquet", deletionTimestamp: 5, dataChange: true } },
  ];
  const store = new MemoryStore();
  await store.put(
    "_delta_log/00000000000000000001.checkpoint.parquet",
    parquetCheckpointCodec.write(actions, { type: "struct", fields: [] }),
  );
  const read = await parquetCheckpointCodec.read(
    store,
    "_delta_log/00000000000000000001.checkpoint.parquet",
  );
  assertEquals(read.filter((a) => "add" in a), actions.filter((a) => "add" in a));
  assertEquals(read.filter((a) => "txn" in a), [{ txn: { appId: "w", version: 2 ** 40 } }]);
  assertEquals(read.length, actions.length);
});

Deno.test("a checkpoint with statistics only in stats_parsed gives each file the stats its commit logged, bounds included", async () => {
  // delta-rs with delta.checkpoint.writeStatsAsJson=false: the checkpoint at
  // version 2 has no add.stats, only add.stats_parsed.
  const dir = fixturePath("deltars_checkpoint_stats_as_struct");
  const store = new LocalStore(dir);
  const fromCheckpoint = await parquetCheckpointCodec.read(
    store,
    "_delta_log/00000000000000000002.checkpoint.parquet",
  );
  const fromCommits = new Map<string, Record<string, unknown>>();
  for (let v = 0; v <= 2; v++) {
    const text = new TextDecoder().decode(await store.get(commitKey(v)) ?? new Uint8Array());
    for (const a of parseCommit(text, `commit ${v}`)) {
      if ("add" in a) fromCommits.set(a.add.path, JSON.parse(a.add.stats!));
    }
  }
  const adds = fromCheckpoint.flatMap((a) => "add" in a ? [a.add] : []);
  assertEquals(adds.length, 3);
  for (const add of adds) {
    assert(typeof add.stats === "string", `${add.path} has no stats`);
    // Key order aside, the same JSON: counts, and bounds of long, string and
    // struct fields (int and double), as data skipping reads them.
    assertEquals(JSON.parse(add.stats), fromCommits.get(add.path)!);
    assert(!("stats_parsed" in add), "stats_parsed is left in the action");
  }
});
