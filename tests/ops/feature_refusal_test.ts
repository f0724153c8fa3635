/**
 * A table feature whose writer requirements neuralake does not meet is
 * refused by name before anything is written: no data file uploaded, no
 * commit, no file deleted. `write`, `optimize`, `vacuum` and the stream's
 * writers are each checked on a real table that enables the feature.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Action, Metadata, Protocol } from "../../src/delta/actions.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { openTable, schemaFromFields, snapshotOf, type Table } from "../../src/ops/table.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { writeTable } from "../../src/ops/write.ts";
import { resolveConfig } from "../../src/roles/config.ts";
import { ensureStreamTable } from "../../src/roles/table_setup.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { writeCommit } from "../_helpers/log.ts";

const FIELDS: Field[] = [{ name: "n", type: "long", nullable: true }];

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(`${dir}/${prefix}`)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) out.push(...filesUnder(dir, `${path}/`));
    else out.push(path);
  }
  return out.sort();
}

/**
 * A table of two one-row files, then version 2 moving it to `protocol` with
 * `configuration` and, on column `n`, `fieldMetadata`.
 */
async function tableWith(
  dir: string,
  protocol: Protocol,
  configuration: Record<string, string>,
  fieldMetadata: Record<string, unknown> = {},
): Promise<Table> {
  const table = await openTable(dir);
  for (const n of [1n, 2n]) {
    await writeTable(table, sourceOf(batchOf(FIELDS, [{ n }])), { autoCheckpoint: false });
  }
  const before = await snapshotOf(table);
  const schema = schemaFromFields(FIELDS);
  schema.fields[0]!.metadata = fieldMetadata;
  const metaData: Metadata = {
    ...before.metadata,
    schemaString: JSON.stringify(schema),
    configuration: { ...before.metadata.configuration, ...configuration },
  };
  const actions: Action[] = [{ protocol }, { metaData }];
  await writeCommit(table.store, 2, actions);
  return { ...table };
}

const v7 = (...writerFeatures: string[]): Protocol => ({
  minReaderVersion: 1,
  minWriterVersion: 7,
  writerFeatures,
});

/** Runs `op`, which must be refused naming `feature`, and checks that the table did not change. */
async function refused(
  dir: string,
  table: Table,
  feature: string,
  op: () => Promise<unknown>,
): Promise<void> {
  const files = filesUnder(dir);
  let error: unknown;
  try {
    await op();
  } catch (e) {
    error = e;
  }
  assert(error instanceof UnsupportedFeatureError, `not refused by feature: ${error}`);
  assertEquals(error.feature, feature);
  assert(error.message.includes(`"${feature}"`) || error.message.includes(feature), error.message);
  assertEquals(filesUnder(dir), files, `${feature}: the table's files changed`);
  assertEquals((await snapshotOf(table)).version, 2);
}

const REFUSED: {
  feature: string;
  protocol: Protocol;
  configuration?: Record<string, string>;
  fieldMetadata?: Record<string, unknown>;
  /** Refused for compaction too (it commits), not only for adding rows. */
  rewrite: boolean;
}[] = [
  {
    feature: "generatedColumns",
    protocol: v7("generatedColumns"),
    fieldMetadata: { "delta.generationExpression": "1" },
    rewrite: false,
  },
  {
    feature: "identityColumns",
    protocol: v7("identityColumns"),
    fieldMetadata: { "delta.identity.start": 1, "delta.identity.step": 1 },
    rewrite: false,
  },
  {
    feature: "allowColumnDefaults",
    protocol: v7("allowColumnDefaults"),
    fieldMetadata: { CURRENT_DEFAULT: "0" },
    rewrite: false,
  },
  {
    feature: "icebergCompatV1",
    protocol: v7("icebergCompatV1"),
    configuration: { "delta.enableIcebergCompatV1": "true" },
    rewrite: true,
  },
  {
    feature: "icebergCompatV2",
    protocol: v7("icebergCompatV2"),
    configuration: { "delta.enableIcebergCompatV2": "true" },
    rewrite: true,
  },
  { feature: "madeUpFeature", protocol: v7("appendOnly", "madeUpFeature"), rewrite: true },
];

for (const c of REFUSED) {
  Deno.test(`a table with ${c.feature} in use is refused by name for writing, before any file or commit`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `neuralake-refuse-${c.feature}-` });
    try {
      const table = await tableWith(dir, c.protocol, c.configuration ?? {}, c.fieldMetadata);
      await refused(
        dir,
        table,
        c.feature,
        () => writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 3n }]))),
      );
      await refused(
        dir,
        table,
        c.feature,
        () => writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 3n }])), { mode: "overwrite" }),
      );
      const optimize = () => optimizeTable(table, { targetFileSize: 1 << 20, minFiles: 2 });
      if (c.rewrite) await refused(dir, table, c.feature, optimize);
      else {
        // Compaction moves rows unchanged: no generated, identity or default value to make.
        const result = await optimize();
        assertEquals(result.committed, 1);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("vacuum of a table with vacuumProtocolCheck and a writer feature neuralake does not know deletes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-refuse-vacuum-" });
  try {
    const table = await tableWith(dir, {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["vacuumProtocolCheck"],
      writerFeatures: ["vacuumProtocolCheck", "madeUpFeature"],
    }, {});
    // An orphan file a month old, which a vacuum would otherwise delete.
    const orphan = `${dir}/part-orphan.parquet`;
    await Deno.writeTextFile(orphan, "x");
    const old = new Date(Date.now() - 30 * 86_400_000);
    await Deno.utime(orphan, old, old);
    await refused(dir, table, "madeUpFeature", () => vacuum(table.store, () => snapshotOf(table)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stream's writers refuse a table with CHECK constraints by name, since they do not check rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-refuse-stream-" });
  try {
    const config = { ...resolveConfig({}), table: `${dir}/t` };
    const table = await openTable(config.table);
    const created = await ensureStreamTable(table, config);
    await writeCommit(table.store, 1, [
      { protocol: { minReaderVersion: 1, minWriterVersion: 3 } },
      {
        metaData: {
          ...created.metadata,
          configuration: {
            ...created.metadata.configuration,
            "delta.constraints.positive": "neuron_id >= 0",
          },
        },
      },
    ]);
    const files = filesUnder(`${dir}/t`);
    let error: unknown;
    try {
      await ensureStreamTable({ ...table }, config);
    } catch (e) {
      error = e;
    }
    assert(error instanceof UnsupportedFeatureError, String(error));
    assertEquals(error.feature, "checkConstraints");
    assertEquals(filesUnder(`${dir}/t`), files);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
