/**
 * Writing to tables with invariants, CHECK constraints and domain metadata:
 * every row is checked and a violating write commits nothing; a constraint
 * neuralake cannot evaluate refuses the write by name; domains survive
 * appends, compaction and checkpoints.
 */

import type { Action } from "../../src/delta/actions.ts";
import type { Field } from "../../src/columnar/batch.ts";
import { UnsupportedFeatureError } from "../../src/delta/protocol.ts";
import type { StructType } from "../../src/delta/schema.ts";
import { checkpointTable } from "../../src/ops/checkpoint.ts";
import { compactOnce } from "../../src/ops/compaction.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { writeTable } from "../../src/ops/write.ts";
import { InputError } from "../../src/util/errors.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import { batchOf, sourceOf } from "../_helpers/batches.ts";
import { cli } from "../_helpers/cli.ts";
import { writeCommit } from "../_helpers/log.ts";
import { LocalStore } from "../../src/storage/local.ts";

const FIELDS: Field[] = [
  { name: "n", type: "long", nullable: true },
  { name: "s", type: "string", nullable: true },
];

async function constrainedTable(
  constraint: string,
  extra: Action[] = [],
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "neuralake-constraints-" });
  const schema: StructType = {
    type: "struct",
    fields: [
      {
        name: "n",
        type: "long",
        nullable: true,
        metadata: { "delta.invariants": '{"expression":{"expression":"n < 100"}}' },
      },
      { name: "s", type: "string", nullable: true, metadata: {} },
    ],
  };
  // neuralake does not create tables with constraints itself: the protocol
  // and the property are set here, as an engine with checkConstraints would.
  const actions = createTableActions({ schema }).map((a): Action =>
    "protocol" in a
      ? {
        protocol: {
          minReaderVersion: 1,
          minWriterVersion: 7,
          writerFeatures: ["invariants", "checkConstraints", "domainMetadata"],
        },
      }
      : "metaData" in a
      ? {
        metaData: {
          ...a.metaData,
          configuration: { ...a.metaData.configuration, "delta.constraints.positive": constraint },
        },
      }
      : a
  );
  await writeCommit(new LocalStore(dir), 0, [...actions, ...extra]);
  return dir;
}

Deno.test("rows that satisfy every invariant and CHECK constraint are written", async () => {
  const dir = await constrainedTable("n > 0");
  const table = await openTable(dir);
  await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 1n, s: "a" }, { n: 99n, s: "b" }])));
  assertEquals((await snapshotOf(table)).version, 1);
});

Deno.test("a row that violates a CHECK constraint fails the write by name; nothing is committed", async () => {
  const dir = await constrainedTable("n > 0");
  const table = await openTable(dir);
  const error = await assertRejects(
    () => writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 3n, s: "a" }, { n: -1n, s: "b" }]))),
    'Row 2 of input violates CHECK constraint "positive" (n > 0)',
  );
  assert(error instanceof InputError);
  assertEquals((await snapshotOf(table)).version, 0);
  // Nothing was left behind: only the log is in the table directory.
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names, ["_delta_log"]);
});

Deno.test("an invariant that is false or null fails the write, naming the column", async () => {
  const dir = await constrainedTable("n > 0 OR n IS NULL");
  const table = await openTable(dir);
  await assertRejects(
    () => writeTable(table, sourceOf(batchOf(FIELDS, [{ n: 150n, s: "a" }]))),
    'violates the invariant of column "n" (n < 100)',
  );
  // n IS NULL passes the constraint but makes the invariant null: a violation.
  await assertRejects(
    () => writeTable(table, sourceOf(batchOf(FIELDS, [{ n: null, s: "a" }]))),
    'Row 1 of input violates the invariant of column "n"',
  );
  assertEquals((await snapshotOf(table)).version, 0);
});

Deno.test("a constraint beyond the predicate language refuses the write by name", async () => {
  const dir = await constrainedTable("length(s) > 0");
  const error = await assertRejects(
    async () => writeTable(await openTable(dir), sourceOf(batchOf(FIELDS, [{ n: 1n, s: "a" }]))),
    'CHECK constraint "positive" (length(s) > 0)',
  );
  assert(error instanceof UnsupportedFeatureError && error.feature === "checkConstraints");
});

Deno.test("neuralake write exits 1 naming the violated constraint and the input", async () => {
  const dir = await constrainedTable("n > 0");
  const input = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(input, '{"n": 5, "s": "x"}\n{"n": 0, "s": "y"}\n');
  const result = await cli(["write", dir, "--input", input]);
  assertEquals(result.code, 1);
  assert(result.stderr.includes('violates CHECK constraint "positive" (n > 0)'), result.stderr);
  assertEquals((await snapshotOf(await openTable(dir))).version, 0);
});

Deno.test("domain metadata survives appends, compaction and a checkpoint", async () => {
  const domain: Action = {
    domainMetadata: {
      domain: "delta.clustering",
      configuration: '{"clusteringColumns":[["n"]]}',
      removed: false,
    },
  };
  const dir = await constrainedTable("n > 0", [domain]);
  const table = await openTable(dir);
  for (let i = 1n; i <= 3n; i++) {
    await writeTable(table, sourceOf(batchOf(FIELDS, [{ n: i, s: "a" }])));
  }
  await compactOnce(table, await snapshotOf(table), { targetFileSize: 1 << 20, minFiles: 2 });
  await checkpointTable(table);
  const snapshot = await snapshotOf(await openTable(dir));
  assertEquals(snapshot.segment.checkpoint?.version, 4);
  assertEquals(snapshot.domains.get("delta.clustering"), domain.domainMetadata);
});
