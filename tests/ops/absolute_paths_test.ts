/**
 * Tables whose `add.path` is an absolute URI, which PROTOCOL.md allows (a
 * shallow clone names its source table's files so): readers follow the URI,
 * inside the table root or outside it, as delta-rs does; vacuum, which must
 * never follow such a path, refuses the table and deletes nothing.
 */

import { type Action, parseCommit } from "../../src/delta/actions.ts";
import { commitKey } from "../../src/delta/log_path.ts";
import { vacuum } from "../../src/ops/vacuum.ts";
import { openTable, snapshotOf } from "../../src/ops/table.ts";
import { LocalStore } from "../../src/storage/local.ts";
import { assert, assertEquals, assertRejects } from "../_helpers/assert.ts";
import {
  canonicalRows,
  deltaRs,
  readWithDeltaRs,
  readWithNeuralake,
} from "../_helpers/delta_rs.ts";
import { writeCommit } from "../_helpers/log.ts";

const SCHEMA = [["id", "long"], ["name", "string"]];

/** A delta-rs table of two files, and a second table that names them by absolute URIs. */
async function cloneWithAbsolutePaths(): Promise<
  { source: string; clone: string; inside: string }
> {
  const source = await Deno.makeTempDir({ prefix: "neuralake-abs-source-" });
  const clone = await Deno.makeTempDir({ prefix: "neuralake-abs clone-" });
  for (const start of [0, 10]) {
    const rows = [0, 1, 2].map((i) => ({ id: start + i, name: i === 1 ? null : `r${start + i}` }));
    const answer = await deltaRs({ op: "append", uri: source, rows, schema: SCHEMA });
    assert(answer.ok, JSON.stringify(answer));
  }
  const actions: Action[] = [];
  for (const v of [0, 1]) {
    const text = new TextDecoder().decode((await new LocalStore(source).get(commitKey(v)))!);
    actions.push(...parseCommit(text, `commit ${v}`).filter((a) => !("commitInfo" in a)));
  }
  const adds = actions.flatMap((a) => "add" in a ? [a.add] : []);
  assertEquals(adds.length, 2);
  // The first file stays in the source table; the second is copied into the clone's root.
  const inside = `copied #%? ${adds[1]!.path}`;
  await Deno.copyFile(`${source}/${adds[1]!.path}`, `${clone}/${inside}`);
  const uri = (path: string) => `file://${path.split("/").map(encodeURIComponent).join("/")}`;
  adds[0]!.path = uri(`${source}/${adds[0]!.path}`);
  adds[1]!.path = uri(`${clone}/${inside}`);
  await writeCommit(new LocalStore(clone), 0, actions);
  return { source, clone, inside };
}

Deno.test("absolute file URIs inside and outside the table root are read as delta-rs reads them", async () => {
  const { clone } = await cloneWithAbsolutePaths();
  const ours = await readWithNeuralake(await openTable(clone));
  const theirs = await readWithDeltaRs(clone, { engine: "datafusion" });
  assertEquals(ours.rows.length, 6);
  assertEquals(canonicalRows(ours.rows), canonicalRows(theirs.rows));
});

Deno.test("vacuum refuses a table with absolute file paths and deletes nothing", async () => {
  const { clone, inside } = await cloneWithAbsolutePaths();
  const table = await openTable(clone);
  await assertRejects(
    () =>
      vacuum(table.store, () => snapshotOf(table), {
        retentionMs: 0,
        allowShortRetention: true,
        now: () => Date.now() + 86_400_000,
      }),
    "is absolute",
  );
  assert((await Deno.stat(`${clone}/${inside}`)).isFile);
});
