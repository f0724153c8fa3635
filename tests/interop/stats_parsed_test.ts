/**
 * A delta-rs checkpoint that keeps statistics only as `stats_parsed`
 * (`delta.checkpoint.writeStatsAsJson=false`), over columns of every
 * primitive type with bounds: the stats neuralake makes of it bound each
 * column as the JSON stats delta-rs logged in the commits do, files are
 * skipped on them, and the rows equal delta-rs's for the same predicate.
 */

import type { Field } from "../../src/columnar/batch.ts";
import { rowObject } from "../../src/cli/cells.ts";
import { parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { parseStats } from "../../src/delta/stats.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { openTable, snapshotOf, tableFields } from "../../src/ops/table.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, deltaRs, readWithDeltaRs } from "../_helpers/delta_rs.ts";

const SCHEMA: [string, string][] = [
  ["d", "date"],
  ["ts", "timestamp"],
  ["ntz", "timestamp_ntz"],
  ["amount", "decimal(10,2)"],
  ["i", "integer"],
  ["s16", "short"],
  ["f", "float"],
  ["x", "double"],
  ["name", "string"],
  ["b", "boolean"],
];

/** File k's rows: two of values growing with k, and one of nulls. */
function rowsOf(k: number): Record<string, unknown>[] {
  const day = (d: number) => `2024-01-${String(d).padStart(2, "0")}`;
  const base = day(1 + 3 * k);
  return [
    {
      d: base,
      ts: `${base}T00:00:00.123456Z`,
      ntz: `${base}T00:07:00.000001`,
      amount: `${k * 10}.25`,
      i: k * 100,
      s16: k,
      f: k + 0.5,
      x: -k - 0.25,
      name: `a${k}`,
      b: true,
    },
    {
      d: day(2 + 3 * k),
      ts: `${base}T05:00:00.999999Z`,
      ntz: `${base}T02:00:00`,
      amount: `${k * 10 + 5}.75`,
      i: k * 100 + 50,
      s16: k + 1,
      f: k + 1.5,
      x: k + 0.125,
      name: `b${k}`,
      b: false,
    },
    {},
  ];
}

Deno.test("bounds from a delta-rs checkpoint's stats_parsed skip files as its logged JSON stats would, and the rows are delta-rs's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-stats-parsed-" });
  const uri = `${dir}/t`;
  for (let k = 0; k < 4; k++) {
    const answer = await deltaRs({
      op: "append",
      uri,
      schema: SCHEMA,
      rows: rowsOf(k),
      ...(k === 0
        ? {
          configuration: {
            "delta.checkpoint.writeStatsAsJson": "false",
            "delta.checkpoint.writeStatsAsStruct": "true",
          },
        }
        : {}),
    });
    assert(answer.ok, JSON.stringify(answer));
  }
  assert((await deltaRs({ op: "checkpoint", uri })).ok);

  const table = await openTable(uri);
  const snapshot = await snapshotOf(table);
  assertEquals(snapshot.segment.checkpoint?.version, 3);
  const fields: Field[] = tableFields(snapshot.schema, snapshot.metadata.configuration);
  const logged = new Map<string, string>();
  for (let v = 0; v <= 3; v++) {
    for (const a of parseCommit(await Deno.readTextFile(`${uri}/${commitKey(v)}`), `v${v}`)) {
      if ("add" in a) logged.set(a.add.path, a.add.stats!);
    }
  }
  let files = 0;
  for (const add of snapshot.files.values()) {
    files++;
    const ours = parseStats(add.stats, fields)!;
    const theirs = parseStats(logged.get(add.path), fields)!;
    assertEquals(ours.numRecords, theirs.numRecords);
    for (const f of fields) {
      assertEquals(ours.columns.get(f.name), theirs.columns.get(f.name), `${add.path}: ${f.name}`);
    }
  }
  assertEquals(files, 4);

  // [neuralake --where, delta-rs SQL]; each matches rows of one file only.
  const predicates: [string, string][] = [
    ["ts >= '2024-01-10T00:00:00Z'", "ts >= '2024-01-10T00:00:00Z'"],
    // The stored maximum is truncated to milliseconds: the file must still be read.
    ["ts > '2024-01-10T05:00:00.999500Z'", "ts > '2024-01-10T05:00:00.999500Z'"],
    ["d < '2024-01-02'", "d < '2024-01-02'"],
    ["ntz < '2024-01-01T00:08:00'", "ntz < '2024-01-01T00:08:00'"],
    ["amount > 30", "amount > 30"],
    ["i >= 300", "i >= 300"],
    ["s16 = 0", "s16 = 0"],
    ["f < 1", "f < 1"],
    ["x > 3", "x > 3"],
    ["name > 'b2'", "name > 'b2'"],
  ];
  for (const [where, sql] of predicates) {
    const scan = await scanTable(table, { where });
    const rows: Record<string, unknown>[] = [];
    for await (const batch of scan.batches) {
      for (let i = 0; i < batch.length; i++) rows.push(rowObject(batch, i));
    }
    const theirs = await deltaRs({ op: "query", uri, where: sql });
    assert(theirs.ok, JSON.stringify(theirs));
    assert(theirs.rows.length > 0, `${sql} matches rows`);
    assertEquals(
      canonicalRows(rows.map(({ f, ...r }) => ({ ...r, f: Math.fround(f as number) }))),
      canonicalRows(theirs.rows.map(({ f, ...r }: Record<string, unknown>) => ({ ...r, f }))),
      where,
    );
    assertEquals([scan.stats.filesRead, scan.stats.filesSkipped], [1, 3], `${where}: files`);
  }
  // And everything, as delta-rs reads it.
  const all = await readWithDeltaRs(uri);
  assertEquals(all.rows.length, 12);
});
