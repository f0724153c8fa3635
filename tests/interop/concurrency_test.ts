/**
 * Many OS processes appending to one table through put-if-absent commits
 * leave contiguous versions, one per append, with every row present exactly
 * once, and delta-rs sees the same rows.
 */

import { createTable } from "../../src/ops/create.ts";
import { schemaFromFields } from "../../src/delta/schema.ts";
import { LOG_DIR, parseLogPath } from "../../src/delta/log_path.ts";
import { snapshotOf } from "../../src/ops/table.ts";
import { verifyTable } from "../../src/ops/verify.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { type Backend, localBackend, s3Backend } from "../_helpers/backends.ts";
import { canonicalRows, readWithDeltaRs, readWithNeuralake } from "../_helpers/delta_rs.ts";
import { WORKER_FIELDS } from "../_helpers/append_worker.ts";

const WORKER = new URL("../_helpers/append_worker.ts", import.meta.url).pathname;

async function concurrentAppends(backend: Backend, processes: number, appends: number) {
  const { uri, table } = await backend.newTable(`concurrent-${processes}`);
  await createTable(table, { schema: schemaFromFields(WORKER_FIELDS) });
  const rowsPerAppend = 10;
  const children = Array.from({ length: processes }, (_, p) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        WORKER,
        uri,
        `writer-${p}`,
        String(appends),
        String(rowsPerAppend),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output());
  const outputs = await Promise.all(children);
  outputs.forEach((out, p) => {
    assert(out.success, `writer-${p} failed: ${new TextDecoder().decode(out.stderr)}`);
  });

  const total = processes * appends;
  const versions: number[] = [];
  for await (const meta of table.store.list(`${LOG_DIR}/`)) {
    const parsed = parseLogPath(meta.key);
    if (parsed?.type === "commit") versions.push(parsed.version);
  }
  versions.sort((a, b) => a - b);
  assertEquals(versions, Array.from({ length: total + 1 }, (_, v) => v), "contiguous versions");

  const snapshot = await snapshotOf(table);
  for (let p = 0; p < processes; p++) {
    assertEquals(snapshot.txns.get(`writer-${p}`)?.version, appends - 1);
  }
  const ours = await readWithNeuralake(table);
  assertEquals(ours.rows.length, total * rowsPerAppend);
  const keys = new Set(ours.rows.map((r) => `${r.writer}/${r.seq}/${r.i}`));
  assertEquals(keys.size, total * rowsPerAppend, "no duplicated rows");
  const theirs = await readWithDeltaRs(uri, { storageOptions: backend.storageOptions() });
  assertEquals(theirs.version, total);
  assertEquals(canonicalRows(theirs.rows), canonicalRows(ours.rows));
  const report = await verifyTable(table);
  assert(report.passed, JSON.stringify(report.checks));
}

Deno.test("local: 4 processes x 50 appends leave 200 contiguous versions and every row once", async () => {
  await concurrentAppends(localBackend, 4, 50);
});

Deno.test("s3: 8 processes x 50 appends leave 400 contiguous versions and every row once", async () => {
  await concurrentAppends(s3Backend, 8, 50);
});
