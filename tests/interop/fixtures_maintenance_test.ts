/**
 * neuralake's writes keep every fixture table (tests/fixtures/, written by
 * Spark and delta-rs) valid for the engine that wrote it: on a copy, `write`
 * appends the table's first row again (as NDJSON, the form `scan` prints),
 * then `optimize`, a checkpoint, log cleanup and a vacuum past their
 * retentions (the clock moved 60 days on), after which
 * neuralake, and then that engine itself (Spark for `spark_*`, delta-rs for
 * `deltars_*`), read exactly the rows the engine read before, and the
 * appended one. A write a table's features forbid is refused by name, and
 * the table is left as it was.
 */

import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { writeTable } from "../../src/ops/write.ts";
import { ndjsonSourceFromStream } from "../../src/sources/ndjson.ts";
import { cleanupLog } from "../../src/ops/log_cleanup.ts";
import { optimizeTable } from "../../src/ops/optimize.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { copyFixture } from "../_helpers/fixture_copy.ts";
import { expectedRows, type FixtureTable, fixtureTables } from "../_helpers/fixtures.ts";
import { sparkReadAll } from "../_helpers/spark.ts";

/** Copies that neuralake maintained, by fixture name, for the engines' read-back. */
const maintained = new Map<string, string>();
/** The rows each maintained copy must hold: the engine's, and any row appended. */
const rowsOf = new Map<string, Record<string, unknown>[]>();

const tables = fixtureTables().filter((t) => t.neuralake === "rows");

for (const table of tables) {
  Deno.test(`fixture ${table.name}: optimize, checkpoint, log cleanup and vacuum keep the engine's rows`, async () => {
    const dir = await copyFixture(table.name);
    const opened = await openTable(dir);
    const rows = expectedRows(table.name);
    const first = rows[0];
    if (first) {
      const text = JSON.stringify(first) + "\n";
      const appended = await ranUnlessRefused(
        table,
        () =>
          writeTable(opened, (fields) =>
            ndjsonSourceFromStream(
              ReadableStream.from([new TextEncoder().encode(text)]),
              "append.ndjson",
              fields ? { schema: fields } : {},
            )),
      );
      if (appended) rows.push(first);
    }
    if (
      !await ranUnlessRefused(
        table,
        () => optimizeTable(opened, { targetFileSize: 1 << 30, minFiles: 2 }),
      )
    ) {
      await Deno.remove(dir, { recursive: true });
      return;
    }
    await checkpointTable(opened);
    const later = () => Date.now() + 60 * 86_400_000;
    const { metadata } = await snapshotOf(opened);
    await cleanupLog(opened.store, metadata.configuration, { now: later });
    await vacuum(opened.store, () => snapshotOf(opened), { now: later });
    const ours = await readWithNeuralake(opened);
    assertEquals(canonicalRows(ours.rows), canonicalRows(rows));
    const report = await verifyTable(opened);
    assert(report.passed, JSON.stringify(report.checks.filter((c) => !c.passed)));
    maintained.set(table.name, dir);
    rowsOf.set(table.name, rows);
  });
}

Deno.test("Spark reads every Spark fixture table neuralake maintained as it read it before", async () => {
  // Variant columns compare as Spark's to_json of them: tests/interop/variant_test.ts reads those.
  const names = [...maintained.keys()].filter((n) =>
    n.startsWith("spark_") && !fixture(n).features.includes("variantType")
  );
  assert(names.length > 0, "no Spark table was maintained");
  const reads = await sparkReadAll(names.map((n) => ({ uri: maintained.get(n)! })));
  for (const [i, name] of names.entries()) {
    assertEquals(
      canonicalRows(reads[i]!.rows),
      canonicalRows(rowsOf.get(name)!),
      `Spark's rows of ${name} after neuralake's maintenance`,
    );
  }
  for (const name of names) await Deno.remove(maintained.get(name)!, { recursive: true });
});

Deno.test("delta-rs reads every delta-rs fixture table neuralake maintained as it read it before", async () => {
  const names = [...maintained.keys()].filter((n) => n.startsWith("deltars_"));
  assert(names.length > 0, "no delta-rs table was maintained");
  for (const name of names) {
    const theirs = await readWithDeltaRs(maintained.get(name)!);
    assertEquals(
      canonicalRows(theirs.rows),
      canonicalRows(rowsOf.get(name)!),
      `delta-rs's rows of ${name} after neuralake's maintenance`,
    );
    await Deno.remove(maintained.get(name)!, { recursive: true });
  }
});

/**
 * Runs a write; true if it ran, false if it was refused by name for a
 * feature the table has (listed, or implied by a legacy writer version and
 * named in the manifest). Any other error fails the test.
 */
async function ranUnlessRefused(
  table: FixtureTable,
  write: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (!(error instanceof UnsupportedFeatureError)) throw error;
    assert(
      [...writerFeatures(table), ...table.features].includes(error.feature),
      `${table.name}: ${error.message}`,
    );
    return false;
  }
}

function fixture(name: string): FixtureTable {
  return tables.find((t) => t.name === name)!;
}

function writerFeatures(table: FixtureTable): string[] {
  const features = table.protocol?.writerFeatures;
  return Array.isArray(features) ? features : [];
}
