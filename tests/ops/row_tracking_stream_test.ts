/**
 * Stream writers on a row-tracking table: each append gets fresh row ids
 * after the high water mark as of the version it lands at, recomputed after
 * every lost race, so concurrent writers (each keeping its own mark, as the
 * stream writer role does) never give two rows one id, and each file's
 * `defaultRowCommitVersion` is the version that added it.
 */

import type { Action, Add } from "../../src/delta/actions.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { ROW_TRACKING_DOMAIN, rowIdHighWaterMark } from "../../src/delta/row_tracking.ts";
import { appendBatch, appendTarget, rowIdMarkOf } from "../../src/ops/append.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { activeFiles } from "../../src/delta/replay.ts";
import { checkCanWrite } from "../../src/delta/protocol.ts";

const FIELDS: Field[] = [
  { name: "id", type: "long", nullable: true },
  { name: "name", type: "string", nullable: true },
];

async function commitAt(dir: string, version: number): Promise<Action[]> {
  const text = await Deno.readTextFile(`${dir}/${commitKey(version)}`);
  return parseCommit(text, `commit ${version}`);
}

Deno.test("concurrent stream writers never give two rows one row id", async () => {
  const dir = await copyFixture("spark_feature_row_tracking");
  const table = await openTable(dir);
  const start = await snapshotOf(table);
  checkCanWrite(start.protocol, start.metadata, start.schema, {
    kind: "append",
    assignsRowIds: true,
  });
  const startMark = rowIdHighWaterMark(start.domains.get(ROW_TRACKING_DOMAIN));
  const WRITERS = 4;
  const BATCHES = 6;
  let lostRaces = 0;
  // Each writer keeps its read version and mark as the stream writer role
  // does; one of them never moves its read version, so it catches up by
  // reading and loses races every time.
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    let readVersion = start.version;
    const rowIds = rowIdMarkOf(start)!;
    const target = appendTarget(table.store, FIELDS, []);
    for (let b = 0; b < BATCHES; b++) {
      const rows = Array.from({ length: 1 + ((w + b) % 3) }, (_, i) => ({
        id: BigInt(1000 * (w + 1) + 10 * b + i),
        name: `w${w}`,
      }));
      const result = await appendBatch(target, batchOf(FIELDS, rows), {
        readVersion,
        rowIds,
        fileIndex: w,
        description: { operation: "STREAMING UPDATE", isBlindAppend: true },
        commit: { onLostRace: () => lostRaces++ },
      });
      assertEquals(result.outcome.kind, "committed", `writer ${w} batch ${b}`);
      if (w !== 0 && result.outcome.kind === "committed") readVersion = result.outcome.version;
    }
  }));
  assert(lostRaces > 0, "the writers raced");
  // Then one writer alone, its read version following its own commits: no
  // winner tells it the mark, its own last commit does.
  {
    const alone = await snapshotOf(table);
    let readVersion = alone.version;
    const rowIds = rowIdMarkOf(alone)!;
    for (let b = 0; b < 3; b++) {
      const result = await appendBatch(
        appendTarget(table.store, FIELDS, []),
        batchOf(FIELDS, [{ id: BigInt(9000 + b), name: "alone" }, {
          id: BigInt(9100 + b),
          name: "alone",
        }]),
        { readVersion, rowIds, description: { operation: "STREAMING UPDATE" } },
      );
      assertEquals(result.outcome.kind, "committed");
      if (result.outcome.kind === "committed") readVersion = result.outcome.version;
      assertEquals([rowIds.version, rowIds.mark], [
        readVersion,
        rowIdHighWaterMark((await snapshotOf(table)).domains.get(ROW_TRACKING_DOMAIN)),
      ]);
    }
  }

  const end = await snapshotOf(table);
  const versionOf = new Map<string, number>();
  for (let v = start.version + 1; v <= end.version; v++) {
    for (const a of await commitAt(dir, v)) if ("add" in a) versionOf.set(a.add.path, v);
  }
  const added: Add[] = [...activeFiles(end)].filter((f) => versionOf.has(f.path));
  assertEquals(added.length, WRITERS * BATCHES + 3);
  const ranges = added.map((f) => {
    assertEquals(f.defaultRowCommitVersion, versionOf.get(f.path), f.path);
    const n = JSON.parse(f.stats!).numRecords as number;
    return [f.baseRowId!, f.baseRowId! + n - 1] as const;
  }).sort((a, b) => a[0] - b[0]);
  // Fresh ids after the mark the writers started from, no two ranges overlapping.
  assert(ranges[0]![0] > startMark, `${ranges[0]![0]} > ${startMark}`);
  for (let i = 1; i < ranges.length; i++) {
    assert(ranges[i]![0] > ranges[i - 1]![1], `ranges ${ranges[i - 1]} and ${ranges[i]} overlap`);
  }
  // The table's mark covers every id.
  assertEquals(rowIdHighWaterMark(end.domains.get(ROW_TRACKING_DOMAIN)), ranges.at(-1)![1]);
});
