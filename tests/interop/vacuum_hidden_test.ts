/**
 * What vacuum counts as hidden is Delta's own rule (`isHiddenDirectory` in
 * delta-spark, which delta-rs copies): names starting with `_` or `.` are
 * hidden, except partition directories, `_change_data` (change data files,
 * which no snapshot references, removed past retention like any other
 * file) and `_delta_index` (indexes of data files). neuralake kept
 * `_change_data` forever, so a table with the change data feed grew by
 * every UPDATE, DELETE and MERGE's change files. The test vacuums two
 * copies of Spark's change-data-feed fixture, one with Spark's own VACUUM
 * and one with neuralake's, with the same files added (orphans in hidden
 * directories, in `_delta_index`, at the root), and compares what is left.
 *
 * A UniForm table (`delta.universalFormat.enabledFormats` naming `iceberg`)
 * keeps its Iceberg metadata in `metadata/`, which the Delta log never
 * names: Delta hides that directory from VACUUM, and neuralake deleted it,
 * leaving Iceberg readers with no table. That copy is the same fixture with
 * the property set by a commit, as `ALTER TABLE ... SET TBLPROPERTIES`
 * writes it (Spark 4.0 without the Iceberg jars cannot enable UniForm, but
 * its VACUUM judges by the property alone).
 */

import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { writeCommit } from "../_helpers/log.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { spark } from "../_helpers/spark.ts";

/** Files other tools leave beside the data, relative to the root. */
const EXTRA = [
  "_delta_index/bloom-part-0.bin",
  "_tmp_other_tool/part-0.parquet",
  ".hidden/part-0.parquet",
  "orphan-part-00000.snappy.parquet",
];

async function filesUnder(root: string, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${dir}`)) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      if (rel !== "_delta_log") out.push(...await filesUnder(root, rel));
    } else if (!entry.name.endsWith(".crc")) out.push(rel);
  }
  return out.sort();
}

Deno.test("vacuum deletes and keeps what Spark's VACUUM does: change data and index files past retention go", async () => {
  const theirs = await copyFixture("spark_feature_change_data_feed");
  const ours = await copyFixture("spark_feature_change_data_feed");
  try {
    for (const root of [theirs, ours]) {
      for (const rel of EXTRA) {
        await Deno.mkdir(`${root}/${rel.slice(0, rel.lastIndexOf("/") + 1) || "."}`, {
          recursive: true,
        });
        await Deno.writeTextFile(`${root}/${rel}`, "not referenced by the Delta log\n");
      }
    }
    const before = await filesUnder(ours);
    assert(before.some((f) => f.startsWith("_change_data/")), "the fixture has change data");

    const answer = await spark({
      sql: [`VACUUM delta.\`${theirs}\` RETAIN 0 HOURS`],
      conf: { "spark.databricks.delta.retentionDurationCheck.enabled": "false" },
    });
    assert(answer.sql[0]!.ok, JSON.stringify(answer.sql[0]));
    const table = await openTable(ours);
    await vacuum(table.store, () => snapshotOf(table), { now: () => Date.now() + 60 * 86_400_000 });

    const left = await filesUnder(ours);
    assertEquals(left, await filesUnder(theirs));
    assert(
      left.includes("_tmp_other_tool/part-0.parquet") && left.includes(".hidden/part-0.parquet"),
    );
    assert(
      !left.some((f) => f.startsWith("_change_data/")),
      "change data past retention is vacuumed",
    );
  } finally {
    await Deno.remove(theirs, { recursive: true });
    await Deno.remove(ours, { recursive: true });
  }
});

/** Iceberg metadata as UniForm writes it, relative to the table root. */
const ICEBERG = [
  "metadata/v1.metadata.json",
  "metadata/version-hint.text",
  "metadata/snap-1-1-2f6a.avro",
  "metadata/2f6a-m0.avro",
];

Deno.test("vacuum keeps a UniForm table's Iceberg metadata, as Spark's VACUUM does", async () => {
  const theirs = await copyFixture("spark_feature_change_data_feed");
  const ours = await copyFixture("spark_feature_change_data_feed");
  try {
    for (const root of [theirs, ours]) {
      const table = await openTable(root);
      const state = await snapshotOf(table);
      const metaData = {
        ...state.metadata,
        configuration: {
          ...state.metadata.configuration,
          "delta.universalFormat.enabledFormats": "iceberg",
        },
      };
      await writeCommit(table.store, state.version + 1, [
        { commitInfo: { timestamp: Date.now(), operation: "SET TBLPROPERTIES" } },
        { metaData },
      ]);
      await Deno.mkdir(`${root}/metadata`);
      for (const rel of [...ICEBERG, "orphan-part-00000.snappy.parquet"]) {
        await Deno.writeTextFile(`${root}/${rel}`, "not referenced by the Delta log\n");
      }
    }
    const answer = await spark({
      sql: [`VACUUM delta.\`${theirs}\` RETAIN 0 HOURS`],
      conf: {
        "spark.databricks.delta.retentionDurationCheck.enabled": "false",
        // No VACUUM START/END commits: their post-commit hook would convert to Iceberg.
        "spark.databricks.delta.vacuum.logging.enabled": "false",
      },
    });
    assert(answer.sql[0]!.ok, JSON.stringify(answer.sql[0]));
    const table = await openTable(ours);
    await vacuum(table.store, () => snapshotOf(table), { now: () => Date.now() + 60 * 86_400_000 });

    const left = await filesUnder(ours);
    assertEquals(left, await filesUnder(theirs));
    for (const rel of ICEBERG) assert(left.includes(rel), `${rel} was deleted`);
    assert(!left.includes("orphan-part-00000.snappy.parquet"), "the orphan is vacuumed");
  } finally {
    await Deno.remove(theirs, { recursive: true });
    await Deno.remove(ours, { recursive: true });
  }
});
