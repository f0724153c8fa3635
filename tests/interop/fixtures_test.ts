/**
 * Every fixture table in tests/fixtures/ (written by Spark and delta-rs, see
 * its README) is either read by neuralake row for row as the engine that
 * wrote it reads it, or refused with an error that names the feature
 * neuralake does not implement yet. What is expected of each table is its
 * `neuralake` entry in tests/fixtures/manifest.json: flip `{"refused": ...}`
 * to `"rows"` when the feature lands.
 *
 * A table neuralake reads is also read at every earlier version the manifest
 * lists (as the engine read it then, or refused as unavailable when the
 * engine could not reconstruct it either), and `describe`, `history` and
 * `verify` must agree with it.
 */

import { openTable, VersionUnavailableError } from "../../src/ops/table.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { describeTable } from "../../src/ops/describe.ts";
import { readHistory } from "../../src/ops/history.ts";
import { verifyTable } from "../../src/ops/verify.ts";
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
  const expectedFiles = new Set<string>();
  for (const table of fixtureTables()) {
    assertEquals(expectedRows(table.name).length, table.rows, table.name);
    assert(table.engine.length > 0 && table.features.length > 0, table.name);
    expectedFiles.add(table.expected);
    for (const earlier of table.versions ?? []) {
      assert(earlier.version < table.version, `${table.name}: version ${earlier.version}`);
      if (earlier.unavailable) continue;
      expectedFiles.add(earlier.expected);
      assertEquals(expectedRows(table.name, earlier.version).length, earlier.rows, table.name);
    }
  }
  const files = [...Deno.readDirSync(`${FIXTURES}expected`)].filter((e) =>
    e.name.endsWith(".ndjson")
  )
    .map((e) => `expected/${e.name}`).filter((f) => !f.endsWith(".row_ids.ndjson")).sort();
  assertEquals(files, [...expectedFiles].sort());
});

for (const table of fixtureTables()) {
  Deno.test(`fixture ${table.name} (${table.engine.split(" (")[0]}): ${describe(table)}`, async () => {
    const opened = await openTable(fixturePath(table.name));
    const expectation = table.neuralake;
    if (expectation === "rows") {
      const ours = await readWithNeuralake(opened);
      assertEquals(ours.version, table.version);
      assertEquals(canonicalRows(ours.rows), canonicalRows(expectedRows(table.name)));
      for (const earlier of table.versions ?? []) {
        if (earlier.unavailable) {
          const error = await assertRejects(() => readWithNeuralake(opened, earlier.version));
          assert(
            error instanceof VersionUnavailableError,
            `${table.name} at version ${earlier.version}: not refused as unavailable: ${error.message}`,
          );
          continue;
        }
        const then = await readWithNeuralake(opened, earlier.version);
        assertEquals(then.version, earlier.version);
        assertEquals(
          canonicalRows(then.rows),
          canonicalRows(expectedRows(table.name, earlier.version)),
          `${table.name} at version ${earlier.version}`,
        );
      }
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

for (const table of fixtureTables().filter((t) => t.neuralake === "rows")) {
  Deno.test(`fixture ${table.name}: describe, history and verify agree with the engine's table`, async () => {
    const opened = await openTable(fixturePath(table.name));
    const description = await describeTable(opened);
    assertEquals(description.version, table.version);
    const columns = Object.keys(expectedRows(table.name)[0] ?? {});
    if (columns.length > 0) {
      assertEquals(description.schema.fields.map((f) => f.name).sort(), columns.sort());
    }
    // Row counts from statistics, when every file has them, are the engine's.
    if (description.rows !== null) assertEquals(description.rows, table.rows);
    else assert(description.filesWithoutStats > 0, table.name);

    const history = await readHistory(opened);
    assertEquals(history[0]?.version, table.version);
    const versions = history.map((h) => h.version);
    const oldest = versions.at(-1)!;
    assertEquals(
      versions,
      Array.from({ length: table.version - oldest + 1 }, (_, i) => table.version - i),
    );
    assert(history.every((h) => Number.isFinite(h.timestamp) && h.timestamp > 0), table.name);

    const report = await verifyTable(opened);
    const failed = report.checks.filter((c) => !c.passed);
    assert(report.passed, `${table.name}: ${JSON.stringify(failed)}`);
    assertEquals(report.version, table.version);
  });
}

function describe(table: FixtureTable): string {
  const e = table.neuralake;
  const earlier = table.versions?.length
    ? ` and versions ${table.versions.map((v) => v.version).join(", ")} as the engine does`
    : "";
  if (e === "rows") {
    return `reads the engine's ${table.rows} rows at version ${table.version}${earlier}`;
  }
  return `is refused naming ${e.refused}${
    e.columns ? `; its columns ${e.columns.join(", ")} read as the engine reads them` : ""
  }`;
}
