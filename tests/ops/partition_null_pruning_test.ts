/**
 * Pruning on partition values follows SQL: a file whose partition value is
 * null holds no row for which `p = 1` or `p != 1` is true, and is skipped
 * even where the file's row count is unknown (the Spark fixture's
 * checkpoint keeps no JSON stats). Rows are Spark's, filtered the same way.
 */

import { rowObject } from "../../src/cli/cells.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { openTable } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { fixture, fixturePath, FIXTURES } from "../_helpers/fixtures.ts";

const NAME = "spark_stats_struct_partitioned";

/** The rows Spark wrote, as objects. */
function sparkRows(): Record<string, unknown>[] {
  const text = Deno.readTextFileSync(`${FIXTURES}${fixture(NAME).expected}`);
  return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

Deno.test("a file whose partition value is null is pruned by a comparison on that column, as SQL's null = 1 is not true", async () => {
  // Six files, one row each: p_int 1 (twice), null, -7, 2147483647 and 0;
  // p_str "a" (twice), null (twice), "b c" and "z".
  const table = await openTable(fixturePath(NAME));
  const cases: { where: string; keep: (r: Record<string, unknown>) => boolean; files: number }[] = [
    { where: "p_int = 1", keep: (r) => r.p_int === 1, files: 2 },
    { where: "p_int != 1", keep: (r) => r.p_int !== null && r.p_int !== 1, files: 3 },
    { where: "p_int < 1", keep: (r) => r.p_int !== null && (r.p_int as number) < 1, files: 2 },
    { where: "p_int IN (1, 0)", keep: (r) => r.p_int === 1 || r.p_int === 0, files: 3 },
    { where: "NOT (p_int = 1)", keep: (r) => r.p_int !== null && r.p_int !== 1, files: 3 },
    { where: "p_str = 'a'", keep: (r) => r.p_str === "a", files: 2 },
    { where: "p_int IS NULL", keep: (r) => r.p_int === null, files: 1 },
    { where: "p_int IS NOT NULL", keep: (r) => r.p_int !== null, files: 5 },
    {
      where: "p_int = 1 OR p_int IS NULL",
      keep: (r) => r.p_int === 1 || r.p_int === null,
      files: 3,
    },
  ];
  for (const c of cases) {
    const scan = await scanTable(table, { where: c.where });
    const rows: string[] = [];
    for await (const batch of scan.batches) {
      for (let i = 0; i < batch.length; i++) rows.push(JSON.stringify(rowObject(batch, i)));
    }
    const want = sparkRows().filter(c.keep).map((r) => JSON.stringify(r));
    assertEquals(rows.sort(), want.sort(), c.where);
    assertEquals([scan.stats.filesTotal, scan.stats.filesRead], [6, c.files], c.where);
  }
});
