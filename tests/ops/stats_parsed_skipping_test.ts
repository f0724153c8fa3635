/**
 * Data skipping on a checkpoint that keeps statistics only as `stats_parsed`
 * (delta-rs with `delta.checkpoint.writeStatsAsJson=false`): its bounds skip
 * files as JSON stats do, and the rows are the ones delta-rs reads.
 */

import { rowObject } from "../../src/cli/cells.ts";
import { scanTable } from "../../src/ops/scan.ts";
import { openTable } from "../../src/ops/table.ts";
import { assertEquals } from "../_helpers/assert.ts";
import { fixture, fixturePath, FIXTURES } from "../_helpers/fixtures.ts";

const NAME = "deltars_checkpoint_stats_as_struct";

/** The rows delta-rs read from the fixture, as canonical JSON lines. */
function deltaRsRows(): Record<string, unknown>[] {
  const text = Deno.readTextFileSync(`${FIXTURES}${fixture(NAME).expected}`);
  return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

Deno.test("a checkpoint with bounds only in stats_parsed skips files on them and reads delta-rs's rows", async () => {
  // Files 0, 1, 2 (ids i, i + 10, i + 20; names "n<i>", null, "m<i>") are in
  // the checkpoint with stats_parsed only; file 3 was appended after it, with
  // JSON stats.
  const table = await openTable(fixturePath(NAME));
  const cases: {
    where: string;
    keep: (r: Record<string, unknown>) => boolean;
    filesRead: number;
  }[] = [
    { where: "id < 1", keep: (r) => (r.id as number) < 1, filesRead: 1 },
    { where: "id >= 22", keep: (r) => (r.id as number) >= 22, filesRead: 2 },
    {
      where: "name < 'm1'",
      keep: (r) => r.name !== null && (r.name as string) < "m1",
      filesRead: 1,
    },
    { where: "name = 'n1'", keep: (r) => r.name === "n1", filesRead: 3 },
    { where: "name > 'n2'", keep: (r) => (r.name as string | null ?? "") > "n2", filesRead: 1 },
    { where: "id > 100", keep: () => false, filesRead: 0 },
    // Every file has a null name: the null counts keep them all.
    { where: "name is null", keep: (r) => r.name === null, filesRead: 4 },
  ];
  for (const c of cases) {
    const scan = await scanTable(table, { where: c.where, columns: ["id", "name", "point"] });
    const rows: string[] = [];
    for await (const batch of scan.batches) {
      for (let i = 0; i < batch.length; i++) rows.push(JSON.stringify(rowObject(batch, i)));
    }
    const want = deltaRsRows().filter(c.keep).map((r) => JSON.stringify(r));
    assertEquals(rows.sort(), want.sort(), c.where);
    assertEquals(
      [scan.stats.filesTotal, scan.stats.filesRead, scan.stats.filesSkipped],
      [4, c.filesRead, 4 - c.filesRead],
      `${c.where}: files total, read, skipped`,
    );
  }
});
