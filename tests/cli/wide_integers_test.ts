/**
 * `write` infers integers beyond int64 as decimals (as Spark does), so that
 * they are stored exactly, and refuses with the file, line and column an
 * integer no decimal holds, or one beside fractions, instead of rounding it
 * into a double.
 */

import { assert, assertEquals } from "../_helpers/assert.ts";
import { cli } from "../_helpers/cli.ts";
import { openTable, snapshotOf, tableFields } from "../../src/ops/table.ts";

const WIDE = "12345678901234567890123";

for (const format of ["csv", "ndjson"] as const) {
  Deno.test(`write infers an integer beyond int64 in ${format} as a decimal and keeps it exactly`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "neuralake-wide-int-" });
    try {
      const input = `${dir}/rows.${format}`;
      await Deno.writeTextFile(
        input,
        format === "csv"
          ? `id,n\n1,${WIDE}\n2,5\n3,-${WIDE}\n`
          : `{"id":1,"n":${WIDE}}\n{"id":2,"n":5}\n{"id":3,"n":-${WIDE}}\n`,
      );
      const table = `${dir}/t`;
      const written = await cli(["write", table, "--input", input]);
      assertEquals(written.code, 0, written.stderr);
      const snapshot = await snapshotOf(await openTable(table));
      assertEquals(
        tableFields(snapshot.schema, snapshot.metadata.configuration).map((f) => [f.name, f.type]),
        [["id", "long"], ["n", "decimal(23,0)"]],
      );
      const scan = await cli(["scan", table, "--format", "ndjson"]);
      assertEquals(scan.code, 0, scan.stderr);
      const values = scan.stdout.trim().split("\n").map((line) => {
        // The decimal as its exact text, whether printed as a number or a string.
        const match = /"n":"?(-?\d+)"?/.exec(line);
        assert(match !== null, line);
        return match[1];
      });
      assertEquals(values.sort(), [WIDE, "5", `-${WIDE}`].sort());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("write refuses an integer of more than 38 digits, naming the file, line and column, and leaves no table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-wide-int-" });
  try {
    const input = `${dir}/rows.csv`;
    await Deno.writeTextFile(input, `id,n\n1,5\n2,${"9".repeat(40)}\n`);
    const table = `${dir}/t`;
    const written = await cli(["write", table, "--input", input]);
    assertEquals(written.code, 1, written.stdout);
    assert(
      written.stderr.includes(`rows.csv:3: column "n": the integer`),
      written.stderr,
    );
    assert(written.stderr.includes("40 digits"), written.stderr);
    assert(written.stderr.includes("--schema"), written.stderr);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["rows.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write refuses integers beyond int64 beside fractions in one key, naming the line and key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-wide-int-" });
  try {
    const input = `${dir}/rows.ndjson`;
    await Deno.writeTextFile(input, `{"n":${WIDE}}\n{"n":1.5}\n`);
    const written = await cli(["write", `${dir}/t`, "--input", input]);
    assertEquals(written.code, 1, written.stdout);
    assert(written.stderr.includes(`rows.ndjson:2: column "n": holds integers`), written.stderr);
    assert(written.stderr.includes("a double would round the integers"), written.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
