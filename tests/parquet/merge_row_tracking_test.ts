/**
 * Row ids through a merge, without a Delta table: a row's id is its
 * materialized id, else its file's `baseRowId` plus its position in the
 * physical file (counting every row group before it, and rows a deletion
 * vector drops), and its commit version the materialized one, else the
 * file's `defaultRowCommitVersion`, whether its row group is decoded or
 * copied with the two columns made beside it. Rows of a file without
 * `baseRowId` keep null ids.
 */

import type { Field } from "../../src/columnar/batch.ts";
import type { Add } from "../../src/delta/actions.ts";
import { rowTrackingTransform } from "../../src/ops/compaction.ts";
import { bytesSource } from "../../src/parquet/byte_source.ts";
import { readColumns } from "../../src/parquet/decode.ts";
import { encodeParquet } from "../../src/parquet/encode.ts";
import { mergeParquet } from "../../src/parquet/merge.ts";
import { openParquet } from "../../src/parquet/metadata.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { batchOf } from "../_helpers/batches.ts";

const ID = "_row-id";
const VERSION = "_row-commit-version";
const DATA: Field[] = [{ name: "key", type: "long", nullable: true }];
const ALL: Field[] = [
  ...DATA,
  { name: ID, type: "long", nullable: true },
  { name: VERSION, type: "long", nullable: true },
];

function add(path: string, baseRowId: number | undefined, version: number | undefined): Add {
  return {
    path,
    partitionValues: {},
    size: 0,
    modificationTime: 0,
    dataChange: true,
    ...(baseRowId !== undefined ? { baseRowId } : {}),
    ...(version !== undefined ? { defaultRowCommitVersion: version } : {}),
  };
}

Deno.test("merged rows keep ids from materialized columns, else baseRowId plus physical position", async () => {
  // File a: 8 rows in row groups of 3, no materialized columns, baseRowId 100.
  const a = encodeParquet(
    batchOf(DATA, Array.from({ length: 8 }, (_, i) => ({ key: BigInt(i) }))),
    { rowGroupRows: 3 },
  );
  // File b: both columns, some rows materialized (an UPDATE's rows), baseRowId 50.
  const b = encodeParquet(
    batchOf(ALL, [
      { key: 20n, [ID]: 7n, [VERSION]: null },
      { key: 21n, [ID]: null, [VERSION]: 3n },
      { key: 22n, [ID]: 9n, [VERSION]: 4n },
    ]),
  );
  // File c: no baseRowId (not backfilled): its rows have no id to keep.
  const c = encodeParquet(batchOf(DATA, [{ key: 30n }]));
  const adds = [add("a", 100, 5), add("b", 50, 6), add("c", undefined, undefined)];
  const merged = await mergeParquet(
    [{ bytes: a.bytes, name: "a" }, { bytes: b.bytes, name: "b" }, { bytes: c.bytes, name: "c" }],
    {
      minRowGroupRows: 1,
      fields: ALL,
      rowTransforms: adds.map((f) => rowTrackingTransform(f, [ID, VERSION])),
      // A deletion vector on a drops its rows 1 and 4 (4 is in the second row group).
      rowFilters: [
        (start, count) => {
          const kept = [];
          for (let i = 0; i < count; i++) if (start + i !== 1 && start + i !== 4) kept.push(i);
          return kept.length === count ? undefined : Uint32Array.from(kept);
        },
        undefined,
        undefined,
      ],
    },
  );
  const batch = await readColumns(await openParquet(bytesSource(merged.bytes, "merged")), {
    fields: ALL,
  });
  const rows = Array.from(
    { length: batch.length },
    (_, i) => batch.columns.map((c) => (c.nulls?.[i] ? null : Number(c.values[i]))),
  );
  // Copied row groups are written where met, decoded rows when a group fills: order by key.
  assertEquals(rows.sort((x, y) => x[0]! - y[0]!), [
    [0, 100, 5],
    [2, 102, 5],
    [3, 103, 5],
    [5, 105, 5],
    [6, 106, 5],
    [7, 107, 5],
    [20, 7, 6],
    [21, 51, 3],
    [22, 9, 4],
    [30, null, null],
  ]);
  // a's last group (rows 6, 7) and c's are copied, with the two columns encoded beside.
  assertEquals(merged.copiedRowGroups, 2);
});

Deno.test("a row group whose materialized columns hold every value is copied", async () => {
  const full = encodeParquet(
    batchOf(ALL, [{ key: 1n, [ID]: 40n, [VERSION]: 2n }, { key: 2n, [ID]: 41n, [VERSION]: 2n }]),
  );
  const merged = await mergeParquet([{ bytes: full.bytes, name: "full" }], {
    minRowGroupRows: 1,
    fields: ALL,
    rowTransforms: [rowTrackingTransform(add("full", 900, 9), [ID, VERSION])],
  });
  assertEquals(merged.copiedRowGroups, 1);
  const batch = await readColumns(await openParquet(bytesSource(merged.bytes, "merged")), {
    fields: ALL,
  });
  assertEquals(Array.from(batch.columns[1]!.values as BigInt64Array, Number), [40, 41]);
});
