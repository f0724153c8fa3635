/**
 * A checkpoint add without the `partitionValues` map (or with a null one)
 * takes its partition values from `partitionValues_parsed`, serialized as a
 * writer serializes them into the map; with neither, reading the checkpoint
 * fails naming the file and the column, never giving null partition values.
 */

import type { Action } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey, multipartCheckpointKey } from "../../src/delta/log_path.ts";
import { CHECKPOINT_SCHEMA, parquetCheckpointCodec } from "../../src/ops/checkpoint_codec.ts";
import { openTable } from "../../src/ops/table.ts";
import { encodeRecords, type NestedField } from "../../src/parquet/nested.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { fixturePath } from "../_helpers/fixtures.ts";

const PARSED_ONLY = "spark_partition_values_parsed_only";
const SOURCE = "spark_stats_struct_partitioned";
const CHECKPOINT = "_delta_log/00000000000000000004.checkpoint.parquet";

Deno.test("a table whose checkpoints hold partitionValues_parsed only scans the rows of the table they were made from", async () => {
  const ours = await readWithNeuralake(await openTable(fixturePath(PARSED_ONLY)));
  const source = await readWithNeuralake(await openTable(fixturePath(SOURCE)));
  assertEquals(ours.version, 5);
  assertEquals(canonicalRows(ours.rows), canonicalRows(source.rows));
  // Not vacuous: every partition column has a non-null value in some row.
  for (const column of ["p_int", "p_date", "p_ts", "p_str"]) {
    assert(ours.rows.some((r) => r[column] !== null), `${column} is null in every row`);
  }
});

Deno.test("partition values from partitionValues_parsed are the strings the commits logged", async () => {
  const store = new LocalStore(fixturePath(PARSED_ONLY));
  const logged = new Map<string, Record<string, string | null>>();
  for (let v = 0; v <= 4; v++) {
    const text = new TextDecoder().decode(await store.get(commitKey(v)) ?? new Uint8Array());
    for (const a of parseCommit(text, `commit ${v}`)) {
      if ("add" in a) logged.set(a.add.path, a.add.partitionValues);
    }
  }
  const adds = (await parquetCheckpointCodec.read(store, CHECKPOINT))
    .flatMap((a) => "add" in a ? [a.add] : []);
  assertEquals(adds.length, 5);
  for (const add of adds) {
    assertEquals(add.partitionValues, logged.get(add.path), add.path);
    assert(!("partitionValues_parsed" in add), "partitionValues_parsed is left in the action");
  }
});

/** The checkpoint schema with `add`'s fields replaced by `addFields`. */
function schemaWithAdd(addFields: NestedField[]): NestedField[] {
  return CHECKPOINT_SCHEMA.map((f) =>
    f.name === "add" ? { name: "add", type: { struct: addFields } } : f
  );
}

const ADD_WITHOUT_MAP: NestedField[] = [
  { name: "path", type: "string" },
  { name: "size", type: "long" },
  { name: "modificationTime", type: "long" },
  { name: "dataChange", type: "boolean" },
];

Deno.test("a table whose checkpoint holds neither partitionValues nor partitionValues_parsed fails naming the checkpoint and the column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = fixturePath(PARSED_ONLY);
    for (const entry of Deno.readDirSync(source)) {
      if (entry.isDirectory) await copyDir(`${source}/${entry.name}`, `${dir}/${entry.name}`);
    }
    const actions = await parquetCheckpointCodec.read(new LocalStore(source), CHECKPOINT);
    const records = actions.map((a) => ({ ...a }) as Record<string, unknown>);
    await Deno.writeFile(
      `${dir}/${CHECKPOINT}`,
      encodeRecords(schemaWithAdd(ADD_WITHOUT_MAP), records).bytes,
    );
    const error = await assertRejects(async () => await readWithNeuralake(await openTable(dir)));
    assert(error.message.includes("00000000000000000004.checkpoint.parquet"), error.message);
    assert(
      error.message.includes(`partition columns "p_int", "p_date", "p_ts", "p_str"`),
      error.message,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an add with neither map in a checkpoint part without the metadata fails naming the table's partition columns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = fixturePath(PARSED_ONLY);
    for (const entry of Deno.readDirSync(source)) {
      if (entry.isDirectory) await copyDir(`${source}/${entry.name}`, `${dir}/${entry.name}`);
    }
    // Checkpoint 4 rewritten as two parts: the metadata and the other
    // actions in the first, the adds, without either map, in the second.
    const actions = await parquetCheckpointCodec.read(new LocalStore(source), CHECKPOINT);
    const records = (list: Action[]) => list.map((a) => ({ ...a }) as Record<string, unknown>);
    const schema = schemaWithAdd(ADD_WITHOUT_MAP);
    const adds = actions.filter((a) => "add" in a);
    assert(adds.length > 0 && actions.some((a) => "metaData" in a));
    await Deno.writeFile(
      `${dir}/${multipartCheckpointKey(4, 1, 2)}`,
      encodeRecords(schema, records(actions.filter((a) => !("add" in a)))).bytes,
    );
    await Deno.writeFile(
      `${dir}/${multipartCheckpointKey(4, 2, 2)}`,
      encodeRecords(schema, records(adds)).bytes,
    );
    await Deno.remove(`${dir}/${CHECKPOINT}`);
    await Deno.writeTextFile(
      `${dir}/_delta_log/_last_checkpoint`,
      JSON.stringify({ version: 4, size: actions.length, parts: 2 }),
    );
    const error = await assertRejects(async () => await readWithNeuralake(await openTable(dir)));
    const message = [error.message, (error.cause as Error | undefined)?.message].join(": ");
    assert(
      message.includes("00000000000000000004.checkpoint.0000000002.0000000002.parquet"),
      message,
    );
    assert(message.includes(`partition columns "p_int", "p_date", "p_ts", "p_str"`), message);
    // Read alone, without the table's metadata, the part cannot name them.
    const alone = await assertRejects(() =>
      parquetCheckpointCodec.read(new LocalStore(dir), multipartCheckpointKey(4, 2, 2))
    );
    assert(alone.message.includes("for its partition columns"), alone.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("partitionValues_parsed of every primitive type is serialized as a writer writes the map", async () => {
  const parsed: NestedField[] = [
    { name: "b", type: "boolean" },
    { name: "i", type: "integer" },
    { name: "l", type: "long" },
    { name: "f", type: "double" },
    { name: "d", type: "decimal(10,2)" },
    { name: "day", type: "date" },
    { name: "ts", type: "timestamp" },
    { name: "ntz", type: "timestamp_ntz" },
    // The table's type wins over the checkpoint's Parquet type.
    { name: "ntz_as_utc", type: "timestamp" },
    { name: "s", type: "string" },
    { name: "bin", type: "binary" },
    { name: "none", type: "string" },
  ];
  const actions: Record<string, unknown>[] = [
    {
      metaData: {
        id: "t",
        format: { provider: "parquet", options: {} },
        schemaString: JSON.stringify({
          type: "struct",
          fields: [{ name: "ntz_as_utc", type: "timestamp_ntz", nullable: true, metadata: {} }],
        }),
        partitionColumns: parsed.map((f) => f.name),
        configuration: {},
        createdTime: 1,
      },
    },
    {
      add: {
        path: "f.parquet",
        size: 1,
        modificationTime: 1,
        dataChange: true,
        partitionValues_parsed: {
          b: false,
          i: -7,
          l: 9007199254740993n,
          f: 1.5,
          d: -12345n,
          day: -1,
          ts: 1_704_103_200_123_456n,
          ntz: -1n,
          ntz_as_utc: 1n,
          s: "a b",
          bin: new TextEncoder().encode("héllo"),
          none: null,
        },
      },
    },
  ];
  const store = new MemoryStore();
  const key = "_delta_log/00000000000000000001.checkpoint.parquet";
  await store.put(
    key,
    encodeRecords(
      schemaWithAdd([...ADD_WITHOUT_MAP, {
        name: "partitionValues_parsed",
        type: { struct: parsed },
      }]),
      actions,
    ).bytes,
  );
  const adds = (await parquetCheckpointCodec.read(store, key)).flatMap((a: Action) =>
    "add" in a ? [a.add] : []
  );
  assertEquals(adds.map((a) => a.partitionValues), [{
    b: "false",
    i: "-7",
    l: "9007199254740993",
    f: "1.5",
    d: "-123.45",
    day: "1969-12-31",
    ts: "2024-01-01T10:00:00.123456Z",
    ntz: "1969-12-31 23:59:59.999999",
    ntz_as_utc: "1970-01-01 00:00:00.000001",
    s: "a b",
    bin: "héllo",
    none: null,
  }]);
});
