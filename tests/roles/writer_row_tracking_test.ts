/**
 * The stream writer role on a row-tracking table: two writers (in one
 * process, sharing commits through their feeds, as `neuralake stream` runs
 * them) append batch after batch, and no two rows get one row id; every
 * file's `defaultRowCommitVersion` is the version that added it.
 */

import type { Add } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { activeFiles } from "../../src/delta/replay.ts";
import { ROW_TRACKING_DOMAIN, rowIdHighWaterMark } from "../../src/delta/row_tracking.ts";
import { snapshotOf } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  runWritersUntilAcked,
  streamWriterTable,
  turnOnFeatures,
} from "../_helpers/writer_roles.ts";

Deno.test("two stream writers on a row-tracking table never give two rows one row id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-writer-rowids-" });
  try {
    const setup = await streamWriterTable(dir);
    const { config, table, created } = setup;
    // Row tracking turned on, as Databricks does for new tables.
    await turnOnFeatures(
      setup,
      ["rowTracking", "domainMetadata", "appendOnly", "invariants"],
      () => ({
        "delta.enableRowTracking": "true",
        "delta.rowTracking.materializedRowIdColumnName": "_row-id-col-test",
        "delta.rowTracking.materializedRowCommitVersionColumnName": "_row-commit-version-col-test",
      }),
    );
    const BATCHES = 4;
    await runWritersUntilAcked(config, 2, BATCHES);

    const end = await snapshotOf(table);
    const versionOf = new Map<string, number>();
    for (let v = created.version + 2; v <= end.version; v++) {
      const text = await Deno.readTextFile(`${config.table}/${commitKey(v)}`);
      for (const a of parseCommit(text, `commit ${v}`)) {
        if ("add" in a) versionOf.set(a.add.path, v);
      }
    }
    const added: Add[] = [...activeFiles(end)].filter((f) => f.dataChange);
    assert(added.length >= 2 * BATCHES, `${added.length} files`);
    const ranges = added.map((f) => {
      assertEquals(f.defaultRowCommitVersion, versionOf.get(f.path), f.path);
      const n = JSON.parse(f.stats!).numRecords as number;
      return [f.baseRowId!, f.baseRowId! + n - 1] as const;
    }).sort((a, b) => a[0] - b[0]);
    assertEquals(ranges[0]![0], 0);
    for (let i = 1; i < ranges.length; i++) {
      assertEquals(
        ranges[i]![0],
        ranges[i - 1]![1] + 1,
        `ranges ${ranges[i - 1]} and ${ranges[i]}`,
      );
    }
    assertEquals(rowIdHighWaterMark(end.domains.get(ROW_TRACKING_DOMAIN)), ranges.at(-1)![1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
