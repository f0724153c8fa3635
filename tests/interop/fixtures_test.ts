/**
 * Every fixture table in tests/fixtures/ (written by Spark and delta-rs, see
 * its README) is either read by neuralake row for row as the engine that
 * wrote it reads it, or refused with an error that names the feature
 * neuralake does not implement yet. What is expected of each table is its
 * `neuralake` entry in tests/fixtures/manifest.json: flip `{"refused": ...}`
 * to `"rows"` when the feature lands.
 */

import { openTable } from "../../src/ops/table.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, readWithNeuralake } from "../_helpers/delta_rs.ts";
import {
  expectedRows,
  fixturePath,
  FIXTURES,
  type FixtureTable,
  fixtureTables,
} from "../_helpers/fixtures.ts";

Deno.test("the manifest lists every fixture table folder and every expected file", () => {
  const listed = fixtureTables().map((t) => t.path).sort();
  const folders = [...Deno.readDirSync(`${FIXTURES}tables`)].filter((e) => e.isDirectory)
    .map((e) => `tables/${e.name}`).sort();
  assertEquals(listed, folders);
  for (const table of fixtureTables()) {
    assertEquals(expectedRows(table.name).length, table.rows, table.name);
    assert(table.engine.length > 0 && table.features.length > 0, table.name);
  }
});

for (const table of fixtureTables()) {
  Deno.test(`fixture ${table.name} (${table.engine.split(" (")[0]}): ${describe(table)}`, async () => {
    const opened = await openTable(fixturePath(table.name));
    const expectation = table.neuralake;
    if (expectation === "rows") {
      const ours = await readWithNeuralake(opened);
      assertEquals(ours.version, table.version);
      assertEquals(canonicalRows(ours.rows), canonicalRows(expectedRows(table.name)));
      return;
    }
    const error = await assertRejects(() => readWithNeuralake(opened));
    assert(error instanceof UnsupportedFeatureError, `not a feature refusal: ${error.message}`);
    assertEquals(error.feature, expectation.refused);
    assert(error.message.includes(expectation.refused), error.message);
    if (expectation.columns) {
      // What neuralake can read of it already must match the engine's rows.
      const ours = await readWithNeuralake(opened, undefined, expectation.columns);
      assertEquals(ours.version, table.version);
      const theirs = expectedRows(table.name).map((row) =>
        Object.fromEntries(expectation.columns!.map((c) => [c, row[c]]))
      );
      assertEquals(canonicalRows(ours.rows), canonicalRows(theirs));
    }
  });
}

function describe(table: FixtureTable): string {
  const e = table.neuralake;
  if (e === "rows") return `reads the engine's ${table.rows} rows at version ${table.version}`;
  return `is refused naming ${e.refused}${
    e.columns ? `; its columns ${e.columns.join(", ")} read as the engine reads them` : ""
  }`;
}
