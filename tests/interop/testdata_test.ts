/**
 * Every table in ../shared/testdata/delta-rs (written by Spark, Databricks
 * and delta-rs) is either read exactly as delta-rs reads it, or refused with
 * an error that names the feature neuralake does not implement. Tables whose
 * data files were left out of the fixtures are compared at the log level
 * (version and active files), and both readers must fail on their data.
 */

import { openTable, snapshotOf, type Table } from "../../src/ops/table.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import { TableNotFoundError } from "../../src/delta/log_segment.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { canonicalRows, deltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";

const ROOT = new URL("../../../shared/testdata/delta-rs/", import.meta.url).pathname;

type Expectation =
  | {
    kind: "rows";
    version: number;
    rows: number;
    /** `pyarrow`: the files read directly; `datafusion`: delta-rs's engine (applies DVs). */
    via?: "pyarrow" | "datafusion";
    nested?: string[];
  }
  | { kind: "refused"; feature: string }
  | { kind: "log-only"; version: number; files: number; nested?: string[] }
  | { kind: "no-table" };

const EXPECTED: Record<string, Expectation> = {
  "checkpoint-v2-table": { kind: "refused", feature: "v2Checkpoint" },
  "checkpoints": { kind: "log-only", version: 12, files: 12, nested: ["some_struct"] },
  "checkpoints_tombstones": { kind: "no-table" },
  "checkpoints_vacuumed": { kind: "log-only", version: 12, files: 12, nested: ["some_struct"] },
  "concurrent_workers": { kind: "rows", version: 0, rows: 0 },
  "delta-0.8.0": { kind: "rows", version: 1, rows: 4 },
  "delta-0.8.0-null-partition": { kind: "rows", version: 0, rows: 2 },
  "delta-0.8.0-partitioned": { kind: "rows", version: 0, rows: 7 },
  "delta-2.2.0-partitioned-types": { kind: "rows", version: 0, rows: 3 },
  "delta-checkpoint-stats-optional": { kind: "rows", version: 2, rows: 2, nested: ["struct"] },
  "delta-stats-optional": { kind: "rows", version: 2, rows: 2, nested: ["struct"] },
  "latest_not_checkpointed": { kind: "log-only", version: 3, files: 1 },
  "partition-type-primitives": { kind: "rows", version: 0, rows: 16 },
  "simple_table": { kind: "rows", version: 4, rows: 3 },
  "simple_table_features": { kind: "refused", feature: "readerVersion5" },
  "simple_table_with_checkpoint": { kind: "rows", version: 10, rows: 11 },
  "table-with-dv-small": { kind: "rows", version: 1, rows: 8, via: "datafusion" },
  "table_failed_last_checkpoint_update": { kind: "rows", version: 3, rows: 20 },
  "table_with_column_mapping": { kind: "refused", feature: "columnMapping" },
  "table_with_edge_timestamps": { kind: "rows", version: 0, rows: 2, via: "pyarrow" },
  "with_checkpoint_no_last_checkpoint": { kind: "log-only", version: 3, files: 1 },
};

Deno.test("the expectation list covers every fixture table", async () => {
  const names: string[] = [];
  for await (const entry of Deno.readDir(ROOT)) if (entry.isDirectory) names.push(entry.name);
  assertEquals(names.sort(), Object.keys(EXPECTED).sort());
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  Deno.test(`fixture ${name}: ${describe(expected)}`, async () => {
    const uri = ROOT + name;
    const table = openTable(uri);
    switch (expected.kind) {
      case "rows": {
        const columns = expected.nested ? await refusesNested(table, expected.nested) : undefined;
        const theirs = await deltaRs({
          op: expected.via === "pyarrow"
            ? "read_files"
            : expected.via === "datafusion"
            ? "query"
            : "read",
          uri,
          ...(columns ? { columns } : {}),
        });
        assert(theirs.ok, `delta-rs failed: ${JSON.stringify(theirs)}`);
        if (expected.via === "pyarrow") {
          // delta-rs itself cannot cast these INT96 values to nanoseconds.
          const direct = await deltaRs({ op: "read", uri });
          assert(!direct.ok && direct.error === "ArrowInvalid", JSON.stringify(direct));
        }
        const ours = await readWithNeuralake(table, undefined, columns);
        assertEquals(ours.version, expected.version);
        assertEquals(theirs.version, expected.version);
        assertEquals(ours.rows.length, expected.rows);
        assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
        break;
      }
      case "refused": {
        const error = await assertRejects(() => readWithNeuralake(table));
        assert(error instanceof UnsupportedFeatureError, `not a feature refusal: ${error.message}`);
        assertEquals(error.feature, expected.feature);
        assert(error.message.includes(expected.feature), error.message);
        break;
      }
      case "log-only": {
        const theirs = await deltaRs({ op: "files", uri });
        assert(theirs.ok, JSON.stringify(theirs));
        const snapshot = await snapshotOf(table);
        assertEquals(snapshot.version, expected.version);
        assertEquals(theirs.version, expected.version);
        const ourFiles = [...snapshot.files.values()].map((
          a,
        ) => [decodeURIComponent(a.path), a.size]).sort();
        assertEquals(ourFiles, theirs.files);
        assertEquals(ourFiles.length, expected.files);
        // Their data files are not in the fixture: both readers must fail, not return partial rows.
        const read = await deltaRs({ op: "read", uri });
        assert(!read.ok, "delta-rs read data that should be missing");
        const columns = expected.nested ? await refusesNested(table, expected.nested) : undefined;
        await assertRejects(() => readWithNeuralake(table, undefined, columns), "not found");
        break;
      }
      case "no-table": {
        const theirs = await deltaRs({ op: "read", uri });
        assert(!theirs.ok);
        const error = await assertRejects(() => snapshotOf(table));
        assert(error instanceof TableNotFoundError, error.message);
        break;
      }
    }
  });
}

/**
 * Checks that reading every column is refused naming the nested columns, and
 * returns the table's primitive columns, which are read instead.
 */
async function refusesNested(table: Table, nested: string[]): Promise<string[]> {
  const error = await assertRejects(() => readWithNeuralake(table));
  assert(error instanceof UnsupportedFeatureError, error.message);
  assertEquals(error.feature, "nestedColumns");
  assert(error.message.includes(`"${nested[0]}"`), error.message);
  const snapshot = await snapshotOf(table);
  return snapshot.schema.fields.filter((f) => typeof f.type === "string").map((f) => f.name);
}

function describe(e: Expectation): string {
  switch (e.kind) {
    case "rows":
      return `reads the same ${e.rows} rows at version ${e.version} as ${e.via ?? "delta-rs"}${
        e.nested ? " (primitive columns; nested ones refused)" : ""
      }`;
    case "refused":
      return `is refused naming the feature ${e.feature}`;
    case "log-only":
      return `has the same ${e.files} files at version ${e.version} (data files absent)`;
    case "no-table":
      return "is not a table for either reader";
  }
}
